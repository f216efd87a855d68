// prototype: the frozen teacher over the training volumes, each cut to the lumbar range,
// segmented whole by sliding windows, its logits and labels accumulated into one
// dataset-level class prototype, written with its provenance.
import { existsSync } from 'node:fs';
import { ExplicitZRange, KidneyRangeCrop, type BodyPartCrop } from '../../data/body-part.js';
import { SliceScoreCrop } from '../../data/body-part-regressor.js';
import { NUM_CLASSES } from '../../data/labels.js';
import { PrototypeAccumulator, savePrototype } from '../../ops/prototype-accumulator.js';
import { tensor } from '../../tensor/factories.js';
import { noGrad } from '../../tensor/autograd.js';
import { progressSink } from '../../train/progress.js';
import type { CropConfig, PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, volumeSplit } from '../context.js';
import { runLayout } from '../layout.js';
import { fileStamp, runStage } from '../manifest.js';
import { loadModel } from '../models.js';
import { prepareVolume, volumeLogits, volumePipeline, volumeRef } from '../volumes.js';
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

export async function extractPrototype(config: PipelineConfig, options: TeacherOptions = {}): Promise<PrototypeOutcome> {
  const teacher = teacherConfig(config, options.teacher);
  const modelFile = teacherModelFile(config, teacher);
  if (!existsSync(modelFile)) {
    throw new ConfigError([`${modelFile}: no teacher (run 'slice-distill train-teacher' first, or set teacher.model to a TorchScript teacher)`], 'prototype');
  }
  const dataset = await openDataset(config.dataset);
  // a teacher trained here: its training volumes; a teacher brought along: every labelled volume
  const split = volumeSplit(config, dataset, teacher.phases);
  const subjects = new Set(teacher.model ? [...split.train, ...split.val] : split.train);
  const volumes = dataset.volumes.filter((v) => v.label && subjects.has(v.subject) && (!teacher.phases?.length || (v.phase && teacher.phases.includes(v.phase))));
  const layout = runLayout(config.runDir);
  const file = layout.prototype(teacher.name);
  const log = options.log ?? defaultLog;
  const { result, reused } = await runStage({
    stage: 'prototype',
    dir: layout.prototypeDir(teacher.name),
    config: { prototype: config.prototype, teacher: { spacing: teacher.spacing, roi: teacher.roi, overlap: teacher.overlap } },
    inputs: { dataset: dataset.file, teacher: fileStamp(modelFile), volumes: volumes.map((v) => v.image) },
    seed: config.seed,
    force: options.force,
    reuse: (m) => ({ file, volumes: m.metrics.volumes as number, slices: m.metrics.slices as number, missing: m.metrics.missing as number[], reused: true }),
    work: async () => {
      applyRuntime(config);
      const module = await loadModel(modelFile, config.device);
      module.eval();
      module.freeze();
      const crop = cropFromConfig(config.prototype.crop);
      const acc = new PrototypeAccumulator({ numClasses: NUM_CLASSES, mode: config.prototype.mode });
      const pipeline = volumePipeline(dataset);
      const sink = progressSink(options.progress);
      const used: { image: string; zRange: [number, number] | null }[] = [];
      try {
        for (const [i, v] of volumes.entries()) {
          options.signal?.throwIfAborted();
          const base = pipeline.base(volumeRef(v));
          const [d, h, w] = base.shape as [number, number, number];
          const [sz, sy, sx] = base.spacing as [number, number, number];
          const range = crop ? await crop.zRange({ shape: [w, h, d], spacing: [sx, sy, sz], image: base.image, label: base.label ?? undefined, file: v.image }) : { start: 0, end: d };
          if (!range) {
            log(`prototype ${teacher.name}: ${v.image} has no slices in the lumbar range; left out`);
            continue;
          }
          const volume = prepareVolume(pipeline, volumeRef(v, [range.start, range.end]), teacher.spacing);
          const logits = await volumeLogits(module, volume, { roi: teacher.roi, overlap: teacher.overlap, signal: options.signal });
          noGrad(() => {
            const labels = tensor(volume.label!, [1, ...volume.shape], { device: config.device });
            acc.add(logits, labels);
            labels.dispose();
          });
          logits.dispose();
          used.push({ image: v.image, zRange: [range.start, range.end] });
          sink.update({ stage: `prototype ${teacher.name}`, unit: 'volume', done: i + 1, total: volumes.length });
        }
      } finally {
        sink.done();
      }
      if (used.length === 0) throw new RangeError(`prototype ${teacher.name}: no volume had slices in the lumbar range (crop ${config.prototype.crop.kind})`);
      const r = acc.result();
      await savePrototype(file, r, { teacher: modelFile, teacherName: teacher.name, dataset: dataset.file, crop: crop?.describe() ?? { crop: 'none' }, volumes: used });
      r.prototype.dispose();
      log(`prototype ${teacher.name}: ${used.length} volumes, ${r.slices} slices -> ${file}${r.missing.length ? ` (classes never seen: ${r.missing.join(', ')})` : ''}`);
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
