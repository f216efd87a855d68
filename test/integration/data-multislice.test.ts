// Several single slices per subject (1 to 4 here, as the paper's 796 slices of 707 subjects):
// dataset.json accepts them, splits / low-data subsets / the training loader keep a subject's
// slices together, and test and validation Dice pool them per subject (hand-computed numbers,
// false positives in mm2 from anisotropic pixel spacing).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset, validateDataset, type Dataset } from '../../lib/data/dataset.js';
import { DatasetError } from '../../lib/data/errors.js';
import * as nifti from '../../lib/data/nifti.js';
import { entriesOf } from '../../lib/data/splits.js';
import { subjectMean, type SubjectDice } from '../../lib/eval/dice.js';
import type { ScriptModule } from '../../lib/module/script-module.js';
import { resolveConfig, type PipelineConfig } from '../../lib/pipeline/config.js';
import { sliceSplit } from '../../lib/pipeline/context.js';
import { loadModel } from '../../lib/pipeline/models.js';
import { evaluate } from '../../lib/pipeline/stages/evaluate.js';
import { exportModel } from '../../lib/models/export.js';
import { prepareSlices, segmentSlices, slicePipeline, sliceRefs, subjectDice, type PreparedSlice } from '../../lib/infer/slices.js';
import { studentData } from '../../lib/pipeline/stages/student.js';
import { tensor } from '../../lib/tensor/factories.js';
import { tempDir } from '../support/data-fixtures.js';
import { projectPython } from '../support/python.js';

const N = 8; // slices are N x N, the students' size too (no resizing of predictions)
const COUNTS = [1, 2, 3, 4, 1, 2, 3, 4, 2, 3, 1, 4]; // slices per subject p0..p11
/** In-plane spacing [x, y] mm: anisotropic, and different between subjects. */
const spacingOf = (count: number): [number, number] => (count === 4 ? [0.6, 1.4] : count === 1 ? [0.8, 0.5] : [0.7, 0.9]);
const LIVER = 4;
const SPLEEN = 1;
const KIDNEY = 2;

/** Truth of slice m: liver on rows 0-1 (16 px), spleen on row 3 x 0..3 when m is even, right kidney on row 5 x 0..2 from m = 1. */
function truthOf(m: number): Uint8Array {
  const t = new Uint8Array(N * N);
  for (let i = 0; i < 2 * N; i++) t[i] = LIVER;
  if (m % 2 === 0) for (let x = 0; x < 4; x++) t[3 * N + x] = SPLEEN;
  if (m >= 1) for (let x = 0; x < 3; x++) t[5 * N + x] = KIDNEY;
  return t;
}

/** A made-up prediction of slice m: misses m + 1 liver pixels, predicts spleen on row 7 x 0..2 where the truth has none, and one kidney pixel too many. */
function predictionOf(truth: Uint8Array, m: number): Uint8Array {
  const p = truth.slice();
  let missed = 0;
  for (let i = 0; i < p.length && missed < m + 1; i++)
    if (p[i] === LIVER) {
      p[i] = 0;
      missed++;
    }
  if (!truth.includes(SPLEEN)) for (let x = 0; x < 3; x++) p[7 * N + x] = SPLEEN;
  p[5 * N + 7] = KIDNEY;
  return p;
}

/** The reference: Dice per organ 1..6 pooled by explicit loops, either over every slice or only those whose truth holds the organ. */
function handPooled(slices: { truth: Uint8Array; prediction: Uint8Array }[], policy: 'present' | 'union'): (number | null)[] {
  return [1, 2, 3, 4, 5, 6].map((k) => {
    let both = 0;
    let sizes = 0;
    for (const { truth, prediction } of slices) {
      if (policy === 'present' && !truth.includes(k)) continue;
      for (let i = 0; i < truth.length; i++) {
        if (truth[i] === k && prediction[i] === k) both++;
        sizes += (truth[i] === k ? 1 : 0) + (prediction[i] === k ? 1 : 0);
      }
    }
    return sizes === 0 ? null : (2 * both) / sizes;
  });
}

const sliceIndex = (s: PreparedSlice): number => Number(/_(\d+)\.nii\.gz$/.exec(s.ref.image)![1]);

