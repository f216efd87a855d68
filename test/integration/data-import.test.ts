// Getting data in: import nnunet / totalsegmentator on small folders made here, make-slices and
// validate (also on the real scans where present), the config's preset sizes and the
// teacher's data warnings, --version.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertValidDataset, loadDataset, validateDataset } from '../../lib/data/dataset.js';
import { classOfName } from '../../lib/data/labels.js';
import * as nifti from '../../lib/data/nifti.js';
import { ConfigError } from '../../lib/pipeline/config-schema.js';
import { resolveConfig } from '../../lib/pipeline/config.js';
import { teacherDataWarnings } from '../../lib/pipeline/data-warnings.js';
import { cli } from '../support/cli.js';
import { REPO_ROOT } from '../support/paths.js';

const REAL = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'real-ct');
const AFFINE = [
  [-1.5, 0, 0, 30],
  [0, -1.5, 0, 20],
  [0, 0, 2, -10],
  [0, 0, 0, 1],
];
const SHAPE: [number, number, number] = [8, 6, 5];

/** A small volume: CT ramp, and labels with value `ids[k]` on slice k (0 = nothing). */
function writeCase(image: string, label: string, ids: number[]): void {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  nifti.writeSync(image, { data: Int16Array.from({ length: n }, (_, i) => (i % 400) - 200), shape: SHAPE, spacing: [1.5, 1.5, 2], affine: AFFINE });
  const lab = new Uint8Array(n);
  ids.forEach((v, k) => lab.fill(v, k * 48 + 10, k * 48 + 20));
  nifti.writeSync(label, { data: lab, shape: SHAPE, spacing: [1.5, 1.5, 2], affine: AFFINE });
}

