// evaluate, predict and report on a small phantom with tiny students: Dice and Wilcoxon values
// checked against a computation by hand, NIfTI outputs aligned over their inputs, the report's
// table holding the evaluated numbers, and the CLI's checks before any work.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { affinesClose } from '../../lib/data/geometry.js';
import * as nifti from '../../lib/data/nifti.js';
import { generatePhantom } from '../../lib/data/phantom.js';
import { DiceAccumulator, NUM_CLASSES, subjectMean } from '../../lib/eval/dice.js';
import { summarizeResult } from '../../lib/eval/results.js';
import * as stats from '../../lib/eval/stats.js';
import { wilcoxon } from '../../lib/eval/stats.js';
import { exportModel } from '../../lib/models/export.js';
import { ScriptModule } from '../../lib/module/script-module.js';
import { resolveConfig, type PipelineConfig } from '../../lib/pipeline/config.js';
import { ConfigError } from '../../lib/pipeline/config-schema.js';
import { openDataset, sliceSplit } from '../../lib/pipeline/context.js';
import type { EvaluationFile } from '../../lib/pipeline/results-file.js';
import { runLayout } from '../../lib/pipeline/layout.js';
import { loadModel } from '../../lib/pipeline/models.js';
import { runCheckpoints } from '../../lib/pipeline/run-checkpoints.js';
import { prepareSlices, segmentSlices, slicePipeline, sliceRefs } from '../../lib/infer/slices.js';
import { evaluate } from '../../lib/pipeline/stages/evaluate.js';
import { predict } from '../../lib/pipeline/stages/predict.js';
import { pretrain } from '../../lib/pipeline/stages/pretrain.js';
import { report } from '../../lib/pipeline/stages/report.js';
import { formatP } from '../../lib/report/html.js';
import { saveCheckpoint } from '../../lib/train/checkpoint.js';
import { projectPython } from '../support/python.js';
import { cli } from '../support/cli.js';

const quiet = { progress: 'none' as const, log: () => {} };
const SIZE = 64;

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const csvRows = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n');

