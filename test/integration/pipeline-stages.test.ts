// The training stages on a small phantom with tiny models: the chain teacher -> prototype ->
// pretrain -> distill, stage reuse, exact resume after an abort, and the CLI's checks.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generatePhantom } from '../../lib/data/phantom.js';
import { loadCheckpoint } from '../../lib/train/checkpoint.js';
import { resolveConfig, type PartialConfig, type PipelineConfig } from '../../lib/pipeline/config.js';
import { ConfigError } from '../../lib/pipeline/config-schema.js';
import { trainTeacher } from '../../lib/pipeline/stages/train-teacher.js';
import { extractPrototype } from '../../lib/pipeline/stages/prototype.js';
import { pretrain } from '../../lib/pipeline/stages/pretrain.js';
import { distill } from '../../lib/pipeline/stages/distill.js';
import { recordedSliceInput } from '../../lib/pipeline/recorded-input.js';
import { StageAbortedError } from '../../lib/pipeline/training.js';
import type { ProgressEvent } from '../../lib/train/progress.js';
import { cli } from '../support/cli.js';
import { maxAbsDiff, projectPython, pythonFixtures } from '../support/python.js';
import { writeResnetLayoutWeights } from '../support/resnet-layout.js';
import { writeMonaiUnestWeights } from '../support/monai-unest-layout.js';
import { loadModel } from '../../lib/pipeline/models.js';

const quiet = { progress: 'none' as const, log: () => {} };

