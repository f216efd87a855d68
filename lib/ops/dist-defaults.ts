// The DIST loss's defaults in one place (the paper's: tau 1, both terms weighted 1, beta 0.5);
// the addon reads every field.
import type { DistOptionsRaw } from '../native/addon.js';
import type { DistOptions } from './prototypes.js';

export const DIST_DEFAULTS = {
  tau: 1,
  interWeight: 1,
  intraWeight: 1,
  channels: 'present',
  checkLabels: true,
  /** beta: the DIST term's weight against the segmentation loss. */
  weight: 0.5,
} as const;

export function resolveDistOptions(o: DistOptions = {}): DistOptionsRaw {
  return {
    tau: o.tau ?? DIST_DEFAULTS.tau,
    interWeight: o.interWeight ?? DIST_DEFAULTS.interWeight,
    intraWeight: o.intraWeight ?? DIST_DEFAULTS.intraWeight,
    channels: o.channels ?? DIST_DEFAULTS.channels,
    teacherMask: o.teacherMask ?? null,
    ignoreIndex: o.ignoreIndex ?? null,
    checkLabels: o.checkLabels ?? DIST_DEFAULTS.checkLabels,
  };
}
