// The optimizers' defaults, torch.optim's, in one place: the addon reads every field.
import type { AdamOptionsRaw, SgdOptionsRaw } from '../native/addon.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

export const SGD_DEFAULTS = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false } as const;
export const ADAM_DEFAULTS = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false } as const;
/** AdamW differs from Adam only in its decoupled weight decay's default. */
export const ADAMW_DEFAULTS = { ...ADAM_DEFAULTS, weightDecay: 1e-2 } as const;

export function resolveSgd(o: SGDOptions): SgdOptionsRaw {
  return {
    kind: 'sgd',
    lr: o.lr,
    momentum: o.momentum ?? SGD_DEFAULTS.momentum,
    dampening: o.dampening ?? SGD_DEFAULTS.dampening,
    weightDecay: o.weightDecay ?? SGD_DEFAULTS.weightDecay,
    nesterov: o.nesterov ?? SGD_DEFAULTS.nesterov,
  };
}

export function resolveAdam(kind: 'adam' | 'adamw', o: AdamOptions): AdamOptionsRaw {
  const d = kind === 'adam' ? ADAM_DEFAULTS : ADAMW_DEFAULTS;
  return {
    kind,
    lr: o.lr ?? d.lr,
    betas: o.betas ?? d.betas,
    eps: o.eps ?? d.eps,
    weightDecay: o.weightDecay ?? d.weightDecay,
    amsgrad: o.amsgrad ?? d.amsgrad,
  };
}
