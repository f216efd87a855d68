// prototype: the frozen teacher over the training volumes, each segmented whole by sliding
// windows (as in its validation: a crop alone, zero-padded to the window, is an input it was
// never trained on), the logits and labels of the lumbar crop's axial slices accumulated into
// one dataset-level class prototype, written with its provenance (the crop of every volume).
import { existsSync } from 'node:fs';
import { ExplicitZRange, KidneyRangeCrop, type BodyPartCrop } from '../../data/body-part.js';
import { SliceScoreCrop } from '../../infer/body-part-regressor.js';
import { NUM_CLASSES } from '../../data/labels.js';
import { PrototypeAccumulator, savePrototype } from '../../ops/prototype-accumulator.js';
import { tensor } from '../../tensor/factories.js';
import { noGrad } from '../../tensor/autograd.js';
import { scope } from '../../tensor/scope.js';
import { progressSink } from '../../train/progress.js';
import type { CropConfig, PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, volumeSplit } from '../context.js';
import { runLayout } from '../layout.js';
import { fileStamp, runStage } from '../manifest.js';
import { loadModel } from '../models.js';
import { prepareVolume, resampledRange, volumeLogits, volumePipeline, volumeRef } from '../volumes.js';
import { teacherConfig, teacherModelFile, type TeacherOptions } from './train-teacher.js';

/** The lumbar crop the config asks for (null: whole volumes). */
export function cropFromConfig(crop: CropConfig): BodyPartCrop | null {
  switch (crop.kind) {
    case 'kidneys':
      return new KidneyRangeCrop({ marginMm: crop.margin ?? 10 });
    case 'z-range':
      return new ExplicitZRange({ start: crop.from!, end: crop.to!, unit: 'index' });
    case 'regressor':
      return new SliceScoreCrop({ module: crop.model!, lower: crop.lower!, upper: crop.upper! });
    case 'none':
      return null;
  }
}

export interface PrototypeOutcome {
  file: string;
  volumes: number;
  slices: number;
  missing: number[];
  reused: boolean;
}

export interface PrototypeOptions extends TeacherOptions {
  /** The prototype's folder name in the run (default: the teacher's name), for ablations of one teacher. */
  name?: string;
}

