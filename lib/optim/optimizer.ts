// Optimizers over any list of parameter tensors (torch::optim underneath, so each step is
// PyTorch's own update rule).
import { native, type Handle, type OptimizerHandleRaw, type OptimizerOptionsRaw, type OptimizerStateRaw } from '../native/addon.js';
import type { OptimizerKind } from '../native/names.js';
import { resolveAdam, resolveSgd, type AdamOptions, type SGDOptions } from './options.js';
import { NativeResource } from '../tensor/native-resource.js';
import { Tensor, wrap } from '../tensor/tensor.js';

/** One parameter's saved state; which tensors are present depends on the optimizer. */
export interface ParamState {
  step?: number;
  momentumBuffer?: Tensor;
  expAvg?: Tensor;
  expAvgSq?: Tensor;
  maxExpAvgSq?: Tensor;
}

/** Everything needed to resume: per-parameter state (in parameter order), lr, AMP scaler. */
export interface OptimizerState {
  kind: OptimizerKind;
  lr: number;
  state: (ParamState | null)[];
  scaler?: { scale: Tensor; growthTracker: Tensor };
}

export type { OptimizerKind };

const TENSOR_KEYS = ['momentumBuffer', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;

/** `dispose()` frees its state (momentum, moments, loss scaler); the parameters belong to their module. */
export abstract class Optimizer extends NativeResource<OptimizerHandleRaw> {
  readonly kind: OptimizerKind;
  /** How many parameters it updates. */
  readonly size: number;

  protected constructor(params: Iterable<Tensor>, options: OptimizerOptionsRaw) {
    const list = [...params];
    super(
      new native.OptimizerHandle(
        list.map((p) => p.handle),
        options,
      ),
    );
    this.kind = options.kind;
    this.size = list.length;
  }

  protected get resourceName(): string {
    return `optimizer (${this.kind})`;
  }

  /** The learning rate of every parameter group; set it per iteration from a schedule. */
  get lr(): number {
    return this.raw.getLr();
  }

  set lr(value: number) {
    this.raw.setLr(value);
  }

  /** Clears gradients (to none by default, as PyTorch does). */
  zeroGrad(setToNone = true): void {
    this.raw.zeroGrad(setToNone);
  }

  /** Applies one update from the current gradients. */
  step(): void {
    this.raw.step();
  }

  /** A copy of the state; its tensors belong to the caller (and the current scope). */
  stateDict(): OptimizerState {
    const raw = this.raw.stateDict();
    return {
      kind: raw.kind,
      lr: raw.lr,
      state: raw.state.map((entry) => {
        if (entry === null) return null;
        const out: ParamState = {};
        if (typeof entry.step === 'number') out.step = entry.step;
        for (const key of TENSOR_KEYS) {
          const h = entry[key];
          if (h !== undefined && typeof h === 'object') out[key] = wrap(h);
        }
        return out;
      }),
      scaler: raw.scaler && { scale: wrap(raw.scaler.scale), growthTracker: wrap(raw.scaler.growthTracker) },
    };
  }

  /** Restores a state from stateDict() (same kind, same parameters in the same order). */
  loadStateDict(state: OptimizerState): void {
    const raw: OptimizerStateRaw = {
      kind: state.kind,
      lr: state.lr,
      state: state.state.map((entry) => {
        if (entry === null || entry === undefined) return null;
        const out: { step?: number; [k: string]: Handle | number | undefined } = {};
        if (entry.step !== undefined) out.step = entry.step;
        for (const key of TENSOR_KEYS) {
          const t = entry[key];
          if (t instanceof Tensor) out[key] = t.handle;
        }
        return out;
      }),
      scaler: state.scaler && { scale: state.scaler.scale.handle, growthTracker: state.scaler.growthTracker.handle },
    };
    this.raw.loadStateDict(raw);
  }
}

/** Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay. */
export class SGD extends Optimizer {
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params, resolveSgd(options));
  }
}

/** Adam (weight decay as an L2 term in the gradient); defaults: ADAM_DEFAULTS. */
export class Adam extends Optimizer {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, resolveAdam('adam', options));
  }
}

/** AdamW (decoupled weight decay); defaults: ADAMW_DEFAULTS. */
export class AdamW extends Optimizer {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, resolveAdam('adamw', options));
  }
}

export type { SGDOptions, AdamOptions };
