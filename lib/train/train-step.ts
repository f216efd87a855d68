// One training step in one native call: forward, the declarative loss, backward, gradient
// clipping, optimizer step (and AMP on CUDA). The async form runs off the JS thread.
import { native, type Handle, type IValueRaw, type TrainStepResultRaw, type TrainStepSpecRaw } from '../native/addon.js';
import { enqueue } from '../module/device-queue.js';
import { toOwnedRaw, toRaw, withOwned, type ModuleInput } from '../module/ivalue.js';
import type { ScriptModule } from '../module/script-module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Tensor } from '../tensor/tensor.js';
import { isInitialized } from '../distributed/process-group.js';

/**
 * The loss as data (JS cannot run on the worker thread): a weighted sum of native terms.
 * Default: 0.4 cross-entropy + 0.6 soft Dice. Giving `loss` counts only the terms named.
 */
export interface LossSpec {
  crossEntropy?: { weight?: number; classWeights?: Tensor };
  dice?: { weight?: number; smooth?: number; squared?: boolean; includeBackground?: boolean };
  /** beta * L_DIST against the teacher prototype [C, C] (weight = beta, default 0.5); the other keys as ops.DistOptions. */
  dist?: {
    weight?: number;
    teacherPrototype: Tensor;
    tau?: number;
    interWeight?: number;
    intraWeight?: number;
    channels?: 'present' | 'all';
    teacherMask?: readonly boolean[];
  };
  ignoreIndex?: number;
}

export interface TrainStepOptions {
  module: ScriptModule;
  optimizer: Optimizer;
  /** The forward inputs: one tensor or the argument list. */
  inputs: Tensor | readonly ModuleInput[];
  /** Integer labels [B, H, W] / [B, D, H, W]. */
  target: Tensor;
  loss?: LossSpec;
  /** Clip the gradients' joint L2 norm to this before the step. */
  clipGradNorm?: number;
  /** Mixed precision (float16 autocast + loss scaling) on CUDA; a no-op with a notice on CPU. */
  amp?: boolean;
  /** Clear gradients first (default true); false to accumulate over several calls. */
  zeroGrad?: boolean;
  /** Run the optimizer step (default true); false while accumulating. */
  step?: boolean;
  /** Multiplies the loss before backward, e.g. 1 / accumulation steps. */
  lossScale?: number;
  /**
   * Data-parallel (default: whenever distributed.init has run): rank 0's parameters on the
   * module's first step and its buffers every step, the gradients averaged over the ranks
   * before clipping and the step, the reported losses the ranks' means.
   */
  distributed?: boolean;
}

export type TrainStepResult = TrainStepResultRaw;

let ampNoticeGiven = false;

function toSpec(o: TrainStepOptions, owned?: Handle[]): TrainStepSpecRaw {
  const convert = (v: ModuleInput): IValueRaw => (owned ? toOwnedRaw(v, owned) : toRaw(v));
  let amp = o.amp ?? false;
  if (amp && !o.module.device.startsWith('cuda')) {
    amp = false;
    if (!ampNoticeGiven) {
      ampNoticeGiven = true;
      process.emitWarning('amp: mixed precision runs on CUDA only; on the CPU the option is ignored', {
        code: 'SLICE_DISTILL_AMP_CPU',
      });
    }
  }
  const inputs = o.inputs instanceof Tensor ? [o.inputs] : o.inputs;
  const loss = o.loss && {
    ...o.loss,
    crossEntropy: o.loss.crossEntropy && { ...o.loss.crossEntropy, classWeights: o.loss.crossEntropy.classWeights && convert(o.loss.crossEntropy.classWeights) },
    dist: o.loss.dist && { ...o.loss.dist, teacherPrototype: convert(o.loss.dist.teacherPrototype) },
  };
  return {
    module: o.module.raw,
    optimizer: o.optimizer.raw,
    inputs: inputs.map(convert),
    target: convert(o.target) as Handle,
    loss,
    clipGradNorm: o.clipGradNorm,
    amp,
    zeroGrad: o.zeroGrad,
    step: o.step,
    lossScale: o.lossScale,
    ...((o.distributed ?? isInitialized()) ? { distributed: true } : {}),
  };
}

/** The step off the JS thread, queued behind other async work on the module's device. */
export function trainStep(options: TrainStepOptions): Promise<TrainStepResult> {
  const owned: Handle[] = []; // the caller may dispose its tensors while this waits in the queue
  const spec = toSpec(options, owned);
  return withOwned(owned, () => enqueue(options.module.device, () => native.trainStepAsync(spec)));
}

/** The same step on the JS thread (blocks the event loop while it runs). */
export function trainStepSync(options: TrainStepOptions): TrainStepResult {
  return native.trainStep(toSpec(options));
}
