// Back from the model grid to a slice's own pixels when the grid is spacing-aware
// (SliceInput.fieldOfViewMm): each native pixel centre is located on the grid (through the
// resampling and the centred crop / pad of sliceInputTransforms) and the class logits are read
// there bilinearly; pixels off the grid are background.
import { modelGridPlacement, type SliceInput } from './transforms.js';

/** Class ids [H, W] of a slice of `shape` / `spacing` from logits [C, size, size] on its model grid. */
export function gridLogitsToSlice(
  logits: Float32Array,
  classes: number,
  input: SliceInput,
  shape: readonly [number, number],
  spacing: readonly [number, number],
): Uint8Array {
  const s = input.size;
  if (logits.length !== classes * s * s) throw new RangeError(`logits: expected ${classes} x ${s} x ${s} values, got ${logits.length}`);
  const { resampled, start } = modelGridPlacement(input, shape, spacing);
  // per axis: for each native index, the two grid indices and the weight of the second (-1: off the grid)
  const axis = (a: 0 | 1) => {
    const n = shape[a];
    const i0 = new Int32Array(n);
    const i1 = new Int32Array(n);
    const w = new Float32Array(n);
    for (let o = 0; o < n; o++) {
      // native -> resampled (half-pixel centres, as resampleAxis) -> grid
      let u = (o + 0.5) * (resampled[a]! / n) - 0.5 - start[a]!;
      if (u < -0.5 || u > s - 0.5) {
        i0[o] = -1;
        continue;
      }
      u = Math.min(Math.max(u, 0), s - 1);
      const f = Math.floor(u);
      i0[o] = f;
      i1[o] = Math.min(f + 1, s - 1);
      w[o] = u - f;
    }
    return { i0, i1, w };
  };
  const ys = axis(0);
  const xs = axis(1);
  const [h, wd] = shape;
  const out = new Uint8Array(h * wd);
  const plane = s * s;
  for (let y = 0; y < h; y++) {
    const y0 = ys.i0[y]!;
    if (y0 < 0) continue;
    const y1 = ys.i1[y]!;
    const wy = ys.w[y]!;
    for (let x = 0; x < wd; x++) {
      const x0 = xs.i0[x]!;
      if (x0 < 0) continue;
      const x1 = xs.i1[x]!;
      const wx = xs.w[x]!;
      let best = 0;
      let bestValue = -Infinity;
      for (let c = 0; c < classes; c++) {
        const base = c * plane;
        const top = logits[base + y0 * s + x0]! * (1 - wx) + logits[base + y0 * s + x1]! * wx;
        const bottom = logits[base + y1 * s + x0]! * (1 - wx) + logits[base + y1 * s + x1]! * wx;
        const v = top * (1 - wy) + bottom * wy;
        if (v > bestValue) {
          bestValue = v;
          best = c;
        }
      }
      out[y * wd + x] = best;
    }
  }
  return out;
}
