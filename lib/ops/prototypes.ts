// Class prototypes and the prototype-DIST loss (docs/design.md, "Prototypes and the DIST loss").
// The fused native ops read the logits once forward and write their gradient once backward;
// `reference` holds the same math as a plain composition of ATen ops, for tests and benchmarks.
import { native } from '../native/addon.js';
import type { Tensor } from '../tensor/tensor.js';
import { wrap } from '../tensor/tensor.js';
import { resolveDistOptions } from './dist-defaults.js';

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

export interface Prototypes {
  /** [B, C, CH]: per sample and class, the mean logit vector over the class's pixels (0 where absent). */
  prototypes: Tensor;
  /** [B, C] int64: pixels per class. */
  counts: Tensor;
}

interface Implementation {
  classPrototypes(logits: Tensor, labels: Tensor, numClasses: number, options?: DistOptions): Prototypes;
  distLoss(studentPrototypes: Tensor, counts: Tensor, teacherPrototype: Tensor, options?: DistOptions): Tensor;
  protoDistLoss(logits: Tensor, labels: Tensor, teacherPrototype: Tensor, options?: DistOptions): Tensor;
}

function implementation(reference: boolean): Implementation {
  return {
    classPrototypes(logits, labels, numClasses, options = {}) {
      const [p, n] = native.classPrototypes(logits.handle, labels.handle, numClasses, resolveDistOptions(options), reference);
      return { prototypes: wrap(p), counts: wrap(n) };
    },
    distLoss(studentPrototypes, counts, teacherPrototype, options = {}) {
      return wrap(native.distLoss(studentPrototypes.handle, counts.handle, teacherPrototype.handle, resolveDistOptions(options), reference));
    },
    protoDistLoss(logits, labels, teacherPrototype, options = {}) {
      return wrap(native.protoDistLoss(logits.handle, labels.handle, teacherPrototype.handle, resolveDistOptions(options), reference));
    },
  };
}

const fused = implementation(false);

/** Per-sample class prototypes of logits [B, CH, H, W] / [B, CH, D, H, W]; differentiable. */
export const classPrototypes = fused.classPrototypes;
/** The DIST loss of student prototypes against the teacher prototype [C, CH]; differentiable. */
export const distLoss = fused.distLoss;
/** classPrototypes and distLoss fused in one op (C = teacherPrototype's rows). */
export const protoDistLoss = fused.protoDistLoss;
/** The same three as a composition of ATen ops (one-hot, einsum, softmax, Pearson). */
export const reference: Implementation = implementation(true);