describe('data: several single slices per subject', function () {
  let tmp: ReturnType<typeof tempDir>;
  let dataset: Dataset;
  let config: PipelineConfig;
  let entries: { image: string; label: string; subject: string }[];

  before(async () => {
    tmp = tempDir('slice-distill-multislice-');
    mkdirSync(path.join(tmp.dir, 'img'));
    entries = [];
    for (const [s, count] of COUNTS.entries()) {
      const [sx, sy] = spacingOf(count);
      const affine = [
        [sx, 0, 0, 0],
        [0, sy, 0, 0],
        [0, 0, 5, 5 * s],
        [0, 0, 0, 1],
      ];
      for (let m = 0; m < count; m++) {
        const image = `img/p${s}_${m}.nii.gz`;
        const label = `img/p${s}_${m}_seg.nii.gz`;
        const hu = new Int16Array(N * N).map((_, i) => ((i * 37 + m * 11 + s) % 400) - 200);
        await nifti.write(path.join(tmp.dir, image), { data: hu, shape: [N, N, 1], spacing: [sx, sy, 5], affine });
        await nifti.write(path.join(tmp.dir, label), { data: truthOf(m), shape: [N, N, 1], spacing: [sx, sy, 5], affine });
        entries.push({ image, label, subject: `p${s}` });
      }
    }
    writeFileSync(path.join(tmp.dir, 'dataset.json'), JSON.stringify({ labelMap: { '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6 }, slices: entries }));
    dataset = await loadDataset(tmp.dir);
    config = resolveConfig(
      {
        dataset: tmp.dir,
        runDir: path.join(tmp.dir, 'run'),
        workers: 0,
        seed: 3,
        split: { train: 6, val: 3, test: 3 },
        student: { size: N, batchSize: 6, preset: 'tiny', augment: false },
      },
      tmp.dir,
    );
  });
  after(() => tmp?.cleanup());

  it('dataset.json: 1 to 4 slices per subject load and validate; the same image listed twice is still refused', async () => {
    assert.equal(
      dataset.slices.length,
      COUNTS.reduce((a, b) => a + b, 0),
    );
    assert.equal(entriesOf(dataset.slices, ['p3']).length, 4);
    assert.deepEqual((await validateDataset(dataset)).problems, []);
    const twice = [...entries, { ...entries[5]!, subject: 'p99' }];
    writeFileSync(path.join(tmp.dir, 'twice.json'), JSON.stringify({ labelMap: { '4': 4 }, slices: twice }));
    await assert.rejects(loadDataset(path.join(tmp.dir, 'twice.json')), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      const text = e.problems.map((p) => `${p.where}: ${p.message}`).join('\n');
      assert.match(text, new RegExp(`slices\\[${entries.length}\\]\\.image: img/p2_2\\.nii\\.gz is also used by slices\\[5\\]\\.image`));
      assert.equal(e.problems.length, 2, text); // its label too
      return true;
    });
  });

  it('splits and low-data subsets go by subject: no subject in two parts, all of its slices together', () => {
    const split = sliceSplit(config, dataset);
    const parts = [split.train, split.val, split.test];
    assert.deepEqual(
      parts.map((p) => p.length),
      [6, 3, 3],
    );
    const owner = new Map<string, number>();
    parts.forEach((p, i) => p.forEach((s) => (assert.ok(!owner.has(s), `${s} in two parts`), owner.set(s, i))));
    // every slice lands in its subject's part, and the parts cover every slice
    const sliced = parts.map((p) => sliceRefs(dataset, p));
    assert.equal(sliced.flat().length, dataset.slices.length);
    sliced.forEach((refs, i) => refs.forEach((r) => assert.equal(owner.get(r.subject), i, r.image)));
    // the slices outnumber the subjects, so counting slices instead would give other sizes
    assert.ok(sliced[0]!.length > split.train.length);

    const small = sliceSplit(config, dataset, 2).used;
    const large = sliceSplit(config, dataset, 4).used;
    assert.deepEqual([small.length, large.length], [2, 4]);
    assert.ok(small.every((s) => large.includes(s)) && large.every((s) => split.train.includes(s)), 'nested subsets of the training subjects');
    const used = new Set(small);
    assert.deepEqual(
      sliceRefs(dataset, small).map((r) => r.image),
      dataset.slices.filter((e) => used.has(e.subject)).map((e) => e.image),
    );
  });

  it('the training loader: one item per slice of the used subjects, batches counted in slices', async () => {
    const { split, loader } = studentData(config, dataset, 4);
    try {
      const expected = dataset.slices.filter((e) => split.used.includes(e.subject)).map((e) => e.image);
      assert.deepEqual(
        loader.items.map((r) => r.image),
        expected,
      );
      assert.ok(expected.length > split.used.length);
      assert.equal(loader.batchSize, Math.min(6, expected.length));
      const drawn = loader.plan(0).flatMap((j) => j.refs.map((r) => r.image));
      assert.equal(new Set(drawn).size, loader.dropLast ? drawn.length : expected.length);
    } finally {
      await loader.close();
    }
  });

  it('test Dice per subject equals the hand-pooled values under both policies; false positives in slices and mm2', () => {
    const slices = prepareSlices(
      slicePipeline(dataset),
      sliceRefs(
        dataset,
        dataset.slices.map((e) => e.subject),
      ),
      N,
    );
    // NIfTI stores spacing as float32: the pixel areas by hand use the same values
    const [y4, x4] = [Math.fround(1.4), Math.fround(0.6)];
    assert.deepEqual(slices.find((s) => s.ref.subject === 'p3')!.spacing, [y4, x4], '[H, W] = [y, x]');
    const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;
    const predictions = slices.map((s) => predictionOf(s.label!, sliceIndex(s)));
    const present = subjectDice(slices, predictions, 'present');
    const union = subjectDice(slices, predictions, 'union');
    assert.deepEqual(
      present.map((s) => [s.subject, s.slices]),
      COUNTS.map((c, i) => [`p${i}`, c]),
    );

    // p3: 4 slices of 0.6 x 1.4 mm (0.84 mm2 a pixel)
    const p3 = present.find((s) => s.subject === 'p3')!;
    const u3 = union.find((s) => s.subject === 'p3')!;
    // spleen: truth on m = 0, 2 (4 px each, predicted exactly) -> 1; on m = 1, 3 predicted on 3 px: 2 slices, 6 x 0.84 mm2
    // union: |P∩T| 8, |P| 8 + 6, |T| 8 -> 16 / 22
    assert.equal(p3.dice[0], 1);
    assert.equal(u3.dice[0], 16 / 22);
    assert.equal(p3.falsePositives![0]!.slices, 2);
    assert.ok(near(p3.falsePositives![0]!.areaMm2, 6 * y4 * x4), String(p3.falsePositives![0]!.areaMm2));
    assert.ok(Math.abs(p3.falsePositives![0]!.areaMm2 - 5.04) < 1e-6);
    // right kidney: truth on m = 1..3 (3 px each), predicted 4 px each -> 18 / 21; m = 0: 1 slice, 1 px = 0.84 mm2; union 18 / 22
    assert.ok(Math.abs(p3.dice[1]! - 18 / 21) < 1e-12);
    assert.ok(Math.abs(u3.dice[1]! - 18 / 22) < 1e-12);
    assert.equal(p3.falsePositives![1]!.slices, 1);
    assert.ok(near(p3.falsePositives![1]!.areaMm2, y4 * x4));
    // liver: |T| 64, |P| = |P∩T| = 64 - (1 + 2 + 3 + 4) -> 108 / 118 under both; organs never present: null
    assert.ok(Math.abs(p3.dice[3]! - 108 / 118) < 1e-12 && Math.abs(u3.dice[3]! - 108 / 118) < 1e-12);
    assert.deepEqual([p3.dice[2], p3.dice[4], p3.dice[5]], [null, null, null]);
    assert.ok(Math.abs(subjectMean(p3.dice)! - (1 + 18 / 21 + 108 / 118) / 3) < 1e-12);
    // p0: one slice of 0.8 x 0.5 mm; kidney absent from its truth but predicted on 1 px: null (0.4 mm2 apart) / 0 under union
    const p0 = present.find((s) => s.subject === 'p0')!;
    assert.equal(p0.dice[1], null);
    assert.equal(union.find((s) => s.subject === 'p0')!.dice[1], 0);
    assert.ok(near(p0.falsePositives![1]!.areaMm2, Math.fround(0.8) * Math.fround(0.5)));
    assert.equal(p0.falsePositives![1]!.slices, 1);

    // every subject against explicit loops over its slices
    for (const [policy, scores] of [
      ['present', present],
      ['union', union],
    ] as const) {
      for (const s of scores) {
        const own = slices.map((x, i) => ({ x, prediction: predictions[i]! })).filter((o) => o.x.ref.subject === s.subject);
        const expected = handPooled(
          own.map((o) => ({ truth: o.x.label!, prediction: o.prediction })),
          policy,
        );
        expected.forEach((v, k) =>
          assert.ok(v === null ? s.dice[k] === null : Math.abs(s.dice[k]! - v) < 1e-12, `${policy} ${s.subject} organ ${k + 1}: ${s.dice[k]} vs ${v}`),
        );
      }
    }
  });

  it('validation Dice during training: the mean over validation subjects of their pooled Dice, under evaluation.policy', async () => {
    const split = sliceSplit(config, dataset);
    const val = prepareSlices(slicePipeline(dataset), sliceRefs(dataset, split.val), N);
    assert.ok(val.length > split.val.length, 'some validation subject has several slices');
    const predictions = val.map((s) => predictionOf(s.label!, sliceIndex(s)));
    // a stand-in student giving these predictions, in the order the slices are segmented
    let next = 0;
    const module = {
      device: 'cpu',
      forwardAsync: async (input: { shape: number[] }) => {
        const n = input.shape[0]!;
        const logits = new Float32Array(n * 7 * N * N);
        for (let b = 0; b < n; b++) predictions[next++]!.forEach((k, i) => (logits[(b * 7 + k) * N * N + i] = 10));
        return tensor(logits, [n, 7, N, N]);
      },
    } as unknown as ScriptModule;
    const expected = (policy: 'present' | 'union'): number => {
      const means = split.val.map((subject) => {
        const own = val.map((s, i) => ({ truth: s.label!, prediction: predictions[i]!, subject: s.ref.subject })).filter((o) => o.subject === subject);
        return subjectMean(handPooled(own, policy))!;
      });
      return means.reduce((a, b) => a + b, 0) / means.length;
    };
    const perSlice = (() => {
      const scores: SubjectDice[] = val.map((s, i) => ({
        subject: s.ref.subject,
        dice: handPooled([{ truth: s.label!, prediction: predictions[i]! }], 'union'),
      }));
      const m = scores.map((s) => subjectMean(s.dice)!);
      return m.reduce((a, b) => a + b, 0) / m.length;
    })();
    for (const policy of ['present', 'union'] as const) {
      next = 0;
      const { validate, loader } = studentData({ ...config, evaluation: { policy } }, dataset, undefined);
      await loader.close();
      const { valDice } = await validate!(module);
      assert.equal(next, val.length, 'every validation slice segmented once');
      assert.ok(Math.abs(valDice! - expected(policy)) < 1e-12, `${policy}: ${valDice} vs ${expected(policy)}`);
      assert.ok(Math.abs(valDice! - perSlice) > 1e-6, 'not the mean over slices');
    }
    assert.notEqual(expected('present'), expected('union'));
  });

  it('evaluate: results.json per subject with slices and false positives, its policy recorded; a changed policy scores again', async function () {
    if (!projectPython()) this.skip(); // a tiny exported student is needed
    const model = path.join(tmp.dir, 'student.pt');
    await exportModel({ arch: 'deeplabv3', preset: 'tiny', out: model, seed: 2 });
    const quiet = { progress: 'none' as const, log: () => {} };
    const scored = { ...config, student: { ...config.student, size: 32 } };
    const models = [{ model: 'DeepLabv3', variant: 'none', checkpoint: model }];
    const test = sliceSplit(scored, dataset).test;
    const slices = prepareSlices(slicePipeline(dataset), sliceRefs(dataset, test), 32);
    const predictions = await segmentSlices((await loadModel(model)).eval(), slices, 32);
    for (const policy of ['present', 'union'] as const) {
      const r = await evaluate({ ...scored, evaluation: { policy } }, models, quiet);
      assert.equal(r.reused, false, `${policy}: scored, not reused`);
      const file = JSON.parse(readFileSync(r.file, 'utf8')) as { policy: string; results: { perSubject: SubjectDice[] }[] };
      assert.equal(file.policy, policy);
      // Dice, slices and false positives as scored by hand (the boundary metrics are tested apart)
      const got = file.results[0]!.perSubject.map((r) => ({ subject: r.subject, dice: r.dice, slices: r.slices, falsePositives: r.falsePositives }));
      const expected = subjectDice(slices, predictions, policy).map((r) => ({
        subject: r.subject,
        dice: r.dice,
        slices: r.slices,
        falsePositives: r.falsePositives,
      }));
      assert.deepEqual(got, expected);
      assert.deepEqual(
        file.results[0]!.perSubject.map((s) => s.slices),
        test.map((t) => entriesOf(dataset.slices, [t]).length),
      );
      const rows = readFileSync(path.join(r.dir, 'false-positives.csv'), 'utf8').trim().split('\n');
      const fp = file.results[0]!.perSubject.flatMap((s) => s.falsePositives!.filter((f) => f.slices > 0));
      assert.equal(rows.length, 1 + fp.length);
    }
  });
});
