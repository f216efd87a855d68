// evaluate --pred / --ref on folders of label files made by hand: Dice, IoU, HD95 and NSD per
// organ and file against direct computations, the empty-mask conventions in the CSV, the
// comparisons of two prediction folders (paired by file), measurements with --images, and
// the error that lists unmatched files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as nifti from '../../lib/data/nifti.js';
import { diceScores } from '../../lib/eval/dice.js';
import { boundaryScoresPerClass } from '../../lib/eval/surface.js';
import type { ExternalEvaluation } from '../../lib/pipeline/external-evaluate.js';
import { cli } from '../support/cli.js';

const NX = 24;
const NY = 20;
const SPACING: [number, number, number] = [0.8, 1.2, 3];
const affine = [
  [0.8, 0, 0, 0],
  [0, 1.2, 0, 0],
  [0, 0, 3, 0],
  [0, 0, 0, 1],
];

/** Liver, spleen and aorta boxes whose size and place vary with the subject. */
function truth(i: number): Uint8Array {
  const m = new Uint8Array(NX * NY);
  const box = (x0: number, x1: number, y0: number, y1: number, k: number) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * NX + x] = k;
  };
  box(2, 10 + (i % 3), 3, 12, 4);
  box(14, 20, 4 + (i % 2), 11, 1);
  box(11, 13, 14, 16, 6);
  return m;
}

/** Shifted right by `dx` pixels (the left column repeated). */
function shifted(m: Uint8Array, dx: number): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let y = 0; y < NY; y++) for (let x = 0; x < NX; x++) out[y * NX + x] = m[y * NX + Math.max(0, x - dx)]!;
  return out;
}

async function save(file: string, data: ArrayLike<number>): Promise<void> {
  await nifti.write(file, { data: Uint8Array.from(data), shape: [NX, NY, 1], spacing: SPACING, affine });
}

const csvRows = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));

