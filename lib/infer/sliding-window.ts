// Sliding-window inference for volumes larger than the model's input: overlapping windows,
// each prediction weighted by a Gaussian importance map (centre counts most), summed and
// normalised. Windows run off the JS thread (forwardAsync), a few per call.
import type { ScriptModule } from '../module/script-module.js';
import { logitsOf } from '../module/ivalue.js';
import { cat, tensor, zeros } from '../tensor/factories.js';
import { keep, scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export interface SlidingWindowOptions {
  /** Window size per spatial dim, e.g. [96, 96, 96] (or [224, 224] for 2D). */
  roiSize: readonly number[];
  /** Fraction of a window shared with its neighbour (default 0.5). */
  overlap?: number;
  /** Windows per forward call (default 1). */
  batchSize?: number;
  /** Gaussian sigma as a fraction of the window (default 0.125); 'constant' for uniform weights. */
  sigmaScale?: number | 'constant';
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Window start positions along one axis covering [0, size) with the given step. */
export function windowStarts(size: number, roi: number, overlap: number): number[] {
  if (size <= roi) return [0];
  const step = Math.max(1, Math.floor(roi * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; ; s += step) {
    if (s + roi >= size) {
      starts.push(size - roi);
      break;
    }
    starts.push(s);
  }
  return starts;
}

/** The separable Gaussian importance map over a window, peak 1, as a Float32Array. */
export function gaussianMap(roi: readonly number[], sigmaScale: number): Float32Array {
  const axes = roi.map((n) => {
    const sigma = Math.max(n * sigmaScale, 1e-3);
    const centre = (n - 1) / 2;
    return Float32Array.from({ length: n }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  });
  const total = roi.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    let rest = i;
    let w = 1;
    for (let d = roi.length - 1; d >= 0; d--) {
      w *= axes[d]![rest % roi[d]!]!;
      rest = Math.floor(rest / roi[d]!);
    }
    out[i] = Math.max(w, 1e-6); // never zero: every voxel keeps some weight
  }
  return out;
}

function narrowAll(t: Tensor, starts: readonly number[], sizes: readonly number[]): Tensor {
  let v = t;
  starts.forEach((s, d) => (v = v.narrow(d + 2, s, sizes[d]!)));
  return v;
}

/**
 * Logits [B, C, *spatial] for an input [B, 1, *spatial] of any size: padded with zeros up to the
 * window where smaller, cropped back after.
 */
export async function slidingWindowInference(module: ScriptModule, input: Tensor, options: SlidingWindowOptions): Promise<Tensor> {
  const spatial = input.shape.slice(2);
  const roi = options.roiSize;
  if (roi.length !== spatial.length) {
    throw new RangeError(`roiSize: ${roi.length} dims given for an input with ${spatial.length} spatial dims`);
  }
  const overlap = options.overlap ?? 0.5;
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError('overlap: expected a value in [0, 1)');
  const batchSize = Math.max(1, options.batchSize ?? 1);
  const padded = spatial.map((s, d) => Math.max(s, roi[d]!));
  const [B, CIN] = input.shape as [number, number];

  const source = keep(
    scope(() => {
      if (padded.every((p, d) => p === spatial[d])) return input;
      const z = zeros([B, CIN, ...padded], { dtype: input.dtype, device: input.device });
      narrowAll(
        z,
        spatial.map(() => 0),
        spatial,
      ).copy_(input);
      return z;
    }),
  );
  const weight = keep(
    options.sigmaScale === 'constant'
      ? tensor(new Float32Array(roi.reduce((a, b) => a * b, 1)).fill(1), [...roi], { device: input.device })
      : tensor(gaussianMap(roi, options.sigmaScale ?? 0.125), [...roi], { device: input.device }),
  );
  const grid = padded.map((p, d) => windowStarts(p, roi[d]!, overlap));
  const windows: number[][] = [[]];
  for (const starts of grid) {
    const next: number[][] = [];
    for (const w of windows) for (const s of starts) next.push([...w, s]);
    windows.splice(0, windows.length, ...next);
  }

  let sum: Tensor | null = null;
  const norm = keep(zeros([...padded], { device: input.device }));
  try {
    for (let i = 0; i < windows.length; i += batchSize) {
      options.signal?.throwIfAborted();
      const group = windows.slice(i, i + batchSize);
      const batch = scope(() =>
        cat(
          group.map((w) => narrowAll(source, w, roi)),
          0,
        ),
      );
      const out = await module.forwardAsync(batch);
      batch.dispose();
      scope(() => {
        const logits = logitsOf(out);
        const classes = logits.shape[1]!;
        if (sum === null) sum = keep(zeros([B, classes, ...padded], { device: input.device }));
        group.forEach((w, j) => {
          const piece = logits.narrow(0, j * B, B).mul(weight);
          narrowAll(sum!, w, roi).add_(piece);
          let n = norm;
          w.forEach((s, d) => (n = n.narrow(d, s, roi[d]!)));
          n.add_(weight);
        });
        logits.dispose();
      });
      options.onProgress?.(Math.min(i + batchSize, windows.length), windows.length);
    }
    return scope(() => {
      const averaged = sum!.div(norm);
      return padded.every((p, d) => p === spatial[d])
        ? averaged
        : narrowAll(
            averaged,
            spatial.map(() => 0),
            spatial,
          ).contiguous();
    });
  } finally {
    if (source !== input) source.dispose();
    weight.dispose();
    norm.dispose();
    (sum as Tensor | null)?.dispose();
  }
}