describe('import, make-slices, validate', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'sd-import-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('structure names map to classes however they are spelt', () => {
    assert.deepEqual(['spleen', 'Kidney (right)', 'right_kidney', 'RightKidney', 'kidney_left', 'Liver', 'stomach', 'aorta', 'gallbladder'].map(classOfName), [
      1,
      2,
      2,
      2,
      3,
      4,
      5,
      6,
      null,
    ]);
  });

  it('import nnunet: labels by name through the label map, other structures background; validated', async () => {
    const src = path.join(dir, 'Dataset099_Abd');
    mkdirSync(path.join(src, 'imagesTr'), { recursive: true });
    mkdirSync(path.join(src, 'labelsTr'));
    // nnU-Net v2 ids: gallbladder (4) is none of ours; liver is 5 here, aorta 3
    writeFileSync(
      path.join(src, 'dataset.json'),
      JSON.stringify({
        channel_names: { 0: 'CT' },
        labels: { background: 0, spleen: 1, kidney_right: 2, aorta: 3, gallbladder: 4, liver: 5 },
        numTraining: 2,
        file_ending: '.nii.gz',
      }),
    );
    for (const c of ['abd_001', 'abd_002'])
      writeCase(path.join(src, 'imagesTr', `${c}_0000.nii.gz`), path.join(src, 'labelsTr', `${c}.nii.gz`), [1, 2, 3, 4, 5]);
    // nnU-Net's own dataset.json is not ours: rejected, which is why import exists
    await assert.rejects(loadDataset(src), /unknown key/);
    const out = path.join(dir, 'ours');
    const r = await cli('import', 'nnunet', src, '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /background: gallbladder/);
    const ds = await loadDataset(out);
    assert.equal(ds.volumes.length, 2);
    assert.deepEqual(
      ds.volumes.map((v) => v.subject),
      ['abd_001', 'abd_002'],
    );
    const report = await assertValidDataset(ds);
    // slices 0..4 hold source ids 1..5 -> spleen, right kidney, aorta, background, liver
    assert.deepEqual(report.volumes[0]!.counts, [SHAPE[0] * SHAPE[1] * SHAPE[2] - 40, 10, 10, 0, 10, 0, 10]);
    assert.equal((await cli('import', 'nnunet', src, '--out', src)).code, 2);
  });

  it('import totalsegmentator: per-structure masks merged on the CT grid; --ml with v1 ids (aorta 7)', async () => {
    const src = path.join(dir, 'ts');
    for (const s of ['s01', 's02']) {
      mkdirSync(path.join(src, s, 'segmentations'), { recursive: true });
      writeCase(path.join(src, s, 'ct.nii.gz'), path.join(src, s, 'unused.nii.gz'), []);
      const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
      for (const [k, stem] of ['spleen', 'kidney_right', 'kidney_left', 'liver', 'stomach', 'aorta', 'gallbladder'].entries()) {
        const m = new Uint8Array(n);
        m.fill(1, k * 30, k * 30 + 7);
        nifti.writeSync(path.join(src, s, 'segmentations', `${stem}.nii.gz`), { data: m, shape: SHAPE, spacing: [1.5, 1.5, 2], affine: AFFINE });
      }
      // TotalSegmentator --ml, v1 ids: 1 spleen, 2 / 3 kidneys, 5 liver, 6 stomach, 7 aorta, 4 gallbladder
      const ml = new Uint8Array(n);
      [1, 2, 3, 5, 6, 7, 4].forEach((id, k) => ml.fill(id, k * 30, k * 30 + 7));
      nifti.writeSync(path.join(src, s, 'segmentations.nii.gz'), { data: ml, shape: SHAPE, spacing: [1.5, 1.5, 2], affine: AFFINE });
    }
    const want = [SHAPE[0] * SHAPE[1] * SHAPE[2] - 42, 7, 7, 7, 7, 7, 7];
    const masks = path.join(dir, 'from-masks');
    const r = await cli('import', 'totalsegmentator', src, '--out', masks);
    assert.equal(r.code, 0, r.err);
    const a = await assertValidDataset(await loadDataset(masks));
    assert.deepEqual(
      a.volumes.map((v) => v.counts),
      [want, want],
    );
    const merged = await nifti.read(path.join(masks, 'labels', 's01.nii.gz'), { orientation: 'native' });
    assert.deepEqual(merged.affine, AFFINE);
    const ml = path.join(dir, 'from-ml');
    assert.equal((await cli('import', 'totalsegmentator', src, '--ml', '--ids', 'v1', '--out', ml)).code, 0);
    assert.deepEqual(
      (await assertValidDataset(await loadDataset(ml))).volumes.map((v) => v.counts),
      [want, want],
    );
    // read with v2 ids the aorta (7) would be background: counts differ, so the ids matter
    const v2 = path.join(dir, 'from-ml-v2');
    assert.equal((await cli('import', 'totalsegmentator', src, '--ml', '--out', v2)).code, 0);
    assert.notDeepEqual((await assertValidDataset(await loadDataset(v2))).volumes[0]!.counts, want);
  });

  it('make-slices and validate: slices of one scan under one subject; validate exits 1 listing every problem', async () => {
    writeCase(path.join(dir, 'a.nii.gz'), path.join(dir, 'a_seg.nii.gz'), [0, 2, 3, 2, 0]);
    const out = path.join(dir, 'slices');
    const r = await cli('make-slices', '--volumes', `${path.join(dir, 'a.nii.gz')},${path.join(dir, 'a_seg.nii.gz')}`, '--kidney-level', '2', '--out', out);
    assert.equal(r.code, 0, r.err);
    const ds = await loadDataset(out);
    assert.deepEqual(
      ds.slices.map((s) => [s.subject, s.level]),
      [
        ['a', 'z1'],
        ['a', 'z3'],
      ],
    ); // centres of two halves of kidney slices 1..3
    const one = await nifti.read(ds.slices[1]!.image, { orientation: 'native' });
    assert.deepEqual(one.shape, [8, 6, 1]);
    // written in RAS order: x and y of the L-P-stored volume flipped (origin at its last voxel), z moved to slice 3
    assert.deepEqual(
      one.affine.map((row) => row[3]),
      [30 - 1.5 * 7, 20 - 1.5 * 5, -10 + 2 * 3, 1],
    );
    assert.equal((await cli('validate', out)).code, 0);
    // break two entries: validate lists both and exits 1
    const json = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'));
    json.slices[0].label = 'missing.nii.gz';
    json.slices[1].image = 'gone.nii.gz';
    writeFileSync(path.join(out, 'dataset.json'), JSON.stringify(json));
    const v = await cli('validate', out);
    assert.equal(v.code, 1);
    assert.match(v.err, /2 problems/);
    assert.match(v.err, /missing\.nii\.gz/);
    assert.match(v.err, /gone\.nii\.gz/);
  });

  it('a coronal 2D NIfTI listed as a slice is a validation problem', async () => {
    const file = path.join(dir, 'cor.nii.gz');
    const cor = [
      [1, 0, 0, 0],
      [0, 0, 1, 0],
      [0, -1, 0, 0],
      [0, 0, 0, 1],
    ]; // second axis runs inferior, third anterior
    nifti.writeSync(file, { data: new Int16Array(40), shape: [8, 5, 1], spacing: [1, 1, 1], affine: cor });
    writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ labelMap: { 1: 1 }, slices: [{ image: 'cor.nii.gz', label: 'cor.nii.gz', subject: 'x' }] }));
    await assert.rejects(loadDataset(dir), /also used by/); // one file as image and label
    writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ labelMap: { 1: 1 }, slices: [{ image: 'cor.nii.gz', subject: 'x' }] }));
    const report = await validateDataset(await loadDataset(dir), { requireLabels: false });
    assert.match(report.problems.map((p) => p.message).join('\n'), /coronal single slice/);
  });

  it('on the real scans: make-slices at the kidneys, then validate', async function () {
    if (!existsSync(path.join(REAL, 'caseA_seg6.nii.gz'))) {
      console.log('    (skipped: ../shared/data/real-ct is absent)');
      this.skip();
    }
    const out = path.join(dir, 'real-slices');
    const r = await cli(
      'make-slices',
      '--volumes',
      `${REAL}/caseA_ct_int16.nii.gz,${REAL}/caseA_seg6.nii.gz`,
      '--volumes',
      `${REAL}/caseB_ct_int16_256.nii.gz,${REAL}/caseB_seg6_256.nii.gz`,
      '--z',
      '5:8',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.err);
    const k = await cli(
      'make-slices',
      '--volumes',
      `${REAL}/caseA_ct_int16.nii.gz,${REAL}/caseA_seg6.nii.gz`,
      '--kidney-level',
      '3',
      '--out',
      path.join(dir, 'kid'),
    );
    assert.equal(k.code, 0, k.err);
    const kid = await assertValidDataset(await loadDataset(path.join(dir, 'kid')));
    assert.equal(kid.slices.length, 3);
    for (const s of kid.slices) assert.ok(s.counts![2]! + s.counts![3]! > 0, 'a kidney-level slice without a kidney');
    // case B has no kidneys: --kidney-level refuses it, naming the file
    const b = await cli(
      'make-slices',
      '--volumes',
      `${REAL}/caseB_ct_int16_256.nii.gz,${REAL}/caseB_seg6_256.nii.gz`,
      '--kidney-level',
      '1',
      '--out',
      path.join(dir, 'nokid'),
    );
    assert.equal(b.code, 1);
    assert.match(b.err, /caseB_seg6_256\.nii\.gz: no kidney/);
    const v = await cli('validate', out);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /slices: 6 entries, 2 subjects/);
    assert.match(v.out, /256 x 256 x 1/);
  });
});