describe('pipeline: training stages on the phantom', function () {
  let root: string;
  let base: PartialConfig;
  const config = (over: PartialConfig = {}, runDir = 'run'): PipelineConfig =>
    resolveConfig({ ...base, ...over, runDir, student: { ...base.student, ...over.student }, teacher: { ...base.teacher, ...over.teacher } }, root);

  before(async function () {
    if (!projectPython()) {
      console.log('    (skipped: no Python with torch to export the tiny models)');
      this.skip();
    }
    root = mkdtempSync(path.join(os.tmpdir(), 'sd-pipeline-'));
    await generatePhantom({ out: path.join(root, 'data'), volumes: 3, slices: 40, seed: 3, sliceSize: 64, slicePhase: 'portal-venous' });
    base = {
      dataset: 'data',
      seed: 0,
      workers: 0,
      threads: 2,
      split: { train: 0.6, val: 0.2, test: 0.2 },
      teacher: { preset: 'tiny', roi: [64, 64, 64], spacing: [6, 6, 6], epochs: 1, batchSize: 1, samplesPerVolume: 1, lr: 2e-3, warmupEpochs: 0 },
      student: { arch: 'deeplabv3', preset: 'tiny', size: 64, epochs: 20, batchSize: 4, optimizer: 'adamw', lr: 2e-3, augment: false },
      distill: { epochs: 2 },
    };
  });

  it('teacher -> prototype -> pretrain -> distill; pretraining lowers the loss and raises validation Dice; finished stages are reused', async function () {
    const c = config();
    const teacher = await trainTeacher(c, quiet);
    assert.ok(existsSync(teacher.bestCheckpoint));
    const proto = await extractPrototype(c, quiet);
    const file = JSON.parse(readFileSync(proto.file, 'utf8')) as { matrix: number[][]; provenance: { volumes: unknown[]; crop: { crop: string } } };
    assert.equal(file.matrix.length, 7);
    assert.equal(file.matrix[0]!.length, 7);
    assert.ok(file.provenance.volumes.length >= 1 && file.provenance.crop.crop === 'kidney-range');

    const pre = await pretrain(c, quiet);
    const log = readFileSync(path.join(pre.dir, 'train-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { loss: number; valDice: number });
    assert.equal(log.length, 20);
    assert.ok(log.at(-1)!.loss < log[0]!.loss, `loss ${log[0]!.loss} -> ${log.at(-1)!.loss}`);
    const bestDice = Math.max(...log.map((l) => l.valDice));
    assert.ok(bestDice > log[0]!.valDice + 0.05, `validation Dice ${log.map((l) => l.valDice.toFixed(3)).join(' ')}`);
    assert.equal(pre.bestMetric, bestDice);

    const dis = await distill(c, quiet);
    const dlog = readFileSync(path.join(dis.dir, 'train-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { loss: number });
    assert.equal(dlog.length, 2);
    const manifest = JSON.parse(readFileSync(path.join(dis.dir, 'manifest.json'), 'utf8')) as {
      stage: string;
      inputs: { from: { file: string } };
      versions: { torch: string };
    };
    assert.equal(manifest.stage, 'distill');
    assert.equal(manifest.inputs.from.file, pre.bestCheckpoint);
    assert.match(manifest.versions.torch, /^\d+\.\d+/);

    // the same config again: every stage is reused; a changed beta redoes distill only
    assert.equal((await pretrain(c, quiet)).reused, true);
    assert.equal((await extractPrototype(c, quiet)).reused, true);
    assert.equal((await distill(c, quiet)).reused, true);
    const changed = await distill({ ...c, distill: { ...c.distill, beta: 0.25 } }, quiet);
    assert.equal(changed.reused, false);
    // trained again from the pretrained weights, not resumed from the finished beta 0.5 run
    const relog = readFileSync(path.join(changed.dir, 'train-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { loss: number });
    assert.equal(relog.length, 2);
    assert.notEqual(relog[0]!.loss, dlog[0]!.loss);

    // the epoch-matched control: the same epochs with L_seg only, as variant 'continued'
    const control = await distill(c, { ...quiet, control: true, prototype: '/nonexistent/not-needed.json' });
    assert.equal(path.basename(control.dir), 'distill-continued');
    const cman = JSON.parse(readFileSync(path.join(control.dir, 'manifest.json'), 'utf8')) as {
      config: { control: boolean; distill: { beta: number } };
      inputs: { prototype: unknown };
    };
    assert.deepEqual([cman.config.control, cman.config.distill.beta, cman.inputs.prototype], [true, 0, null]);
    assert.equal(readFileSync(path.join(control.dir, 'train-log.jsonl'), 'utf8').trim().split('\n').length, 2);

    // hu.window: recorded with the prototype and the checkpoints; distill under another window is refused before any work
    assert.deepEqual((file.provenance as unknown as { huWindow: number[] }).huWindow, [-175, 250]);
    assert.deepEqual(await recordedSliceInput(pre.bestCheckpoint), { size: 64, window: [-175, 250] });
    await assert.rejects(distill({ ...c, hu: { window: [-100, 200] } }, quiet), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /made with hu\.window \[-175, 250\], the students use \[-100, 200\]/);
      assert.match(e.message, /pretrained with hu\.window \[-175, 250\]/);
      return true;
    });
  });

  it("prototype: the teacher sees the whole volume, only the crop's slices are accumulated", async function () {
    const fx = await pythonFixtures();
    const teacher = { model: path.join(fx.dir, 'depth_recorder.pt'), roi: [64, 64, 64] };
    type Volume = { resampledDepth: number; resampledZRange: [number, number]; teacherInput: string };
    type File = { matrix: number[][]; counts: number[]; slices: number; provenance: { volumes: Volume[] } };
    const read = async (teacherInput: 'volume' | 'crop', runDir: string): Promise<File> => {
      const proto = await extractPrototype(config({ teacher, prototype: { teacherInput } }, runDir), quiet);
      return JSON.parse(readFileSync(proto.file, 'utf8')) as File;
    };
    const whole = await read('volume', 'run-depth-volume');
    const vols = whole.provenance.volumes;
    assert.ok(vols.length >= 1);
    const cropLengths = vols.map((v) => v.resampledZRange[1] - v.resampledZRange[0]);
    // only the crop's slices: the sum of the kept ranges, each inside its volume and shorter than it
    assert.equal(
      whole.slices,
      cropLengths.reduce((a, b) => a + b, 0),
    );
    vols.forEach((v, i) =>
      assert.ok(v.resampledZRange[0] >= 0 && v.resampledZRange[1] <= v.resampledDepth && cropLengths[i]! < v.resampledDepth, JSON.stringify(v)),
    );
    // channel 0 of the recorder's logits is the depth it was given: the whole volume's
    const depths = vols.map((v) => v.resampledDepth);
    whole.matrix.forEach((row, k) => {
      if (whole.counts[k]! > 0)
        assert.ok(row[0]! >= Math.min(...depths) - 1e-6 && row[0]! <= Math.max(...depths) + 1e-6, `class ${k}: depth ${row[0]} vs ${depths.join(', ')}`);
    });
    // the first version fed the crop alone: then the teacher saw only the crop's depth
    const cropped = await read('crop', 'run-depth-crop');
    assert.ok(cropped.provenance.volumes.every((v) => v.teacherInput === 'crop'));
    const longest = Math.max(...cropped.provenance.volumes.map((v) => v.resampledDepth));
    cropped.matrix.forEach((row, k) => {
      if (cropped.counts[k]! > 0) assert.ok(row[0]! <= longest + 1e-6 && row[0]! < Math.min(...depths), `class ${k}: ${row[0]}`);
    });
  });

  it('an aborted pretrain resumes to the same final weights as an uninterrupted run', async function () {
    const epochs = 3;
    const whole = await pretrain(config({ student: { epochs, augment: true } } as PartialConfig, 'whole'), quiet);
    const controller = new AbortController();
    const stopAt = (e: ProgressEvent) => {
      if (e.unit === 'batch' && e.epoch === 1 && e.done === 2) controller.abort();
    };
    const c = config({ student: { epochs, augment: true } } as PartialConfig, 'resumed');
    await assert.rejects(pretrain(c, { ...quiet, progress: stopAt, signal: controller.signal }), StageAbortedError);
    assert.ok(!existsSync(path.join(c.runDir, 'students/deeplabv3/pretrain/manifest.json')), 'an aborted stage is not marked done');
    const resumed = await pretrain(c, quiet);
    assert.equal(resumed.reused, false);
    const a = await loadCheckpoint(path.join(whole.dir, 'last.ckpt'), { rng: false });
    const b = await loadCheckpoint(path.join(resumed.dir, 'last.ckpt'), { rng: false });
    const pa = a.module.parameters();
    const pb = b.module.parameters();
    assert.equal(pa.length, pb.length);
    let worst = 0;
    pa.forEach((p, i) => (worst = Math.max(worst, maxAbsDiff(p.toArray() as Float32Array, pb[i]!.toArray() as Float32Array))));
    assert.ok(worst < 1e-5, `largest weight difference ${worst}`);
  });

  it('student.init: pretrain starts from a published checkpoint through its key mapping; bad inits fail before any work', async function () {
    const weights = path.join(root, 'resnet-layout.pth');
    const made = writeResnetLayoutWeights(weights);
    const lines: string[] = [];
    const c = config({ student: { epochs: 1, init: { path: weights, format: 'torchvision-resnet50' } } } as PartialConfig, 'init');
    const r = await pretrain(c, { ...quiet, log: (l) => lines.push(l) });
    assert.ok(
      lines.some((l) => new RegExp(`torchvision-resnet50\\): ${made.keys - 2} tensors mapped, 0 missing`).test(l)),
      lines.join('\n'),
    );
    const initial = readdirSync(r.dir).find((f) => /^initial-[0-9a-f]{12}\.pt$/.test(f))!;
    const stem = (await loadModel(path.join(r.dir, initial))).namedParameters().get('backbone.stem.0.weight')!;
    assert.ok(maxAbsDiff(stem.toArray() as Float32Array, made.stem) < 1e-5);
    assert.ok(existsSync(r.bestCheckpoint));
    const bad = (student: object) => () => config({ student } as PartialConfig, 'bad');
    assert.throws(
      bad({ init: { path: weights }, model: weights }),
      (e: unknown) => e instanceof ConfigError && /give model .* or init .*, not both/.test(e.message),
    );
    assert.throws(
      bad({ arch: 'swin_unet', preset: 'tiny', init: { path: weights, format: 'torchvision-resnet50' } }),
      /student.init.format: torchvision-resnet50 maps to deeplabv3, not swin_unet/,
    );
    assert.throws(bad({ init: { path: path.join(root, 'nope.pth') } }), /student.init.path: .*nope.pth does not exist/);
    assert.throws(bad({ init: { path: weights, format: 'imagenet' } }), /student.init.format/);
  });

  it('teacher.init: train-teacher fine-tunes a MONAI-named UNesT through monai-unest; a wrong format is refused first', async function () {
    const weights = path.join(root, 'monai-unest.pt');
    const made = writeMonaiUnestWeights(weights);
    const lines: string[] = [];
    const c = config({ teacher: { init: { path: weights, format: 'monai-unest' } } } as PartialConfig, 'teacher-init');
    const r = await trainTeacher(c, { ...quiet, log: (l) => lines.push(l) });
    assert.ok(r.dir, 'trained, not skipped');
    assert.ok(
      lines.some((l) => new RegExp(`monai-unest\\): ${made.keys} tensors mapped, 0 missing`).test(l)),
      lines.join('\n'),
    );
    const initial = readdirSync(r.dir).find((f) => /^initial-[0-9a-f]{12}\.pt$/.test(f))!;
    const patch = (await loadModel(path.join(r.dir, initial))).namedParameters().get(made.target)!;
    assert.ok(maxAbsDiff(patch.toArray() as Float32Array, made.patch) < 1e-6, "the initial teacher holds the file's patch embedding");
    const tuned = (await loadCheckpoint(r.bestCheckpoint, { rng: false })).module.namedParameters().get(made.target)!;
    assert.ok(maxAbsDiff(tuned.toArray() as Float32Array, made.patch) > 0, 'and training moved it');
    assert.throws(
      () => config({ teacher: { init: { path: weights, format: 'timm-swin' } } } as PartialConfig, 'bad'),
      /teacher.init.format: timm-swin maps to swin_unet, not unest/,
    );
  });

  it('CLI: each training subcommand has --help; a wrong key or a missing file fails before any work', async function () {
    for (const name of ['train-teacher', 'prototype', 'pretrain', 'distill', 'experiment']) {
      const r = await cli(name, '--help');
      assert.equal(r.code, 0, name);
      assert.match(r.out, new RegExp(`Usage: slice-distill ${name}`));
      assert.match(r.out, /--config FILE/);
    }
    const bad = path.join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dataset: 'data', runDir: 'bad-run', studnet: { arch: 'deeplabv3' }, teacher: { epochs: -1 } }));
    const r = await cli('pretrain', '--config', bad);
    assert.equal(r.code, 1);
    assert.match(r.err, /studnet: unknown key \(did you mean 'student'\?\)/);
    assert.match(r.err, /teacher\.epochs: expected >= 0/);
    assert.ok(!existsSync(path.join(root, 'bad-run')), 'nothing is written');
    const missing = await cli('pretrain', '--config', path.join(root, 'nope.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.json does not exist/);
    const noData = path.join(root, 'nodata.json');
    writeFileSync(noData, JSON.stringify({ dataset: 'absent', runDir: 'nodata-run' }));
    const r2 = await cli('pretrain', '--config', noData, '--progress', 'none');
    assert.equal(r2.code, 1);
    assert.match(r2.err, /absent/);
    assert.ok(!existsSync(path.join(root, 'nodata-run')));
    const r3 = await cli('distill', '--config', noData.replace('nodata', 'bad'), '--student', 'unet');
    assert.equal(r3.code, 1); // the config problems come first
    await assert.rejects(async () => resolveConfig({ dataset: 'd', runDir: 'r', device: 'gpu' as 'cpu' }, root), ConfigError);
    // Table 1's variant names that are not teachers cannot name one
    for (const name of ['none', 'continued']) {
      assert.throws(
        () => resolveConfig({ dataset: 'd', runDir: 'r', experiment: { teachers: [{ name }] } }, root),
        (e: Error) => e instanceof ConfigError && /reserved/.test(e.message),
      );
    }
    assert.equal(resolveConfig({ dataset: 'd', runDir: 'r', experiment: { control: true } }, root).experiment.control, true);
    assert.throws(() => resolveConfig({ dataset: 'd', runDir: 'r', experiment: { control: 'yes' as unknown as boolean } }, root), ConfigError);
  });
});