describe('pipeline: evaluate, predict and report on the phantom', function () {
  let root: string;
  let config: PipelineConfig;
  let configFile: string;
  /** A briefly pretrained student (.ckpt) and an untrained one standing in for a distilled variant. */
  let trained: string;
  let other: string;
  let evaluation: string;

  before(async function () {
    if (!projectPython()) {
      console.log('    (skipped: no Python with torch to export the tiny models)');
      this.skip();
    }
    root = mkdtempSync(path.join(os.tmpdir(), 'sd-evaluate-'));
    await generatePhantom({ out: path.join(root, 'data'), volumes: 0, slices: 24, seed: 5, sliceSize: 48 });
    const partial = {
      dataset: 'data',
      runDir: 'run',
      workers: 0,
      threads: 2,
      split: { train: 0.5, val: 0.1, test: 0.4 },
      student: { arch: 'deeplabv3' as const, preset: 'tiny' as const, size: SIZE, epochs: 8, batchSize: 4, lr: 0.05, augment: false },
    };
    configFile = path.join(root, 'run.json');
    writeFileSync(configFile, JSON.stringify(partial));
    config = resolveConfig(partial, root);
    const [pre] = await Promise.all([pretrain(config, quiet), exportModel({ arch: 'deeplabv3', preset: 'tiny', out: path.join(root, 'other.pt'), seed: 1 })]);
    trained = pre.bestCheckpoint;
    // the run layout's distill folder, so the CLI finds both without --checkpoint
    other = path.join(runLayout(config.runDir).distill('deeplabv3', 'unest'), 'best.ckpt');
    mkdirSync(path.dirname(other), { recursive: true });
    await saveCheckpoint(other, { module: await ScriptModule.load(path.join(root, 'other.pt')) });
  });
  after(() => root && rmSync(root, { recursive: true, force: true }));

  it('evaluate: per-subject Dice as computed by hand, the Wilcoxon test on paired means, the CSVs; a new checkpoint is scored again', async function () {
    const models = [
      { model: 'DeepLabv3', variant: 'none', checkpoint: trained },
      { model: 'DeepLabv3', variant: 'unest', checkpoint: other },
    ];
    const r = await evaluate(config, models, quiet);
    evaluation = r.file;
    const file = readJson<EvaluationFile>(r.file);
    const dataset = await openDataset(config.dataset);
    const test = sliceSplit(config, dataset).test;
    assert.deepEqual(file.subjects, test);
    assert.equal(file.results.length, 2);
    assert.deepEqual(
      file.models.map((m) => m.checkpoint),
      [trained, other],
    );

    // one subject by hand: its slices through the trained model at native resolution
    const subject = test[0]!;
    const slices = prepareSlices(slicePipeline(dataset), sliceRefs(dataset, [subject]), SIZE);
    const predictions = await segmentSlices((await loadModel(trained)).eval(), slices, SIZE);
    // the default policy: organ k pooled over the slices whose truth holds k (null where none does)
    const expected = Array.from({ length: NUM_CLASSES - 1 }, (_, o) => {
      const k = o + 1;
      const acc = new DiceAccumulator(NUM_CLASSES);
      slices.forEach((s, i) => s.label!.includes(k) && acc.add(predictions[i]!, s.label!));
      return acc.count === 0 ? null : acc.result()[o]!;
    });
    const got = file.results[0]!.perSubject.find((s) => s.subject === subject)!;
    assert.deepEqual(got.dice, expected);
    assert.ok(
      file.results[0]!.perSubject.some((s) => s.dice.some((v) => v !== null && v > 0)),
      'the trained student finds some organ',
    );

    // the comparison rows: the variant against none (no control here), per organ and on the
    // subjects' average, Wilcoxon p as stats.wilcoxon gives on the scores read back from dice.csv
    const [none, unest] = file.results as [(typeof file.results)[0], (typeof file.results)[0]];
    const a = unest.perSubject.map((s) => subjectMean(s.dice)!);
    const b = none.perSubject.map((s) => subjectMean(s.dice)!);
    assert.deepEqual(
      file.comparisons.map((c) => [c.model, c.variant, c.baseline, c.seed, c.organ]),
      [...file.organs, 'average'].map((o) => ['DeepLabv3', 'unest', 'none', config.seed, o]),
    );
    assert.deepEqual(r.comparisons, file.comparisons);
    const [header, ...lines] = csvRows(path.join(r.dir, 'dice.csv')).map((l) => l.split(','));
    const column = (variant: string, name: string) =>
      lines.filter((l) => l[1] === variant).map((l) => (l[header!.indexOf(name)] === '' ? null : Number(l[header!.indexOf(name)])));
    for (const organ of ['liver', 'mean']) {
      const [x, y] = [column('unest', organ), column('none', organ)];
      const pairs = x.flatMap((v, i) => (v !== null && y[i] !== null ? [[v, y[i]!]] : []));
      const c = file.comparisons.find((row) => row.organ === (organ === 'mean' ? 'average' : organ))!;
      assert.equal(c.n, pairs.length);
      if (pairs.length === 0) continue;
      const w = wilcoxon(
        pairs.map((q) => q[0]!),
        pairs.map((q) => q[1]!),
      );
      assert.equal(c.p, w.n > 0 ? w.pValue : null, organ);
      assert.equal(c.statistic, w.statistic);
      assert.ok(c.ci95 && c.ci95[0] <= c.meanDiff! + 1e-12 && c.meanDiff! <= c.ci95[1] + 1e-12);
    }
    assert.deepEqual(column('unest', 'mean'), a);
    assert.deepEqual(column('none', 'mean'), b);
    const holmed = stats.holm(file.comparisons.map((c) => c.p));
    assert.deepEqual(
      file.comparisons.map((c) => c.pHolm),
      holmed,
    );

    assert.equal(csvRows(path.join(r.dir, 'dice.csv')).length, 1 + 2 * test.length);
    assert.equal(csvRows(path.join(r.dir, 'summary.csv')).length, 1 + 2);
    assert.equal(csvRows(path.join(r.dir, 'comparisons.csv')).length, 1 + 7);
    assert.equal(
      csvRows(path.join(r.dir, 'comparisons.csv'))[0],
      'model,variant,baseline,training_subjects,seed,organ,n,mean_diff,ci95_lo,ci95_hi,statistic,p,p_holm,method',
    );
    const [head, summary] = csvRows(path.join(r.dir, 'summary.csv')).map((l) => l.split(',')) as [string[], string[]];
    assert.equal(Number(summary[head.indexOf('mean')]), summarizeResult(none).overall);
    // scored under the default policy: false positives apart, their totals in the summary and their own CSV
    assert.equal((file as EvaluationFile & { policy?: string }).policy, 'present');
    const fpSpleen = none.perSubject.reduce((n, s) => n + s.falsePositives![0]!.slices, 0);
    assert.equal(Number(summary[head.indexOf('fp_slices_spleen')]), fpSpleen);
    assert.equal(csvRows(path.join(r.dir, 'false-positives.csv'))[0], 'model,variant,training_subjects,seed,subject,organ,slices,area_mm2');

    // nothing to score and a missing file: both named at once, before any output
    const empty = { ...config, runDir: path.join(root, 'empty-run'), split: { train: 0.5, val: 0.5, test: 0 } };
    await assert.rejects(evaluate(empty, [...models, { model: 'DeepLabv3', variant: 'x', checkpoint: path.join(root, 'x.ckpt') }], quiet), (e: Error) => {
      assert.ok(e instanceof ConfigError && e.problems.length === 2, e.message);
      assert.match(e.message, /no labelled slices in the test split/);
      assert.match(e.message, /x\.ckpt: checkpoint not found/);
      return true;
    });
    assert.ok(!existsSync(empty.runDir));

    assert.equal((await evaluate(config, models, quiet)).reused, true);
    const later = new Date(Date.now() + 5000);
    utimesSync(other, later, later); // as if distilled again
    assert.equal((await evaluate(config, models, quiet)).reused, false);
  });

  it('evaluate with seeds: each seed its own result and dice.csv rows, comparisons per seed and seed-averaged', async function () {
    const seeded = [1, 2].flatMap((seed) => [
      { model: 'DeepLabv3', variant: 'none', checkpoint: trained, seed },
      { model: 'DeepLabv3', variant: 'unest', checkpoint: other, seed },
    ]);
    await assert.rejects(evaluate(config, [...seeded, seeded[0]!], { ...quiet, name: 'evaluate-seeds' }), /DeepLabv3 \/ none \[seed 1\] is listed twice/);
    const r = await evaluate(config, seeded, { ...quiet, name: 'evaluate-seeds' });
    assert.deepEqual(
      r.results.map((x) => [x.variant, x.seed]),
      [
        ['none', 1],
        ['unest', 1],
        ['none', 2],
        ['unest', 2],
      ],
    );
    assert.deepEqual([...new Set(r.comparisons.map((c) => c.seed))], [1, 2, 'mean']);
    // the same checkpoints under both seeds: the seed-averaged scores are each seed's
    const bySeed = (s: number | 'mean') => r.comparisons.filter((c) => c.seed === s).map(({ seed: _, ...c }) => c);
    assert.deepEqual(bySeed('mean'), bySeed(1));
    const [header, ...lines] = csvRows(path.join(r.dir, 'dice.csv')).map((l) => l.split(','));
    assert.deepEqual([...new Set(lines.map((l) => l[header!.indexOf('seed')]))], ['1', '2']);
  });

  it('predict: a label NIfTI per input on its own grid (2D, reoriented and multi-slice), equal to segmentSlices', async function () {
    const dataset = await openDataset(config.dataset);
    const inputs = path.join(root, 'inputs');
    mkdirSync(inputs);
    const [s0, s1, s2] = dataset.slices.slice(0, 3).map((s) => s.image) as [string, string, string];
    // the same slice stored left-posterior, and a three-slice volume
    const lps = nifti.reorient(await nifti.read(s1), 'LPS');
    await nifti.write(path.join(inputs, 'lps.nii.gz'), lps);
    const planes = await Promise.all([s0, s1, s2].map((f) => nifti.read(f)));
    const first = planes[0]!;
    const data = new Float32Array(first.data.length * 3);
    planes.forEach((p, z) => data.set(p.data.length === first.data.length ? p.data : first.data, z * first.data.length));
    const affine = first.affine.map((row) => [...row]);
    affine[2]![2] = 5;
    await nifti.write(
      path.join(inputs, 'stack.nii'),
      { data, shape: [first.shape[0], first.shape[1], 3], spacing: [first.spacing[0], first.spacing[1], 5], affine },
      { ndim: 3 },
    );

    const out = path.join(root, 'predicted');
    const written = await predict({ checkpoint: trained, inputs: [s0, inputs], out, log: () => {} }); // size from the model's metadata
    assert.deepEqual(
      written.map((w) => path.basename(w.output)),
      [`${path.basename(s0, '.nii.gz')}_seg.nii.gz`, 'lps_seg.nii.gz', 'stack_seg.nii.gz'],
    );
    const module = (await loadModel(trained)).eval();
    const pipeline = slicePipeline(dataset);
    for (const w of written) {
      const input = await nifti.read(w.input, { orientation: 'native' });
      const seg = await nifti.read(w.output, { orientation: 'native' });
      assert.ok(affinesClose(seg.affine, input.affine, 1e-5), `${w.output}: affine ${JSON.stringify(seg.affine)} vs ${JSON.stringify(input.affine)}`);
      assert.deepEqual(seg.shape, input.shape);
      assert.ok(seg.data instanceof Uint8Array);
      assert.equal(seg.header!.dim[0], input.header!.dim[0]);
      // in RAS order, each axial slice equals what segmentSlices gives for it
      const ras = await nifti.read(w.output);
      const [nx, ny, nz] = ras.shape;
      const refs = Array.from({ length: nz }, (_, z) => ({ image: w.input, subject: 'x', z }));
      const expected = await segmentSlices(module, prepareSlices(pipeline, refs, SIZE), SIZE);
      expected.forEach((e, z) => assert.deepEqual(ras.data.subarray(z * nx * ny, (z + 1) * nx * ny), e, `${w.output} slice ${z}`));
    }
    // the reoriented copy segments to the same labels in world space as the original slice
    const [direct, viaLps] = await Promise.all([
      nifti.read(path.join(out, `${path.basename(s1, '.nii.gz')}_seg.nii.gz`)).catch(() => null),
      nifti.read(path.join(out, 'lps_seg.nii.gz')),
    ]);
    assert.equal(direct, null); // s1 itself was not an input
    assert.deepEqual(viaLps.data, (await segmentSlices(module, prepareSlices(pipeline, [{ image: s1, subject: 'x' }], SIZE), SIZE))[0]);

    // a spacing-aware grid and another window, given to predict, are what the slices go through
    const fov = { size: SIZE, window: [-200, 300] as [number, number], fieldOfViewMm: 300 };
    const [byFov] = await predict({
      checkpoint: trained,
      inputs: [s0],
      out: path.join(root, 'predicted-fov'),
      window: fov.window,
      fieldOfViewMm: fov.fieldOfViewMm,
      log: () => {},
    });
    const fovLabels = (await nifti.read(byFov!.output)).data;
    assert.deepEqual(fovLabels, (await segmentSlices(module, prepareSlices(pipeline, [{ image: s0, subject: 'x' }], fov), fov))[0]);
    await assert.rejects(
      predict({ checkpoint: trained, inputs: [s0], out, window: [10, -10] }),
      (e: Error) => e instanceof ConfigError && /window: expected \[low, high\]/.test(e.message),
    );

    // a label file in the way is never overwritten; a missing input is named
    await assert.rejects(
      predict({ checkpoint: trained, inputs: [s0], out: path.dirname(s0) }),
      (e: Error) => e instanceof ConfigError && /was not written by predict/.test(e.message),
    );
    await assert.rejects(predict({ checkpoint: trained, inputs: [path.join(root, 'nope.nii.gz')], out }), /nope\.nii\.gz: no such file/);
  });

  it('report: index.html holds the evaluated table values and p-values, with box plots, the low-data curve and overlays as PNG', async function () {
    const low = await evaluate(
      config,
      [
        { model: 'DeepLabv3', variant: 'none', checkpoint: trained, trainingSubjects: 6 },
        { model: 'DeepLabv3', variant: 'unest', checkpoint: other, trainingSubjects: 6 },
        { model: 'DeepLabv3', variant: 'none', checkpoint: trained, trainingSubjects: 12 },
        { model: 'DeepLabv3', variant: 'unest', checkpoint: other, trainingSubjects: 12 },
      ],
      { ...quiet, name: 'evaluate-lowdata' },
    );
    const r = await report(config, { evaluation, lowData: low.file, overlays: 2, ...quiet });
    assert.equal(r.dir, runLayout(config.runDir).report());
    const html = readFileSync(r.html, 'utf8');
    const file = readJson<EvaluationFile>(evaluation);
    const organs = [...file.organs, 'average'];
    for (const result of file.results) {
      const s = summarizeResult(result);
      [...s.perOrgan, s.overall].forEach((v, k) => {
        const cell = new RegExp(`data-model="${result.model}" data-variant="${result.variant}" data-column="${organs[k]}"[^>]*>(?:<strong>)?([^<]*)<`).exec(
          html,
        );
        assert.ok(cell, `${result.model} / ${result.variant} / ${organs[k]}`);
        assert.equal(cell[1], v === null ? '–' : v.toFixed(3));
      });
    }
    // the comparisons table carries results.json's rows; the labels are the arms'
    const average = file.comparisons.find((c) => c.organ === 'average')!;
    const p = /data-model="DeepLabv3" data-variant="unest" data-baseline="none" data-seed="\d+" data-organ="average" data-column="p"[^>]*>([^<]*)</.exec(html);
    assert.equal(p?.[1], formatP(average.p));
    const holm = /data-variant="unest" data-baseline="none" data-seed="\d+" data-organ="average" data-column="pHolm"[^>]*>([^<]*)</.exec(html);
    assert.equal(holm?.[1]?.replace('*', ''), formatP(average.pHolm));
    for (const label of ['pretrained', 'distilled (unest)']) assert.ok(html.includes(label), label);
    const figures = readJson<{ figures: { kind: string; files: string[] }[] }>(path.join(r.dir, 'report.json')).figures;
    // a training curve for the pretrained student (its train-log.jsonl); the untrained stand-in has none
    assert.deepEqual(figures.map((f) => f.kind).sort(), ['boxplot', 'lowdata', 'overlay', 'overlay', 'training']);
    for (const f of figures.flatMap((x) => x.files)) assert.ok(existsSync(path.join(r.dir, f)), f);
    assert.ok(
      readFileSync(path.join(r.dir, figures.find((f) => f.kind === 'overlay')!.files[0]!))
        .subarray(1, 4)
        .toString() === 'PNG',
    );
  });

  it('the run checkpoints: pretrain and distill best.ckpt, low-data folders with their subject counts', async function () {
    const n6 = path.join(runLayout(config.runDir).pretrain('deeplabv3-n6'), 'best.ckpt');
    mkdirSync(path.dirname(n6), { recursive: true });
    copyFileSync(trained, n6);
    const all = sliceSplit(config, await openDataset(config.dataset)).train.length;
    assert.deepEqual(await runCheckpoints(config), [
      { model: 'DeepLabv3', variant: 'none', checkpoint: n6, trainingSubjects: 6 },
      { model: 'DeepLabv3', variant: 'none', checkpoint: trained, trainingSubjects: all },
      { model: 'DeepLabv3', variant: 'unest', checkpoint: other, trainingSubjects: all },
    ]);
  });

  it('CLI: --help of each command; evaluate and report run; a wrong key or a missing file fails before any output folder exists', async function () {
    const help = {
      evaluate: ['--config FILE', '--checkpoint NAME:VARIANT=PATH', '(repeatable)', '--subjects SPLIT', '--name NAME'],
      predict: ['INPUT...', '--checkpoint FILE', '--out DIR', '--size N'],
      report: ['--evaluation FILE', '--low-data FILE', '--out DIR', '--overlays N'],
    };
    for (const [name, flags] of Object.entries(help)) {
      const r = await cli(name, '--help');
      assert.equal(r.code, 0, name);
      assert.match(r.out, new RegExp(`Usage: slice-distill ${name}`));
      for (const f of flags) assert.ok(r.out.includes(f), `${name} --help lists ${f}`);
    }

    const ev = await cli(
      'evaluate',
      '--config',
      configFile,
      '--name',
      'evaluate-cli',
      '--progress',
      'none',
      '--checkpoint',
      `deeplabv3:none=${trained}`,
      '--checkpoint',
      `deeplabv3:unest=${other}`,
    );
    assert.equal(ev.code, 0, ev.err);
    const results = readJson<EvaluationFile>(ev.out.trim().replace(/^evaluation: /, ''));
    assert.deepEqual(
      results.results.map((x) => [x.model, x.variant]),
      [
        ['DeepLabv3', 'none'],
        ['DeepLabv3', 'unest'],
      ],
    );
    const rep = await cli(
      'report',
      '--evaluation',
      path.join(root, 'run', 'evaluate-cli', 'results.json'),
      '--out',
      path.join(root, 'report-cli'),
      '--overlays',
      '0',
    );
    assert.equal(rep.code, 0, rep.err);
    assert.ok(existsSync(path.join(root, 'report-cli', 'index.html')));

    const bad = path.join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dataset: 'data', runDir: 'bad-run', studnet: { size: 64 } }));
    const wrong = await cli('evaluate', '--config', bad);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /studnet: unknown key \(did you mean 'student'\?\)/);
    assert.ok(!existsSync(path.join(root, 'bad-run')));

    const good = path.join(root, 'good.json');
    writeFileSync(good, JSON.stringify({ ...readJson<object>(configFile), runDir: 'missing-run' }));
    const missing = path.join(root, 'nowhere', 'best.ckpt');
    const m = await cli('evaluate', '--config', good, '--checkpoint', `deeplabv3:none=${missing}`);
    assert.equal(m.code, 1);
    assert.ok(m.err.includes(`${missing}: checkpoint not found`), m.err);
    assert.ok(!existsSync(path.join(root, 'missing-run')));
    const none = await cli('evaluate', '--config', good);
    assert.equal(none.code, 2);
    assert.match(none.err, /no best\.ckpt under/);
    assert.equal((await cli('evaluate', '--config', good, '--checkpoint', 'no-equals-sign')).code, 2);

    const p = await cli('predict', '--checkpoint', missing, '--out', path.join(root, 'p-out'), path.join(root, 'nope.nii'));
    assert.equal(p.code, 1);
    assert.ok(p.err.includes(missing) && p.err.includes('nope.nii: no such file'), p.err);
    assert.ok(!existsSync(path.join(root, 'p-out')));
    const r = await cli('report', '--config', good);
    assert.equal(r.code, 1);
    assert.match(r.err, /missing-run\/evaluate\/results\.json: no such file/);
    assert.ok(!existsSync(path.join(root, 'missing-run')));
  });
});
