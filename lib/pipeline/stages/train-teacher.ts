// train-teacher: the 3D teacher (UNesT) on the dataset's labelled volumes: random crops of
// the teacher's input size with positive / negative sampling, L_seg, AdamW with warmup and
// cosine decay, the best checkpoint on validation Dice of whole volumes (sliding windows).
// Skipped where the config brings a trained teacher (teacher.model); teacher.init fine-tunes
// from given weights instead of a random start.
import path from 'node:path';
import { DataLoader } from '../../loader/loader.js';
import { rankBatch } from '../../distributed/rank-batch.js';
import { randomCrop, resample, window } from '../../data/transforms.js';
import { subjectMean } from '../../eval/dice.js';
import { SEG_LOSS } from '../../losses/options.js';
import { AdamW } from '../../optim/optimizer.js';
import { cosineWithWarmup } from '../../optim/schedules.js';
import type { PipelineConfig, TeacherConfig, TeacherVariant } from '../config.js';
import { applyRuntime, datasetReport, defaultLog, openDataset, volumeSplit, type StageOptions } from '../context.js';
import { teacherDataWarnings } from '../data-warnings.js';
import { BEST_CHECKPOINT, runLayout } from '../layout.js';
import { initialModel } from '../models.js';
import { fileStamp } from '../manifest.js';
import { runTraining, type TrainingOutcome } from '../training.js';
import { prepareVolume, volumeDice, volumePipeline, volumeRef } from '../volumes.js';

export interface TeacherOptions extends StageOptions {
  /** A teacher variant of the experiment (name, phases, model) over config.teacher. */
  teacher?: TeacherVariant;
}

/** config.teacher with a variant's name, phases and model. */
export function teacherConfig(config: Pick<PipelineConfig, 'teacher'>, variant?: TeacherVariant): TeacherConfig {
  if (!variant) return config.teacher;
  return { ...config.teacher, name: variant.name, phases: variant.phases ?? config.teacher.phases, model: variant.model };
}

/** The teacher's weights: the model the config brings, else the best checkpoint of train-teacher. */
export function teacherModelFile(runDir: string, teacher: Pick<TeacherConfig, 'model' | 'name'>): string {
  return teacher.model ?? path.join(runLayout(runDir).teacher(teacher.name), BEST_CHECKPOINT);
}

export async function trainTeacher(
  config: PipelineConfig,
  options: TeacherOptions = {},
): Promise<TrainingOutcome | { dir: null; bestCheckpoint: string; reused: true }> {
  const teacher = teacherConfig(config, options.teacher);
  if (teacher.model) {
    (options.log ?? ((l: string) => process.stderr.write(l + '\n')))(`train-teacher ${teacher.name}: using the given model ${teacher.model}`);
    return { dir: null, bestCheckpoint: teacher.model, reused: true };
  }
  const dataset = await openDataset(config.dataset);
  const split = volumeSplit(config, dataset, teacher.phases);
  const report = datasetReport(config.dataset);
  if (report) for (const w of teacherDataWarnings(config, dataset, report, teacher.phases)) (options.log ?? defaultLog)(`train-teacher ${teacher.name}: ${w}`);
  const dir = runLayout(config.runDir).teacher(teacher.name);
  const phaseOk = (e: { phase?: string | undefined }) => !teacher.phases?.length || (e.phase !== undefined && teacher.phases.includes(e.phase));
  return runTraining(
    {
      stage: 'train-teacher',
      label: `train-teacher ${teacher.name}`,
      dir,
      key: {
        config: { teacher, huWindow: config.hu.window, seed: config.seed, patience: config.patience },
        inputs: { dataset: dataset.file, train: split.train, val: split.val, init: teacher.init && fileStamp(teacher.init.path) },
      },
      seed: config.seed,
      epochs: teacher.epochs,
      patience: config.patience,
      maxNonFinite: config.maxNonFinite,
      amp: config.amp,
      clipGradNorm: teacher.clipGradNorm,
      prepare: async () => {
        applyRuntime(config);
        const module = await initialModel({
          init: teacher.init,
          arch: teacher.arch,
          preset: teacher.preset,
          dir,
          seed: config.seed,
          device: config.device,
          signal: options.signal,
          log: (l) => (options.log ?? defaultLog)(`train-teacher ${teacher.name}: ${l}`),
        });
        const [pos, neg] = teacher.posNeg as [number, number];
        const loader = DataLoader.fromDataset(dataset, {
          kind: 'volumes',
          subjects: split.train,
          filter: (e) => Boolean(e.label) && phaseOk('phase' in e ? e : {}),
          transforms: [window(...config.hu.window), resample({ spacing: teacher.spacing }), randomCrop(teacher.roi, { pos, neg })],
          ...rankBatch(teacher.batchSize, 'teacher.batchSize'), // data-parallel: this rank's share
          samplesPerItem: teacher.samplesPerVolume,
          workers: config.workers,
          seed: config.seed,
          device: config.device,
        });
        const pipeline = volumePipeline(dataset);
        const valRefs = dataset.volumes.filter((v) => split.val.includes(v.subject) && v.label && phaseOk(v)).map((v) => volumeRef(v));
        const validate = valRefs.length
          ? async (m: typeof module) => {
              const means: number[] = [];
              for (const ref of valRefs) {
                const dice = await volumeDice(m, prepareVolume(pipeline, ref, teacher.spacing, config.hu.window), {
                  roi: teacher.roi,
                  overlap: teacher.overlap,
                  signal: options.signal,
                });
                means.push(subjectMean(dice) ?? 0);
              }
              return { valDice: means.reduce((a, b) => a + b, 0) / means.length };
            }
          : undefined;
        return {
          module,
          optimizer: new AdamW(module.parameters(), { lr: teacher.lr, weightDecay: teacher.weightDecay }),
          loader,
          schedule: (stepsPerEpoch) => {
            const total = Math.max(1, teacher.epochs * stepsPerEpoch);
            return cosineWithWarmup({ baseLr: teacher.lr, total, warmup: Math.min(total - 1, Math.round(teacher.warmupEpochs * stepsPerEpoch)) });
          },
          // L_seg, as the students (an unsquared organ-only Dice, MONAI's DiceCE style, let the
          // tiny teacher collapse to background everywhere at useful learning rates on the phantom)
          loss: SEG_LOSS,
          validate,
        };
      },
    },
    options,
  );
}
