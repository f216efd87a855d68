// pretrain: a 2D student on the training slices with L_seg, keeping the best checkpoint on
// validation Dice.
import { studentInput, studentLr, trainingSeed, type Arch2d, type PipelineConfig } from '../config.js';
import { applyRuntime, datasetReport, defaultLog, openDataset, sliceSplit, type StageOptions } from '../context.js';
import { studentDataWarnings } from '../data-warnings.js';
import { runLayout, studentName } from '../layout.js';
import { fileStamp } from '../manifest.js';
import { initialModel } from '../models.js';
import { runTraining, type TrainingOutcome } from '../training.js';
import { polySchedule, studentData, studentOptimizer } from './student.js';

export interface PretrainOptions extends StageOptions {
  /** Default: config.student.arch. */
  arch?: Arch2d;
  /** Default: config.trainSubjects (all when absent). */
  trainSubjects?: number;
}

export async function pretrain(config: PipelineConfig, options: PretrainOptions = {}): Promise<TrainingOutcome> {
  const arch = options.arch ?? config.student.arch;
  const n = options.trainSubjects ?? config.trainSubjects;
  const dataset = await openDataset(config.dataset);
  const split = sliceSplit(config, dataset, n);
  const student = { ...config.student, arch, lr: studentLr(config, arch) };
  const seed = trainingSeed(config);
  const name = studentName(arch, n, config);
  const dir = runLayout(config.runDir).pretrain(name);
  const report = datasetReport(config.dataset);
  if (report) for (const w of studentDataWarnings(config, dataset, report, n)) (options.log ?? defaultLog)(`pretrain ${name}: ${w}`);
  return runTraining(
    {
      stage: 'pretrain',
      label: `pretrain ${name}`,
      dir,
      key: {
        config: { student, input: studentInput(config), split: config.split, seed: config.seed, trainingSeed: seed, patience: config.patience },
        inputs: { dataset: dataset.file, train: split.used, val: split.val, init: student.init && fileStamp(student.init.path) },
      },
      seed,
      epochs: student.epochs,
      patience: config.patience,
      maxNonFinite: config.maxNonFinite,
      amp: config.amp,
      prepare: async () => {
        applyRuntime(config);
        const module = await initialModel({
          given: student.model,
          init: student.init,
          arch,
          preset: student.preset,
          dir,
          seed,
          device: config.device,
          signal: options.signal,
          log: (l) => (options.log ?? defaultLog)(`pretrain ${name}: ${l}`),
        });
        const data = studentData({ ...config, student }, dataset, n, options.signal);
        return {
          module,
          optimizer: studentOptimizer(config.student, module, student.lr),
          loader: data.loader,
          schedule: polySchedule(student.lr, student.epochs),
          validate: data.validate,
        };
      },
    },
    options,
  );
}
