// The training loop for any TorchScript segmentation module, 2D or 3D: epochs of async
// training steps, a learning-rate schedule, gradient accumulation, validation each epoch,
// best-checkpoint selection, early stop, atomic checkpoints with exact resume, callbacks,
// progress, and an AbortSignal that stops at the next batch with a checkpoint.
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ScriptModule } from '../module/script-module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadCheckpoint, readCheckpointInfo, saveCheckpoint, type Metrics } from './checkpoint.js';
import { progressSink, type ProgressMode } from './progress.js';
import { trainStep, type LossSpec } from './train-step.js';
import { fileSystemError } from '../errors.js';
import { copyFileAtomic, removeStaleTemps } from '../util/atomic-write.js';
import { lockDir } from '../util/dir-lock.js';
import { repairRunFiles } from './resume-repair.js';
import { allReduceSum, anyRank, barrier, rank as groupRank, isInitialized } from '../distributed/process-group.js';

/** One training batch; dispose() (if given) is called once the step has used it. */
export interface TrainBatch {
  image: Tensor;
  label: Tensor | null;
  /** The files the samples came from (a DataLoader batch has them), named when a batch fails. */
  refs?: readonly { image: string }[];
  dispose?(): void;
}

/** Training stopped on batches whose loss was NaN or infinite, too many in a row. */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    readonly files: string[],
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

/** The batches of an epoch, from `start` on (batches before it are skipped on resume). */
export interface TrainData {
  epochBatches(epoch: number, start: number): AsyncIterable<TrainBatch>;
  /** Batches per epoch, for progress (optional). */
  batchesPerEpoch?(): number;
}

/** The tfjs-style logs of a batch. */
export interface BatchLogs {
  batch: number;
  size: number;
  loss: number;
  crossEntropy: number;
  dice: number;
  /** L_seg: the weighted cross-entropy and Dice terms. */
  seg: number;
  /** beta-free L_DIST and its two terms before weighting (0 without a teacher). */
  dist: number;
  distInter: number;
  distIntra: number;
  lr: number;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  lr: number;
  seconds: number;
  /** Validation metrics (e.g. valDice), where a validate function is given. */
  [metric: string]: number;
}

export interface TrainerCallbacks {
  onBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
}

export interface TrainerOptions {
  module: ScriptModule;
  optimizer: Optimizer;
  data: TrainData;
  epochs: number;
  /** lr as a function of the optimizer step (0-based); constant where absent. */
  schedule?: Schedule;
  /** Default: SEG_LOSS (lib/losses/options.ts), 0.4 cross-entropy + 0.6 soft Dice. */
  loss?: LossSpec;
  /** Batches per optimizer step (default 1). */
  accumulate?: number;
  amp?: boolean;
  clipGradNorm?: number;
  /** Runs after every epoch in eval mode; returns metrics such as { valDice }. */
  validate?: (module: ScriptModule, epoch: number) => Promise<Record<string, number>>;
  /** The metric that picks the best checkpoint (default 'valDice', higher is better). */
  monitor?: { metric: string; mode: 'max' | 'min' };
  /** Stop after this many epochs without improvement of the monitored metric. */
  earlyStop?: { patience: number; minDelta?: number };
  /** Folder for last.ckpt, best.ckpt and train-log.jsonl. */
  runDir: string;
  /**
   * Continue from runDir/last.ckpt where it exists. Where `extra` is given and the checkpoint
   * was written with a different one (other settings or inputs), the run starts over instead.
   */
  resume?: boolean;
  callbacks?: TrainerCallbacks;
  signal?: AbortSignal;
  progress?: ProgressMode;
  /** A label shown in progress lines (default 'train'). */
  stage?: string;
  /** JSON stored in the checkpoints (the config, say); a resume needs the same. */
  extra?: unknown;
  /**
   * Batches in a row whose loss may be NaN / infinite (each skipped, its step dropped) before
   * the run stops with a NonFiniteLossError naming their files (default 5).
   */
  maxNonFinite?: number;
  /** Take runDir's lock file for the run (default true; runStage passes false, it holds it already). */
  lock?: boolean;
}

