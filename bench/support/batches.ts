// Deterministic inputs for the cases: CT-like label maps (mostly background, organs in blobs
// of rows) and images, so both sides and every run see the same data.
import { randn, tensor, type Tensor } from '../../lib/index.js';

/** int64 labels [...shape]: about 70 % background, the rest spread over classes 1..C-1. */
export function ctLabels(shape: readonly number[], classes: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const y = new BigInt64Array(count);
  let s = 7;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    y[i] = BigInt(r < 0.7 ? 0 : 1 + Math.floor(((r - 0.7) / 0.3) * (classes - 1)));
  }
  return tensor(y, [...shape]);
}

/** A student batch: images [B, 1, H, W] in [0, 1), labels [B, H, W] in bands and columns, a teacher prototype. */
export function studentBatch(B: number, H: number, W: number, classes: number): { x: Tensor; y: Tensor; teacher: Tensor } {
  const n = B * H * W;
  const x = tensor(
    Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000),
    [B, 1, H, W],
  );
  const y = tensor(
    BigInt64Array.from({ length: n }, (_, i) => (Math.floor(i / W) % H < H / 3 ? 0n : BigInt(Math.floor(((i % W) * classes) / W)))),
    [B, H, W],
  );
  return { x, y, teacher: randn([classes, classes]).mul(3) };
}