describe('evaluate --pred / --ref: any predictions against reference labels', function () {
  let root: string;
  const N = 7;
  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'sd-external-'));
    for (const d of ['ref', 'a', 'b', 'img']) mkdirSync(path.join(root, d));
    for (let i = 0; i < N; i++) {
      const t = truth(i);
      await save(path.join(root, 'ref', `case${i}.nii.gz`), t);
      await save(path.join(root, 'a', `case${i}_seg.nii.gz`), shifted(t, 1));
      // b: shifted by 2, and the aorta missing in case 0 (HD95 missing there)
      const b = shifted(t, 2);
      if (i === 0) b.forEach((v, j) => v === 6 && (b[j] = 0));
      await save(path.join(root, 'b', `case${i}.nii.gz`), b);
      await nifti.write(path.join(root, 'img', `case${i}_0000.nii.gz`), {
        data: Float32Array.from(t, (v, j) => v * 20 + (j % 5)),
        shape: [NX, NY, 1],
        spacing: SPACING,
        affine,
      });
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('scores both folders per organ and file, compares them paired by file, and measures with --images', async () => {
    const out = path.join(root, 'out');
    const r = await cli(
      'evaluate',
      '--pred',
      path.join(root, 'a'),
      '--pred',
      path.join(root, 'b'),
      '--ref',
      path.join(root, 'ref'),
      '--images',
      path.join(root, 'img'),
      '--out',
      out,
      '--tolerance',
      '1',
    );
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as ExternalEvaluation;
    assert.deepEqual(
      json.predictions.map((p) => p.name),
      ['a', 'b'],
    );
    assert.equal(json.toleranceMm, 1);

    // metrics.csv against direct computations on the arrays
    const rows = csvRows(path.join(out, 'metrics.csv'));
    assert.deepEqual(rows[0], ['predictions', 'subject', 'organ', 'dice', 'iou', 'hd95_mm', 'nsd']);
    for (const [arm, dx] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      for (let i = 0; i < N; i++) {
        const t = truth(i);
        const p = shifted(t, dx);
        if (arm === 'b' && i === 0) p.forEach((v, j) => v === 6 && (p[j] = 0));
        const dice = diceScores(p, t, 7);
        const b = boundaryScoresPerClass(p, t, { shape: [NX, NY], spacing: [Math.fround(0.8), Math.fround(1.2)] }, [1, 2, 3, 4, 5, 6], 1);
        ['spleen', 'right kidney', 'left kidney', 'liver', 'stomach', 'aorta'].forEach((organ, k) => {
          const row = rows.find((x) => x[0] === arm && x[1] === `case${i}` && x[2] === organ)!;
          const num = (s: string) => (s === '' ? null : Number(s));
          assert.equal(num(row[3]!), dice[k]);
          assert.equal(num(row[5]!), b[k]!.hd95);
          assert.equal(num(row[6]!), b[k]!.nsd);
          if (dice[k] !== null) assert.ok(Math.abs(num(row[4]!)! - dice[k]! / (2 - dice[k]!)) < 1e-12);
        });
      }
    }
    // a shift of 1 pixel along x (0.8 mm): HD95 one pixel, every surface point within 1 mm
    const liverA = rows.find((x) => x[0] === 'a' && x[1] === 'case0' && x[2] === 'liver')!;
    assert.equal(Number(liverA[5]), Math.fround(0.8), 'the spacing as the file stores it (float32)');
    assert.equal(Number(liverA[6]), 1);
    // the missing aorta: Dice 0, HD95 missing (empty, not 0 or inf), NSD 0; absent organs: all empty
    const aortaB = rows.find((x) => x[0] === 'b' && x[1] === 'case0' && x[2] === 'aorta')!;
    assert.deepEqual(aortaB.slice(3), ['0', '0', '', '0']);
    const kidney = rows.find((x) => x[0] === 'b' && x[1] === 'case0' && x[2] === 'left kidney')!;
    assert.deepEqual(kidney.slice(3), ['', '', '', '']);
    const summary = csvRows(path.join(out, 'summary.csv'));
    const aortaSummary = summary.find((x) => x[0] === 'b' && x[1] === 'aorta')!;
    assert.equal(aortaSummary[5], String(N - 1), 'n_hd95');
    assert.equal(aortaSummary[6], '1', 'hd95_missing');

    // b against a, paired by file, on Dice and on NSD
    const comparisons = json.comparisons;
    const avg = comparisons.find((c) => c.metric === 'dice' && c.organ === 'average')!;
    assert.equal(avg.variant, 'b');
    assert.equal(avg.baseline, 'a');
    assert.equal(avg.n, N);
    assert.ok(avg.meanDiff! < 0 && avg.ci95![1] < 0, 'a shift of 2 pixels is worse than one');
    assert.ok(avg.p !== null && avg.pHolm! >= avg.p);
    assert.ok(comparisons.some((c) => c.metric === 'nsd' && c.organ === 'liver' && c.n === N));
    assert.equal(csvRows(path.join(out, 'comparisons.csv'))[0]![0], 'metric');

    // measurements: the reference's liver pixels and area in case 0
    const m = csvRows(path.join(out, 'measurements.csv'));
    const liverRef = m.find((x) => x[0] === 'case0' && x[1] === 'reference' && x[4] === 'liver')!;
    assert.equal(Number(liverRef[5]), 8 * 9);
    assert.ok(Math.abs(Number(liverRef[6]) - 72 * Math.fround(0.8) * Math.fround(1.2)) < 1e-9);
    assert.ok(m.some((x) => x[0] === 'case0' && x[1] === 'b' && x[4] === 'liver'));
  });

  it('lists unmatched files, and rejects labels outside the seven classes naming the file', async () => {
    mkdirSync(path.join(root, 'partial'));
    await save(path.join(root, 'partial', 'case1_seg.nii.gz'), truth(1));
    await save(path.join(root, 'partial', 'extra.nii.gz'), truth(2));
    const r = await cli('evaluate', '--pred', path.join(root, 'partial'), '--ref', path.join(root, 'ref'), '--out', path.join(root, 'o2'));
    assert.notEqual(r.code, 0);
    assert.match(r.err, /1 file\(s\) in \S*partial without a match in \S*ref: extra\.nii\.gz/);
    assert.match(r.err, /6 file\(s\) in \S*ref without a match in \S*partial: case0\.nii\.gz, case2\.nii\.gz/);

    mkdirSync(path.join(root, 'bad'));
    for (let i = 0; i < N; i++) await save(path.join(root, 'bad', `case${i}.nii.gz`), i === 3 ? truth(i).map((v) => (v === 4 ? 9 : v)) : truth(i));
    const bad = await cli('evaluate', '--pred', path.join(root, 'bad'), '--ref', path.join(root, 'ref'), '--out', path.join(root, 'o3'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /bad\/case3\.nii\.gz: voxel \d+ holds 9, not a class id 0\.\.6/);
    const usage = await cli('evaluate', '--pred', path.join(root, 'a'), '--out', path.join(root, 'o4'));
    assert.match(usage.err, /--pred needs --ref DIR and --out DIR/);
  });
});