export interface TrainResult {
  history: EpochLogs[];
  bestEpoch: number | null;
  bestMetric: number | null;
  bestCheckpoint: string | null;
  lastCheckpoint: string;
  aborted: boolean;
  stoppedEarly: boolean;
  steps: number;
}

/** Where a run stands; saved in every checkpoint so that --resume continues exactly. */
interface Position {
  epoch: number;
  batch: number;
  steps: number;
  history: EpochLogs[];
  bestEpoch: number | null;
  bestMetric: number | null;
  badEpochs: number;
  epochLossSum: number;
  /** Per loss term (seg, dist, distInter, distIntra), its sum over the epoch's batches. */
  epochTermSums?: Record<string, number>;
  epochBatches: number;
  epochStarted: number;
}

/** The loss terms an epoch's log shows as means, besides the total. */
const TERMS = ['seg', 'dist', 'distInter', 'distIntra'] as const;

/** Whether the checkpoint was written with this `extra` (none given: any checkpoint will do). */
async function sameSettings(checkpoint: string, extra: unknown): Promise<boolean> {
  if (extra === undefined) return true;
  const stored = (await readCheckpointInfo(checkpoint)).extra as { config?: unknown } | null;
  return JSON.stringify(stored?.config ?? null) === JSON.stringify(extra);
}

export async function train(o: TrainerOptions): Promise<TrainResult> {
  const accumulate = o.accumulate ?? 1;
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new RangeError('epochs: expected an integer >= 0');
  if (!Number.isInteger(accumulate) || accumulate < 1) throw new RangeError('accumulate: expected an integer >= 1');
  const maxNonFinite = o.maxNonFinite ?? 5;
  if (!Number.isInteger(maxNonFinite) || maxNonFinite < 1) throw new RangeError('maxNonFinite: expected an integer >= 1');
  const monitor = o.monitor ?? { metric: 'valDice', mode: 'max' as const };
  try {
    await mkdir(o.runDir, { recursive: true });
  } catch (e) {
    throw fileSystemError(e, 'create the folder', o.runDir);
  }
  // data-parallel: rank 0 owns the folder (lock, checkpoints, log); the others only read it
  const owner = groupRank() === 0;
  const lock = o.lock === false || !owner ? null : lockDir(o.runDir, 'this training folder');
  try {
    if (owner) removeStaleTemps(o.runDir);
    return await run(o, accumulate, maxNonFinite, monitor);
  } finally {
    lock?.release();
  }
}

