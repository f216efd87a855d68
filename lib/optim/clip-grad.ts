import { native } from '../native/addon.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales the gradients of `params` so that their joint norm is at most maxNorm (as
 * torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  return native.clipGradNorm(
    [...params].map((p) => p.handle),
    maxNorm,
    normType,
  );
}