export async function extractPrototype(config: PipelineConfig, options: PrototypeOptions = {}): Promise<PrototypeOutcome> {
  const teacher = teacherConfig(config, options.teacher);
  const modelFile = teacherModelFile(config.runDir, teacher);
  if (!existsSync(modelFile)) {
    throw new ConfigError([`${modelFile}: no teacher (run 'slice-distill train-teacher' first, or set teacher.model to a TorchScript teacher)`], 'prototype');
  }
  const dataset = await openDataset(config.dataset);
  // a teacher trained here: its training volumes; a teacher brought along: every labelled volume
  const split = volumeSplit(config, dataset, teacher.phases);
  const subjects = new Set(teacher.model ? [...split.train, ...split.val] : split.train);
  const volumes = dataset.volumes.filter(
    (v) => v.label && subjects.has(v.subject) && (!teacher.phases?.length || (v.phase && teacher.phases.includes(v.phase))),
  );
  const layout = runLayout(config.runDir);
  const name = options.name ?? teacher.name;
  const file = layout.prototype(name);
  const log = options.log ?? defaultLog;
  const { result, reused } = await runStage({
    stage: 'prototype',
    dir: layout.prototypeDir(name),
    config: { prototype: config.prototype, teacher: { spacing: teacher.spacing, roi: teacher.roi, overlap: teacher.overlap }, huWindow: config.hu.window },
    // (prototype.teacherInput is part of config.prototype: switching it re-runs the stage)
    inputs: { dataset: dataset.file, teacher: fileStamp(modelFile), volumes: volumes.map((v) => v.image) },
    seed: config.seed,
    force: options.force,
    reuse: (m) => ({ file, volumes: m.metrics.volumes as number, slices: m.metrics.slices as number, missing: m.metrics.missing as number[], reused: true }),
    work: async () => {
      applyRuntime(config);
      using module = await loadModel(modelFile, config.device);
      module.eval();
      module.freeze();
      const crop = cropFromConfig(config.prototype.crop);
      const acc = new PrototypeAccumulator({ numClasses: NUM_CLASSES, mode: config.prototype.mode });
      const pipeline = volumePipeline(dataset);
      const sink = progressSink(options.progress);
      const used: { image: string; zRange: [number, number]; resampledDepth: number; resampledZRange: [number, number]; teacherInput: 'volume' | 'crop' }[] =
        [];
      const cropOnly = config.prototype.teacherInput === 'crop';
      try {
        for (const [i, v] of volumes.entries()) {
          options.signal?.throwIfAborted();
          const base = pipeline.base(volumeRef(v));
          const [d, h, w] = base.shape as [number, number, number];
          const [sz, sy, sx] = base.spacing as [number, number, number];
          const range = crop
            ? await crop.zRange({ shape: [w, h, d], spacing: [sx, sy, sz], image: base.image, label: base.label ?? undefined, file: v.image })
            : { start: 0, end: d };
          if (!range) {
            log(`prototype ${teacher.name}: ${v.image} has no slices in the lumbar range; left out`);
            continue;
          }
          // 'volume' (default): the teacher sees the whole volume and the crop picks the slices
          // accumulated; 'crop': the first version, the crop alone (kept for ablations)
          const volume = prepareVolume(pipeline, cropOnly ? volumeRef(v, [range.start, range.end]) : volumeRef(v), teacher.spacing, config.hu.window);
          const depth = volume.shape[0]!;
          const kept = cropOnly ? { start: 0, end: depth } : resampledRange(range, d, depth);
          if (kept.end <= kept.start) {
            log(`prototype ${teacher.name}: ${v.image}: the crop [${range.start}, ${range.end}) keeps no slice at the teacher's spacing; left out`);
            continue;
          }
          const logits = await volumeLogits(module, volume, { roi: teacher.roi, overlap: teacher.overlap, signal: options.signal });
          noGrad(() =>
            scope(() => {
              const labels = tensor(volume.label!, [1, ...volume.shape], { device: config.device });
              const length = kept.end - kept.start;
              acc.add(logits.narrow(2, kept.start, length), labels.narrow(1, kept.start, length));
            }),
          );
          logits.dispose();
          used.push({
            image: v.image,
            zRange: [range.start, range.end],
            resampledDepth: depth,
            resampledZRange: [kept.start, kept.end],
            teacherInput: config.prototype.teacherInput,
          });
          sink.update({ stage: `prototype ${teacher.name}`, unit: 'volume', done: i + 1, total: volumes.length });
        }
      } finally {
        sink.done();
      }
      if (used.length === 0) throw new RangeError(`prototype ${teacher.name}: no volume had slices in the lumbar range (crop ${config.prototype.crop.kind})`);
      const r = acc.result();
      await savePrototype(file, r, {
        teacher: modelFile,
        teacherName: teacher.name,
        dataset: dataset.file,
        crop: crop?.describe() ?? { crop: 'none' },
        huWindow: config.hu.window,
        volumes: used,
      });
      r.prototype.dispose();
      log(
        `prototype ${teacher.name}: ${used.length} volumes, ${r.slices} slices -> ${file}${r.missing.length ? ` (classes never seen: ${r.missing.join(', ')})` : ''}`,
      );
      return {
        outputs: { prototype: file },
        metrics: { volumes: used.length, slices: r.slices, counts: r.counts, missing: r.missing },
        result: { file, volumes: used.length, slices: r.slices, missing: r.missing, reused: false },
      };
    },
  });
  if (reused) log(`prototype ${teacher.name}: finished earlier (${file}), reused`);
  return result;
}
