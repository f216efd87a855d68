// One training step in one native call: forward, the declarative loss, backward, gradient
// clipping, optimizer step (and AMP on CUDA). The async form runs off the JS thread.
import { native, type Handle, type IValueRaw, type LossSpecRaw, type TrainStepResultRaw, type TrainStepSpecRaw } from '../native/addon.js';
import { resolveDiceOptions, SEG_LOSS, TERM_WEIGHT, type DiceOptions } from '../losses/options.js';
import { DIST_DEFAULTS, resolveDistOptions, type DistOptions } from '../ops/dist-options.js';
import { enqueue } from '../module/device-queue.js';
import { toOwnedRaw, toRaw, withOwned, type ModuleInput } from '../module/ivalue.js';
import type { ScriptModule } from '../module/script-module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Tensor } from '../tensor/tensor.js';
import { isInitialized } from '../distributed/process-group.js';

/**
 * The loss as data (JS cannot run on the worker thread): a weighted sum of native terms.
 * Default: SEG_LOSS (0.4 cross-entropy + 0.6 soft Dice). Giving `loss` counts only the terms
 * named; a named term without a weight weighs 1 (dist: DIST_DEFAULTS.weight, beta).
 */
export interface LossSpec {
  crossEntropy?: { weight?: number; classWeights?: Tensor };
  dice?: { weight?: number } & Omit<DiceOptions, 'ignoreIndex'>;
  /** beta * L_DIST against the teacher prototype [C, C] (weight = beta); the other keys as ops.DistOptions. */
  dist?: { weight?: number; teacherPrototype: Tensor } & Omit<DistOptions, 'ignoreIndex' | 'checkLabels'>;
  /** Pixels with this label count for no term. */
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
  return {
    module: o.module.raw,
    optimizer: o.optimizer.raw,
    inputs: inputs.map(convert),
    target: convert(o.target) as Handle,
    loss: resolveLoss(o.loss ?? SEG_LOSS, (t) => convert(t) as Handle),
    clipGradNorm: o.clipGradNorm ?? null,
    amp,
    zeroGrad: o.zeroGrad ?? true,
    step: o.step ?? true,
    lossScale: o.lossScale ?? 1,
    distributed: o.distributed ?? isInitialized(),
  };
}

/** Every field of the loss, its defaults filled in. */
function resolveLoss(loss: LossSpec, handle: (t: Tensor) => Handle): LossSpecRaw {
  const { crossEntropy: ce, dice, dist } = loss;
  return {
    crossEntropy: ce ? { weight: ce.weight ?? TERM_WEIGHT, classWeights: ce.classWeights ? handle(ce.classWeights) : null } : null,
    dice: dice ? { weight: dice.weight ?? TERM_WEIGHT, ...omitLabelOptions(resolveDiceOptions(dice)) } : null,
    dist: dist
      ? { weight: dist.weight ?? DIST_DEFAULTS.weight, teacherPrototype: handle(dist.teacherPrototype), ...omitLabelOptions(resolveDistOptions(dist)) }
      : null,
    ignoreIndex: loss.ignoreIndex ?? null,
  };
}

/** The step's terms share the loss's ignoreIndex, and its labels are checked once for all. */
function omitLabelOptions<T extends { ignoreIndex: number | null; checkLabels?: boolean }>(o: T): Omit<T, 'ignoreIndex' | 'checkLabels'> {
  const { ignoreIndex: _ignore, checkLabels: _check, ...rest } = o;
  return rest;
}

/** The step off the JS thread, queued behind other async work on the module's device. */
export function trainStep(options: TrainStepOptions): Promise<TrainStepResult> {
  const owned: Handle[] = []; // the caller may dispose its tensors while this waits in the queue
  let spec: TrainStepSpecRaw;
  try {
    spec = toSpec(options, owned);
  } catch (e) {
    return Promise.reject(e as Error); // a promise either way, bad options included
  }
  return withOwned(owned, () => enqueue(options.module.device, () => native.trainStepAsync(spec)));
}

/** The same step on the JS thread (blocks the event loop while it runs). */
export function trainStepSync(options: TrainStepOptions): TrainStepResult {
  return native.trainStep(toSpec(options));
}
