// The DIST loss's options and their defaults in one place (the paper's: tau 1, both terms
// weighted 1, beta 0.5); the addon reads every field.
import type { DistOptionsRaw } from '../native/addon.js';

export interface DistOptions {
  /** Softmax temperature; the loss is scaled by tau^2. Defaults: DIST_DEFAULTS. */
  tau?: number;
  /**
   * Weight of L_inter: the rows, each present class's prototype against the
   * teacher's over all channels (the paper's eq. 2). Before version 0.2 this name weighted the
   * columns: the two names swapped meaning when the definitions were corrected.
   */
  interWeight?: number;
  /**
   * Weight of L_intra: the columns, the channel of each present class across the
   * present classes (eq. 3), in samples with at least 3 present classes.
   */
  intraWeight?: number;
  /** L_intra over the channels of the present classes ('present', default) or all channels ('all': the first definition, for ablations). */
  channels?: 'present' | 'all';
  /** Per class, whether the teacher saw it (default: all); an unseen class is absent in every sample. */
  teacherMask?: readonly boolean[];
  /** Pixels with this label count for no class. */
  ignoreIndex?: number;
  /**
   * Refuse labels outside [0, C) (by default). Free on the CPU; on CUDA it costs one host
   * sync, so a loop whose labels were validated upstream may turn it off.
   */
  checkLabels?: boolean;
}

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
