// distill: from the best pretrained checkpoint, L = L_seg + beta * L_DIST against the teacher
// prototype (the fused op), keeping the best checkpoint on validation Dice. With `control`,
// the same epochs with L_seg alone: the epoch-matched baseline for the distilled student.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadPrototype } from '../../ops/prototype-accumulator.js';
import type { LossSpec } from '../../train/train-step.js';
import { SEG_LOSS } from '../../losses/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { studentInput, studentLr, trainingSeed, type Arch2d, type DistillConfig, type PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, sliceSplit, type StageOptions } from '../context.js';
import { BEST_CHECKPOINT, runLayout, studentName } from '../layout.js';
import { loadModel } from '../models.js';
import { CONTROL_VARIANT } from '../results-file.js';
import { fileStamp } from '../manifest.js';
import { recordedPrototypeWindow, recordedSliceInput, sameWindow } from '../recorded-input.js';
import { runTraining, type TrainingOutcome } from '../training.js';
import { polySchedule, studentData, studentOptimizer } from './student.js';

export interface DistillOptions extends StageOptions {
  arch?: Arch2d;
  trainSubjects?: number;
  /** The teacher whose prototype is used (default config.teacher.name). */
  teacher?: string;
  /** Default: the prototype stage's file of that teacher in the run. */
  prototype?: string;
  /** Default: the pretrain stage's best checkpoint of this student in the run. */
  from?: string;
  /**
   * The epoch-matched control: the same epochs from the same checkpoint with L_seg alone (no
   * teacher), as variant CONTROL_VARIANT, so that a gain of distillation is not just more training.
   */
  control?: boolean;
  /**
   * Names the arm's folder (distill-<variant>) and its variant in the tables (default: the
   * teacher's name), so that ablations of one teacher (another beta, tau, channels or prototype) sit side by side.
   */
  variant?: string;
}

/**
 * The segmentation loss plus beta * L_DIST. `teacherCounts` are the prototype file's per-class
 * counts: a class the teacher never saw (count 0) is absent in every student sample.
 */
export function distillLoss(d: DistillConfig, teacherPrototype: Tensor, teacherCounts?: readonly number[]): LossSpec {
  const dist: NonNullable<LossSpec['dist']> = {
    weight: d.beta,
    teacherPrototype,
    tau: d.tau,
    interWeight: d.interWeight,
    intraWeight: d.intraWeight,
    channels: d.channels,
  };
  if (teacherCounts) dist.teacherMask = teacherCounts.map((n) => n > 0);
  return { ...SEG_LOSS, dist };
}

/** The prototype and the pretrained student must have seen the HU window the students train under now. */
async function checkSameWindow(want: readonly [number, number], from: string, prototypeFile: string | null): Promise<void> {
  const problems: string[] = [];
  if (prototypeFile) {
    const file = await loadPrototype(prototypeFile);
    file.prototype.dispose();
    const made = recordedPrototypeWindow(file.provenance as Record<string, unknown>);
    if (made && !sameWindow(made, want))
      problems.push(
        `${prototypeFile}: the teacher prototype was made with hu.window [${made.join(', ')}], the students use [${want.join(', ')}]; re-run 'slice-distill prototype' or set hu.window to match`,
      );
  }
  const pretrained = await recordedSliceInput(from);
  if (pretrained?.window && !sameWindow(pretrained.window, want))
    problems.push(`${from}: pretrained with hu.window [${pretrained.window.join(', ')}], distill uses [${want.join(', ')}]`);
  if (problems.length) throw new ConfigError(problems, 'distill');
}

export async function distill(config: PipelineConfig, options: DistillOptions = {}): Promise<TrainingOutcome> {
  const arch = options.arch ?? config.student.arch;
  const n = options.trainSubjects ?? config.trainSubjects;
  const control = options.control ?? false;
  const teacher = control ? CONTROL_VARIANT : (options.teacher ?? config.teacher.name);
  const layout = runLayout(config.runDir);
  const student = studentName(arch, n, config);
  const seed = trainingSeed(config);
  const from = options.from ?? path.join(layout.pretrain(student), BEST_CHECKPOINT);
  const prototypeFile = control ? null : (options.prototype ?? layout.prototype(teacher));
  const missing = [
    existsSync(from) ? null : `${from}: no pretrained checkpoint (run 'slice-distill pretrain' first, or give --from)`,
    prototypeFile === null || existsSync(prototypeFile)
      ? null
      : `${prototypeFile}: no teacher prototype (run 'slice-distill prototype' first, or give --prototype)`,
  ].filter((m): m is string => m !== null);
  if (missing.length) throw new ConfigError(missing, 'distill');
  await checkSameWindow(config.hu.window, from, prototypeFile);
  const dataset = await openDataset(config.dataset);
  const split = sliceSplit(config, dataset, n);
  const lr = config.distill.lr ?? studentLr(config, arch);
  const log = options.log ?? defaultLog;
  return runTraining(
    {
      stage: 'distill',
      label: control ? `continue ${student} with L_seg only (control)` : `distill ${student} with ${teacher}${options.variant ? ` (${options.variant})` : ''}`,
      dir: layout.distill(student, control ? teacher : (options.variant ?? teacher)),
      key: {
        config: {
          student: { ...config.student, arch },
          input: studentInput(config),
          distill: control ? { ...config.distill, beta: 0 } : config.distill,
          control,
          split: config.split,
          seed: config.seed,
          trainingSeed: seed,
          patience: config.patience,
        },
        inputs: { dataset: dataset.file, train: split.used, val: split.val, from: fileStamp(from), prototype: prototypeFile && fileStamp(prototypeFile) },
      },
      seed,
      epochs: config.distill.epochs,
      patience: config.patience,
      maxNonFinite: config.maxNonFinite,
      amp: config.amp,
      prepare: async () => {
        applyRuntime(config);
        const module = await loadModel(from, config.device);
        let loss: LossSpec = SEG_LOSS;
        if (prototypeFile) {
          const proto = await loadPrototype(prototypeFile);
          loss = distillLoss(config.distill, proto.prototype.to({ dtype: 'float32', device: config.device }), proto.counts);
          if (proto.missing.length) log(`distill ${student}: the teacher never saw classes ${proto.missing.join(', ')}; they are left out of L_DIST`);
          proto.prototype.dispose();
        }
        const data = studentData({ ...config, student: { ...config.student, arch } }, dataset, n, options.signal);
        return {
          module,
          optimizer: studentOptimizer(config.student, module, lr),
          loader: data.loader,
          schedule: polySchedule(lr, config.distill.epochs),
          loss,
          validate: data.validate,
        };
      },
    },
    options,
  );
}