async function run(o: TrainerOptions, accumulate: number, maxNonFinite: number, monitor: { metric: string; mode: 'max' | 'min' }): Promise<TrainResult> {
  const last = path.join(o.runDir, 'last.ckpt');
  const best = path.join(o.runDir, 'best.ckpt');
  const log = path.join(o.runDir, 'train-log.jsonl');
  const sink = progressSink(o.progress);
  const stage = o.stage ?? 'train';
  // Data-parallel: every rank takes the same steps on its share of the data; rank 0 alone
  // validates and writes, the others wait for it, and stops are agreed by all.
  const parallel = isInitialized();
  const owner = groupRank() === 0;

  let pos: Position = {
    epoch: 0,
    batch: 0,
    steps: 0,
    history: [],
    bestEpoch: null,
    bestMetric: null,
    badEpochs: 0,
    epochLossSum: 0,
    epochBatches: 0,
    epochStarted: Date.now(),
  };
  if (owner && o.resume && existsSync(last) && !(await sameSettings(last, o.extra))) {
    sink.log({ stage, unit: 'epoch', done: 0, total: o.epochs, message: `${last} is from a run with other settings or inputs: starting over` });
    await Promise.all([last, best, log].map((f) => rm(f, { force: true })));
  }
  if (owner && !o.resume) await rm(log, { force: true });
  await barrier(); // the others read last.ckpt once rank 0 has decided on it
  if (o.resume && existsSync(last)) {
    const ck = await loadCheckpoint(last, { module: o.module, optimizer: o.optimizer });
    pos = (ck.extra as { position: Position }).position;
    pos.epochStarted = Date.now();
    const repaired = owner ? await repairRunFiles({ last, best, log }, pos, o.epochs) : [];
    const note = repaired.length ? `; repaired after a kill: ${repaired.join(', ')}` : '';
    sink.log({ stage, unit: 'epoch', done: pos.epoch, total: o.epochs, message: `resumed from ${last} at epoch ${pos.epoch + 1}, batch ${pos.batch}${note}` });
  }

  const save = async (file: string, metrics: Metrics = {}) => {
    if (owner)
      await saveCheckpoint(file, {
        module: o.module,
        optimizer: o.optimizer,
        epoch: pos.epoch,
        step: pos.steps,
        metrics,
        extra: { position: pos, config: o.extra ?? null },
      });
  };
  const result = (aborted: boolean, stoppedEarly: boolean): TrainResult => ({
    history: pos.history,
    bestEpoch: pos.bestEpoch,
    bestMetric: pos.bestMetric,
    bestCheckpoint: existsSync(best) ? best : null,
    lastCheckpoint: last,
    aborted,
    stoppedEarly,
    steps: pos.steps,
  });
  const improved = (value: number) => {
    if (pos.bestMetric === null) return true;
    const delta = o.earlyStop?.minDelta ?? 0;
    return monitor.mode === 'max' ? value > pos.bestMetric + delta : value < pos.bestMetric - delta;
  };

  // the files of the non-finite batches in a row (not checkpointed: a resume counts anew)
  let nonFinite: string[][] = [];
  try {
    while (pos.epoch < o.epochs) {
      const total = o.data.batchesPerEpoch?.() ?? null;
      o.module.train();
      let k = pos.batch;
      for await (const batch of o.data.epochBatches(pos.epoch, pos.batch)) {
        try {
          // stop only between optimizer steps: accumulated gradients are not checkpointed
          const stepStart = k % accumulate === 0;
          const aborted = parallel && stepStart ? await anyRank(o.signal?.aborted ?? false) : (o.signal?.aborted ?? false);
          if (aborted && stepStart) {
            pos.batch = k;
            await save(last);
            await barrier();
            sink.log({ stage, unit: 'batch', done: k, total, epoch: pos.epoch, message: `aborted; checkpoint ${last}` });
            return result(true, false);
          }
          if (!batch.label) throw new TypeError(`${stage}: batch ${k} of epoch ${pos.epoch + 1} has no labels`);
          const startsStep = k % accumulate === 0;
          const endsStep = (k + 1) % accumulate === 0 || (total !== null && k + 1 === total);
          if (startsStep && o.schedule) o.optimizer.lr = o.schedule(pos.steps);
          const r = await trainStep({
            module: o.module,
            optimizer: o.optimizer,
            inputs: batch.image,
            target: batch.label,
            loss: o.loss,
            amp: o.amp,
            clipGradNorm: o.clipGradNorm,
            zeroGrad: startsStep,
            step: endsStep,
            lossScale: 1 / accumulate,
          });
          if (r.nonFinite || !Number.isFinite(r.loss)) {
            const files = batch.refs?.map((ref) => ref.image) ?? [];
            nonFinite.push(files);
            const where = `epoch ${pos.epoch + 1}, batch ${k}${files.length ? ` (${files.join(', ')})` : ''}`;
            if (nonFinite.length >= maxNonFinite) {
              const all = [...new Set(nonFinite.flat())];
              throw new NonFiniteLossError(
                `${stage}: the loss was ${r.loss} in ${nonFinite.length} batches in a row, the last at ${where}; check these files: ${all.join(', ') || '(no file names)'}`,
                all,
                pos.epoch,
                k,
              );
            }
            sink.log({ stage, unit: 'batch', done: k + 1, total, epoch: pos.epoch, message: `the loss is ${r.loss} at ${where}: step skipped` });
            k++;
            continue;
          }
          nonFinite = [];
          if (r.stepped) pos.steps++;
          pos.epochLossSum += r.loss;
          const sums = (pos.epochTermSums ??= {});
          for (const t of TERMS) sums[t] = (sums[t] ?? 0) + r[t];
          pos.epochBatches++;
          const logs: BatchLogs = {
            batch: k,
            size: batch.image.shape[0]!,
            loss: r.loss,
            crossEntropy: r.crossEntropy,
            dice: r.dice,
            seg: r.seg,
            dist: r.dist,
            distInter: r.distInter,
            distIntra: r.distIntra,
            lr: o.optimizer.lr,
          };
          await o.callbacks?.onBatchEnd?.(k, logs);
          const values: Record<string, number> = o.loss?.dist
            ? { loss: r.loss, seg: r.seg, inter: r.distInter, intra: r.distIntra, lr: logs.lr }
            : { loss: r.loss, lr: logs.lr };
          sink.update({ stage, unit: 'batch', done: k + 1, total, epoch: pos.epoch, epochs: o.epochs, values });
          k++;
        } finally {
          batch.dispose?.();
        }
      }

      const logs: EpochLogs = {
        epoch: pos.epoch,
        loss: pos.epochBatches > 0 ? pos.epochLossSum / pos.epochBatches : NaN,
        lr: o.optimizer.lr,
        seconds: (Date.now() - pos.epochStarted) / 1000,
      };
      // L_seg, and with a teacher the DIST terms, as epoch means (the totals mix them)
      for (const t of o.loss?.dist ? TERMS : (['seg'] as const)) {
        if (pos.epochBatches > 0) logs[t] = (pos.epochTermSums?.[t] ?? NaN) / pos.epochBatches;
      }
      if (o.validate && owner) {
        o.module.eval();
        Object.assign(logs, await o.validate(o.module, pos.epoch));
        o.module.train();
      }
      pos.history.push(logs);
      const value = logs[monitor.metric];
      let isBest = false;
      if (value !== undefined && Number.isFinite(value)) {
        if (improved(value)) {
          pos.bestMetric = value;
          pos.bestEpoch = pos.epoch;
          pos.badEpochs = 0;
          isBest = true;
        } else {
          pos.badEpochs++;
        }
      }
      pos.epoch++;
      pos.batch = 0;
      pos.epochLossSum = 0;
      pos.epochTermSums = {};
      pos.epochBatches = 0;
      pos.epochStarted = Date.now();
      await save(last, logs);
      // atomic: a kill or ENOSPC mid-copy must leave the previous best.ckpt, never a part
      if (owner && (isBest || (value === undefined && pos.epoch === o.epochs))) await copyFileAtomic(last, best);
      if (owner) {
        await appendFile(log, JSON.stringify({ ...logs, best: isBest }) + '\n').catch((e: unknown) => {
          throw fileSystemError(e, 'append to', log);
        });
      }
      const { epoch: _e, ...shown } = logs;
      sink.log({ stage, unit: 'epoch', done: pos.epoch, total: o.epochs, epoch: logs.epoch, values: shown, message: isBest ? 'best so far' : '' });
      await o.callbacks?.onEpochEnd?.(logs.epoch, logs);
      // rank 0 alone saw the validation: its early stop (and any rank's abort) holds for all
      const stopNow = owner && o.earlyStop !== undefined && pos.badEpochs >= o.earlyStop.patience;
      const abortNow = o.signal?.aborted ?? false;
      // one all-reduce for both agreements
      const [stops, aborts] = parallel ? await allReduceSum([stopNow ? 1 : 0, abortNow ? 1 : 0]) : [Number(stopNow), Number(abortNow)];
      const stopAll = stops! > 0;
      const abortAll = aborts! > 0;
      if (stopAll) {
        sink.log({
          stage,
          unit: 'epoch',
          done: pos.epoch,
          total: o.epochs,
          message: `early stop: no improvement of ${monitor.metric} for ${pos.badEpochs} epochs`,
        });
        return result(false, true);
      }
      if (abortAll) return result(true, false);
    }
    return result(false, false);
  } finally {
    sink.done();
  }
}
