// What pretrain and distill share: the student's data (training loader over the used
// subjects with the recipe's augmentation, validation slices at the model size) and optimizer.
import { DataLoader } from '../../loader/loader.js';
import { entriesOf } from '../../data/splits.js';
import type { Dataset } from '../../data/dataset.js';
import { student2d } from '../../data/transforms.js';
import { rankBatch } from '../../distributed/rank-batch.js';
import type { ScriptModule } from '../../module/script-module.js';
import { AdamW, SGD, type Optimizer } from '../../optim/optimizer.js';
import { poly } from '../../optim/schedules.js';
import { augmentRecipe, studentInput, trainingSeed, type StudentConfig, type StudentDataConfig } from '../config.js';
import { sliceSplit, type SliceSplit } from '../context.js';
import { meanSubjectDice, prepareSlices, sliceDice, slicePipeline, sliceRefs } from '../../infer/slices.js';

export interface StudentData {
  split: SliceSplit;
  loader: DataLoader;
  validate?: (module: ScriptModule) => Promise<Record<string, number>>;
}

export function studentData(config: StudentDataConfig, dataset: Dataset, trainSubjects: number | undefined, signal?: AbortSignal): StudentData {
  const s = config.student;
  const input = studentInput(config);
  const split = sliceSplit(config, dataset, trainSubjects);
  // a subject may own several slices: batches count slices, not subjects
  const items = entriesOf(dataset.slices, split.used).length;
  // BatchNorm cannot train on a batch of one: leave out a last batch of one
  const dropLast = items > s.batchSize && items % s.batchSize === 1;
  const loader = DataLoader.fromDataset(dataset, {
    kind: 'slices',
    subjects: split.used,
    transforms: student2d(s.size, { augment: augmentRecipe(s.augment), window: input.window, fieldOfViewMm: input.fieldOfViewMm }),
    ...rankBatch(Math.min(s.batchSize, items), 'student.batchSize'), // data-parallel: this rank's share
    dropLast,
    workers: config.workers,
    seed: trainingSeed(config),
    device: config.device,
  });
  if (split.val.length === 0) return { split, loader };
  // per subject, pooled under the test's policy, so the best checkpoint is picked by what evaluate reports
  const val = prepareSlices(
    slicePipeline(dataset),
    sliceRefs(dataset, split.val).filter((r) => r.label),
    input,
  );
  if (val.length === 0) return { split, loader };
  const policy = config.evaluation.policy;
  return { split, loader, validate: async (m) => ({ valDice: meanSubjectDice(await sliceDice(m, val, input, signal, policy)) }) };
}

export function studentOptimizer(student: Pick<StudentConfig, 'optimizer' | 'momentum' | 'weightDecay'>, module: ScriptModule, lr: number): Optimizer {
  const { optimizer, momentum, weightDecay } = student;
  return optimizer === 'adamw' ? new AdamW(module.parameters(), { lr, weightDecay }) : new SGD(module.parameters(), { lr, momentum, weightDecay });
}

export const polySchedule = (lr: number, epochs: number) => (stepsPerEpoch: number) => poly({ baseLr: lr, total: Math.max(1, epochs * stepsPerEpoch) });
