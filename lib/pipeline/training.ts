// Shared by the training stages: the Trainer around a DataLoader, inside runStage, with an
// abort that keeps the checkpoint and leaves the stage unfinished (the next run resumes it).
import type { DataLoader } from '../loader/loader.js';
import type { ScriptModule } from '../module/script-module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';
import { info } from '../distributed/process-group.js';
import { fromLoader } from '../train/data-source.js';
import type { LossSpec } from '../train/train-step.js';
import { train, type TrainResult } from '../train/trainer.js';
import { defaultLog, type StageOptions } from './context.js';
import { runStage, type Manifest } from './manifest.js';

export class StageAbortedError extends Error {
  constructor(
    readonly stage: string,
    readonly checkpoint: string,
  ) {
    super(`${stage}: aborted; the last checkpoint is ${checkpoint}, and running the stage again resumes from it`);
    this.name = 'StageAbortedError';
  }
}

/** What a finished training stage reports. */
export interface TrainingOutcome {
  dir: string;
  bestCheckpoint: string;
  bestEpoch: number | null;
  bestMetric: number | null;
  epochs: number;
  reused: boolean;
  manifest: Manifest;
}

export interface TrainingStage {
  stage: string;
  /** Shown in progress lines, e.g. 'pretrain deeplabv3'. */
  label: string;
  dir: string;
  /** What decides whether a finished run can be reused. */
  key: { config: unknown; inputs: Record<string, unknown> };
  seed: number;
  epochs: number;
  patience: number;
  /** NaN / infinite losses in a row before the training stops (Trainer default 5). */
  maxNonFinite?: number;
  amp?: boolean;
  clipGradNorm?: number;
  /** Builds what is trained, only when the stage has to run. */
  prepare: () => Promise<{
    module: ScriptModule;
    optimizer: Optimizer;
    loader: DataLoader;
    schedule: (stepsPerEpoch: number) => Schedule;
    loss?: LossSpec;
    validate?: (module: ScriptModule) => Promise<Record<string, number>>;
    monitor?: { metric: string; mode: 'max' | 'min' };
  }>;
}

export async function runTraining(t: TrainingStage, options: StageOptions): Promise<TrainingOutcome> {
  const log = options.log ?? defaultLog;
  const { result, manifest, reused } = await runStage<TrainResult>({
    stage: t.stage,
    dir: t.dir,
    config: t.key.config,
    inputs: t.key.inputs,
    seed: t.seed,
    force: options.force,
    reuse: (m) => ({ bestCheckpoint: m.outputs.bestCheckpoint }) as TrainResult,
    work: async () => {
      const p = await t.prepare();
      const group = info();
      if (group)
        log(
          `${t.label}: data-parallel rank ${group.rank} of ${group.worldSize} (${group.backend}): ${p.loader.batchSize} samples of each global batch of ${p.loader.batchSize * group.worldSize}`,
        );
      try {
        const r = await train({
          module: p.module,
          optimizer: p.optimizer,
          data: fromLoader(p.loader),
          epochs: t.epochs,
          schedule: p.schedule(Math.max(1, p.loader.length)),
          loss: p.loss,
          amp: t.amp,
          clipGradNorm: t.clipGradNorm || undefined,
          validate: p.validate && ((m) => p.validate!(m)),
          monitor: p.monitor,
          earlyStop: t.patience > 0 ? { patience: t.patience } : undefined,
          runDir: t.dir,
          resume: options.resume ?? true,
          signal: options.signal,
          progress: options.progress,
          stage: t.label,
          extra: t.key,
          maxNonFinite: t.maxNonFinite,
          lock: false, // runStage holds the folder's lock
        });
        if (r.aborted) throw new StageAbortedError(t.label, r.lastCheckpoint);
        const best = r.bestCheckpoint ?? r.lastCheckpoint;
        return {
          outputs: { bestCheckpoint: best, lastCheckpoint: r.lastCheckpoint, log: 'train-log.jsonl' },
          metrics: {
            bestEpoch: r.bestEpoch,
            bestMetric: r.bestMetric,
            epochsRun: r.history.length,
            steps: r.steps,
            stoppedEarly: r.stoppedEarly,
            final: r.history.at(-1) ?? null,
          },
          result: r,
        };
      } finally {
        // the stage's result is its checkpoints: the module and its optimizer end here, whatever
        // fails on the way (each release in its own finally, so none is skipped)
        try {
          await p.loader.close();
        } finally {
          try {
            p.optimizer.dispose();
          } finally {
            p.module.dispose();
          }
        }
      }
    },
  });
  if (reused) log(`${t.label}: finished earlier (${t.dir}), reused`);
  return {
    dir: t.dir,
    bestCheckpoint: result.bestCheckpoint ?? String(manifest.outputs.bestCheckpoint),
    bestEpoch: (manifest.metrics.bestEpoch as number | null) ?? null,
    bestMetric: (manifest.metrics.bestMetric as number | null) ?? null,
    epochs: t.epochs,
    reused,
    manifest,
  };
}
