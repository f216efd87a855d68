// Class prototypes and the prototype-DIST loss (docs/design.md, "Prototypes and the DIST loss").
// The fused native ops read the logits once forward and write their gradient once backward;
// `reference` holds the same math as a plain composition of ATen ops, for tests and benchmarks.
import { native } from '../native/addon.js';
import type { Tensor } from '../tensor/tensor.js';
import { wrap } from '../tensor/tensor.js';
import { resolveDistOptions, type DistOptions } from './dist-options.js';

export type { DistOptions };

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
