// Differentiable segmentation losses on logits [B, C, H, W] or [B, C, D, H, W] and integer
// labels [B, H, W] / [B, D, H, W]. Labels outside [0, C) (other than ignoreIndex) are a RangeError.
import { native } from '../native/addon.js';
import type { Tensor } from '../tensor/tensor.js';
import { wrap } from '../tensor/tensor.js';
import { resolveDiceOptions, type DiceOptions } from './options.js';

export { DICE_DEFAULTS, SEG_LOSS, type DiceOptions } from './options.js';

export interface CrossEntropyOptions {
  /** Per-class weights [C], as PyTorch's `weight`. */
  weight?: Tensor;
  ignoreIndex?: number;
}

/** Mean cross-entropy over the non-ignored pixels (torch.nn.functional.cross_entropy). */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return wrap(native.crossEntropy(logits.handle, labels.handle, options.weight?.handle ?? null, options.ignoreIndex ?? null));
}

/**
 * Soft Dice loss of softmax(logits): per class over the whole batch,
 * 1 - (2 sum(p y) + smooth) / (den + smooth), averaged over the classes.
 */
export function dice(logits: Tensor, labels: Tensor, options: DiceOptions = {}): Tensor {
  return wrap(native.dice(logits.handle, labels.handle, resolveDiceOptions(options)));
}