describe('config: preset sizes, data warnings, --version', function () {
  it('teacher.roi and student.size follow the presets; a size that does not fit fails naming the key', () => {
    const tiny = resolveConfig({ dataset: 'd', runDir: 'r', teacher: { preset: 'tiny' }, student: { preset: 'tiny', arch: 'swin_unet' } }, '/');
    assert.deepEqual(tiny.teacher.roi, [64, 64, 64]);
    assert.equal(tiny.student.size, 64);
    const base = resolveConfig({ dataset: 'd', runDir: 'r' }, '/');
    assert.deepEqual(base.teacher.roi, [96, 96, 96]);
    assert.equal(base.student.size, 224);
    assert.throws(
      () => resolveConfig({ dataset: 'd', runDir: 'r', teacher: { preset: 'tiny', roi: [96, 96, 96] } }, '/'),
      (e: Error) => e instanceof ConfigError && /teacher\.roi: \[96, 96, 96\] does not fit teacher\.preset 'tiny'/.test(e.message),
    );
    assert.throws(
      () => resolveConfig({ dataset: 'd', runDir: 'r', student: { preset: 'tiny', arch: 'missformer', size: 224 } }, '/'),
      /student\.size: 224 does not fit missformer/,
    );
    // DeepLabv3 takes any size; a given teacher model is not checked
    assert.equal(resolveConfig({ dataset: 'd', runDir: 'r', student: { preset: 'tiny', size: 96 } }, '/').student.size, 96);
    assert.deepEqual(resolveConfig({ dataset: 'd', runDir: 'r', teacher: { model: 'x.pt', roi: [32, 32, 32] } }, '/').teacher.roi, [32, 32, 32]);
  });

  it('the shipped examples/cpu-tiny.json resolves', async () => {
    const { loadConfig } = await import('../../lib/pipeline/config.js');
    const c = await loadConfig(path.join(REPO_ROOT, 'examples', 'cpu-tiny.json'));
    assert.equal(c.teacher.preset, 'tiny');
    assert.deepEqual(c.teacher.roi, [64, 64, 64]);
  });

  it('warns when the teacher never sees a class, and when a split holds one volume subject', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-warn-'));
    try {
      writeCase(path.join(dir, 'a.nii.gz'), path.join(dir, 'a_seg.nii.gz'), [1, 2, 3, 4]);
      writeCase(path.join(dir, 'b.nii.gz'), path.join(dir, 'b_seg.nii.gz'), [1, 4, 5, 6]);
      writeCase(path.join(dir, 'c.nii.gz'), path.join(dir, 'c_seg.nii.gz'), [1, 4, 5, 6]);
      writeFileSync(
        path.join(dir, 'dataset.json'),
        JSON.stringify({
          labelMap: { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6 },
          volumes: ['a', 'b', 'c'].map((s) => ({ image: `${s}.nii.gz`, label: `${s}_seg.nii.gz`, subject: s })),
        }),
      );
      const ds = await loadDataset(dir);
      const report = await assertValidDataset(ds);
      // valFraction 0.34 of 3: one held out; find a seed that holds out 'a' (the only one with kidneys)
      let seed = 0;
      const { volumeSplit } = await import('../../lib/pipeline/context.js');
      while (!volumeSplit(resolveConfig({ dataset: dir, runDir: 'r', seed, teacher: { valFraction: 0.34 } }, '/'), ds).val.includes('a')) seed++;
      const w = teacherDataWarnings(resolveConfig({ dataset: dir, runDir: 'r', seed, teacher: { valFraction: 0.34 } }, '/'), ds, report);
      assert.equal(w.length, 2, w.join('\n'));
      assert.match(w[0]!, /never show right kidney \(2\), left kidney \(3\)/);
      assert.match(w[1]!, /leaves one volume subject \(a\)/);
      // valFraction 0: trains on all three, no warning
      assert.deepEqual(teacherDataWarnings(resolveConfig({ dataset: dir, runDir: 'r', teacher: { valFraction: 0 } }, '/'), ds, report), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--version prints the package version', async () => {
    const r = await cli('--version');
    assert.equal(r.code, 0);
    assert.equal(r.out.trim(), `slice-distill ${JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version}`);
  });
});
