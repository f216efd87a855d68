// The segmentation losses' defaults in one place; every stage trains on SEG_LOSS and the addon
// reads every field.
import type { DiceOptionsRaw } from '../native/addon.js';

export interface DiceOptions {
  /** Added to numerator and denominator (defaults: DICE_DEFAULTS). */
  smooth?: number;
  /** Squared denominators sum(p^2) + sum(y^2), else sum(p) + sum(y). */
  squared?: boolean;
  /** Whether class 0 counts. */
  includeBackground?: boolean;
  ignoreIndex?: number;
}

export const DICE_DEFAULTS = {
  smooth: 1e-5,
  /** Squared denominators sum(p^2) + sum(y^2). */
  squared: true,
  /** Class 0 counts, as in the Swin-Unet / MISSFormer recipes. */
  includeBackground: true,
} as const;

/** The weight a term gets when the loss names it without one. */
export const TERM_WEIGHT = 1;

/** L_seg of every stage: 0.4 cross-entropy + 0.6 soft Dice (the students' recipes). */
export const SEG_LOSS = { crossEntropy: { weight: 0.4 }, dice: { weight: 0.6 } } as const;

export function resolveDiceOptions(o: DiceOptions = {}): DiceOptionsRaw {
  return {
    smooth: o.smooth ?? DICE_DEFAULTS.smooth,
    squared: o.squared ?? DICE_DEFAULTS.squared,
    includeBackground: o.includeBackground ?? DICE_DEFAULTS.includeBackground,
    ignoreIndex: o.ignoreIndex ?? null,
  };
}
