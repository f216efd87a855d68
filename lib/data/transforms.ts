// Preprocessing and augmentation as small composable transforms.
//
// A transform is described by a plain JSON object (a TransformSpec) so that the loader can
// send the pipeline to its worker threads; `applyTransforms(specs, sample, rng)` runs one.
// Samples are row-major with the last axis fastest: [H, W] for 2D, [D, H, W] for 3D, which
// is NIfTI's x-fastest order read as [Z, Y, X] (W = x, H = y, D = z in RAS voxel order).
// Images are Float32Array, labels Uint8Array of class ids (or absent). Everything random
// draws from the Rng it is given, so a sample's seed fixes its augmentation.
import { Rng } from './random.js';

export interface Sample {
  image: Float32Array;
  /** Class ids, same shape as the image; null when the sample has no labels. */
  label: Uint8Array | null;
  /** [H, W] or [D, H, W]. */
  shape: number[];
  /** Voxel size in mm along each axis of `shape`. */
  spacing: number[];
}

export type TransformSpec =
  | { type: 'window'; min?: number; max?: number; clip?: boolean }
  | { type: 'resample'; spacing?: number | number[]; size?: number[] }
  | { type: 'cropOrPad'; size: number[]; padValue?: number }
  | { type: 'randomCrop'; size: number[]; pos?: number; neg?: number; padValue?: number }
  | { type: 'rot90Flip'; p?: number }
  | { type: 'rotate'; degrees?: [number, number]; scale?: [number, number]; p?: number; padValue?: number }
  | { type: 'intensity'; scale?: [number, number]; shift?: [number, number]; noiseStd?: number; clip?: [number, number] | null; p?: number }
  | { type: 'oneOf'; transforms: TransformSpec[]; weights?: number[] }
  | { type: 'maybe'; p: number; transform: TransformSpec };

// ---------------------------------------------------------------------------------------------
// Builders (the same objects, with the paper's defaults filled in)

/** The soft-tissue window of the papers' preprocessing, in HU (the default of config hu.window). */
export const DEFAULT_HU_WINDOW: readonly [number, number] = [-175, 250];

/** HU window [min, max] -> [0, 1] (default DEFAULT_HU_WINDOW, clipped). */
export function window(min = DEFAULT_HU_WINDOW[0], max = DEFAULT_HU_WINDOW[1], clip = true): TransformSpec {
  return { type: 'window', min, max, clip };
}
/** Resample to a voxel spacing in mm (one number or one per axis) or to a size; linear for images, nearest for labels. */
export function resample(target: { spacing?: number | number[]; size?: number[] }): TransformSpec {
  return { type: 'resample', ...target };
}
/** Centre crop and / or pad to a size. */
export function cropOrPad(size: number[], padValue = 0): TransformSpec {
  return { type: 'cropOrPad', size, padValue };
}
/** Random crop of `size` centred on a foreground voxel with probability pos / (pos + neg), else on a background one. */
export function randomCrop(size: number[], options: { pos?: number; neg?: number; padValue?: number } = {}): TransformSpec {
  return { type: 'randomCrop', size, pos: options.pos ?? 1, neg: options.neg ?? 1, padValue: options.padValue ?? 0 };
}
/** A random multiple of 90 degrees in-plane (when H = W; else 0 or 180) and a random left-right flip. */
export function rot90Flip(p = 1): TransformSpec {
  return { type: 'rot90Flip', p };
}
/** In-plane rotation by a uniform angle in [lo, hi) degrees (default [-20, 20)), optionally with a uniform zoom in [lo, hi). */
export function rotate(degrees: [number, number] = [-20, 20], p = 1, padValue = 0, scale?: [number, number]): TransformSpec {
  return scale ? { type: 'rotate', degrees, scale, p, padValue } : { type: 'rotate', degrees, p, padValue };
}
/** Intensity jitter: x * scale + shift (+ Gaussian noise), clipped (default to [0, 1]). */
export function intensity(
  options: { scale?: [number, number]; shift?: [number, number]; noiseStd?: number; clip?: [number, number] | null; p?: number } = {},
): TransformSpec {
  return { type: 'intensity', scale: [0.9, 1.1], shift: [-0.05, 0.05], noiseStd: 0, clip: [0, 1], p: 1, ...options };
}
/** One of several transforms, chosen at random (optionally weighted). */
export function oneOf(transforms: TransformSpec[], weights?: number[]): TransformSpec {
  return { type: 'oneOf', transforms, weights };
}
/** A transform applied with probability p. */
export function maybe(p: number, transform: TransformSpec): TransformSpec {
  return { type: 'maybe', p, transform };
}
/** Specs in order, as one list. */
export function compose(...specs: (TransformSpec | TransformSpec[])[]): TransformSpec[] {
  return specs.flat();
}

/** Student augmentation recipes (see student2d). */
export type StudentAugment = 'anatomy' | 'rot-flip' | 'none';

/** How a 2D slice becomes a student's input: its HU window and the size x size model grid. */
export interface SliceInput {
  size: number;
  /** [low, high] HU -> [0, 1] (default DEFAULT_HU_WINDOW). */
  window?: readonly [number, number];
  /** The grid covers this many mm, centred (air beyond the image, or cropped); unset: the slice is stretched to the grid. */
  fieldOfViewMm?: number;
}

/** A bare number is a size with the default window, the slice stretched to the grid. */
export function asSliceInput(input: SliceInput | number): SliceInput {
  return typeof input === 'number' ? { size: input } : input;
}

/** Window, then onto the model grid: resized to size x size, or resampled to fieldOfViewMm / size mm and centre-cropped / padded. */
export function sliceInputTransforms(input: SliceInput): TransformSpec[] {
  const [lo, hi] = input.window ?? DEFAULT_HU_WINDOW;
  const { size, fieldOfViewMm: fov } = input;
  // after the window, 0 is air (and below): the padding outside the image
  const grid = fov === undefined ? [resample({ size: [size, size] })] : [resample({ spacing: [fov / size, fov / size] }), cropOrPad([size, size], 0)];
  return [window(lo, hi), ...grid];
}

/**
 * Where the model grid lies on a slice of this shape and spacing ([H, W]): the slice is first
 * resampled to `resampled` pixels per axis, in which the grid starts at `start` (negative: padded).
 * With no fieldOfViewMm the grid is the resampled slice itself.
 */
export function modelGridPlacement(input: SliceInput, shape: readonly number[], spacing: readonly number[]): { resampled: number[]; start: number[] } {
  const fov = input.fieldOfViewMm;
  if (fov === undefined) return { resampled: [input.size, input.size], start: [0, 0] };
  const t = fov / input.size;
  // the same rounding and centring as resample({spacing}) and cropOrPad
  const resampled = shape.map((n, i) => Math.max(1, Math.round((n * spacing[i]!) / t)));
  return { resampled, start: resampled.map((n) => Math.floor((n - input.size) / 2)) };
}

/**
 * The students' recipe: window and onto the model grid (sliceInputTransforms), then
 *  - 'anatomy' (default): a rotation in [-20, 20) degrees with a zoom in [0.9, 1.1), and intensity
 *    jitter; never a mirror or a quarter turn, which would put the right kidney where the left
 *    one belongs while its label still says "right";
 *  - 'rot-flip': the Synapse recipe, rot90 / flip or a rotation in [-20, 20), and intensity jitter;
 *  - 'none': nothing more.
 * true / false stand for 'anatomy' / 'none'.
 */
export function student2d(size = 224, options: { augment?: StudentAugment | boolean } & Omit<SliceInput, 'size'> = {}): TransformSpec[] {
  const base = sliceInputTransforms({ size, window: options.window, fieldOfViewMm: options.fieldOfViewMm });
  const recipe = options.augment === false ? 'none' : options.augment === true || options.augment === undefined ? 'anatomy' : options.augment;
  switch (recipe) {
    case 'none':
      return base;
    case 'rot-flip':
      return [...base, oneOf([rot90Flip(), rotate([-20, 20])]), intensity()];
    case 'anatomy':
      return [...base, rotate([-20, 20], 1, 0, [0.9, 1.1]), intensity()];
    default:
      throw new RangeError(`augment: expected 'anatomy', 'rot-flip' or 'none', got ${JSON.stringify(recipe)}`);
  }
}

/** The teacher's recipe: window, resample to 1.5 x 1.5 x 2 mm, random size^3 crops (pos / neg sampling). */
export function teacher3d(size = 96, spacing: number[] = [2, 1.5, 1.5], huWindow: readonly [number, number] = DEFAULT_HU_WINDOW): TransformSpec[] {
  return [window(huWindow[0], huWindow[1]), resample({ spacing }), randomCrop([size, size, size])];
}

// ---------------------------------------------------------------------------------------------
// Applying

const TYPES = new Set(['window', 'resample', 'cropOrPad', 'randomCrop', 'rot90Flip', 'rotate', 'intensity', 'oneOf', 'maybe']);

/** Throws a TypeError naming the first malformed spec (called before work is sent to workers). */
export function checkTransforms(specs: readonly TransformSpec[], where = 'transforms'): void {
  specs.forEach((s, i) => {
    const at = `${where}[${i}]`;
    if (s === null || typeof s !== 'object' || !TYPES.has((s as { type?: string }).type ?? '')) {
      throw new TypeError(`${at}: unknown transform ${JSON.stringify((s as { type?: string })?.type ?? s)}; expected one of ${[...TYPES].join(', ')}`);
    }
    if (s.type === 'oneOf') {
      if (!Array.isArray(s.transforms) || s.transforms.length === 0) throw new TypeError(`${at}.transforms: expected a non-empty list`);
      checkTransforms(s.transforms, `${at}.transforms`);
    }
    if (s.type === 'maybe') checkTransforms([s.transform], `${at}.transform`);
    if ((s.type === 'cropOrPad' || s.type === 'randomCrop') && !isSizeList(s.size)) throw new TypeError(`${at}.size: expected a list of positive integers`);
    if (s.type === 'rotate' && s.scale !== undefined && !(Array.isArray(s.scale) && s.scale.length === 2 && s.scale[0] > 0 && s.scale[1] >= s.scale[0])) {
      throw new TypeError(`${at}.scale: expected [lo, hi] with 0 < lo <= hi`);
    }
    if (s.type === 'resample' && s.size === undefined && s.spacing === undefined) throw new TypeError(`${at}: give spacing or size`);
    if (s.type === 'resample' && s.size !== undefined && !isSizeList(s.size)) throw new TypeError(`${at}.size: expected a list of positive integers`);
  });
}

function isSizeList(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x > 0);
}

/** Runs the transforms in order. The input sample may be modified or reused. */
export function applyTransforms(specs: readonly TransformSpec[], sample: Sample, rng: Rng): Sample {
  let s = sample;
  for (const spec of specs) s = applyOne(spec, s, rng);
  return s;
}

function applyOne(spec: TransformSpec, s: Sample, rng: Rng): Sample {
  switch (spec.type) {
    case 'window':
      return { ...s, image: windowArray(s.image, spec.min ?? -175, spec.max ?? 250, spec.clip ?? true) };
    case 'resample':
      return resampleSample(s, spec);
    case 'cropOrPad':
      return cropOrPadSample(s, spec.size, spec.padValue ?? 0);
    case 'randomCrop':
      return randomCropSample(s, spec.size, spec.pos ?? 1, spec.neg ?? 1, spec.padValue ?? 0, rng);
    case 'rot90Flip':
      if (!rng.chance(spec.p ?? 1)) return s;
      return rot90FlipSample(s, rng);
    case 'rotate': {
      const [lo, hi] = spec.degrees ?? [-20, 20];
      if (!rng.chance(spec.p ?? 1)) return s;
      const degrees = rng.uniform(lo, hi);
      const zoom = spec.scale ? rng.uniform(spec.scale[0], spec.scale[1]) : 1;
      return rotateSample(s, degrees, spec.padValue ?? 0, zoom);
    }
    case 'intensity': {
      if (!rng.chance(spec.p ?? 1)) return s;
      const [a0, a1] = spec.scale ?? [1, 1];
      const [b0, b1] = spec.shift ?? [0, 0];
      const scale = rng.uniform(a0, a1);
      const shift = rng.uniform(b0, b1);
      const clip: [number, number] | null = spec.clip === undefined ? [0, 1] : spec.clip;
      return { ...s, image: jitter(s.image, scale, shift, spec.noiseStd ?? 0, clip, rng) };
    }
    case 'oneOf': {
      const w = spec.weights ?? spec.transforms.map(() => 1);
      const total = w.reduce((a, b) => a + b, 0);
      let r = rng.float() * total;
      let k = 0;
      while (k < w.length - 1 && r >= w[k]) r -= w[k++];
      return applyOne(spec.transforms[k], s, rng);
    }
    case 'maybe':
      return rng.chance(spec.p) ? applyOne(spec.transform, s, rng) : s;
  }
}

// ---------------------------------------------------------------------------------------------
// The operations, on plain arrays

/** (v - min) / (max - min), optionally clipped to [0, 1]; a new array. */
export function windowArray(data: ArrayLike<number>, min: number, max: number, clip = true): Float32Array {
  const out = new Float32Array(data.length);
  const inv = 1 / (max - min);
  for (let i = 0; i < data.length; i++) {
    let v = (data[i] - min) * inv;
    if (clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
    out[i] = v;
  }
  return out;
}

function jitter(data: Float32Array, scale: number, shift: number, noise: number, clip: [number, number] | null, rng: Rng): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    let v = data[i] * scale + shift;
    if (noise > 0) v += rng.normal(0, noise);
    if (clip) v = v < clip[0] ? clip[0] : v > clip[1] ? clip[1] : v;
    out[i] = v;
  }
  return out;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/**
 * Resamples along one axis: linear (align_corners = false, as PyTorch) or nearest.
 * Source position of output index o: (o + 0.5) * n / m - 0.5, clamped to the edges.
 */
function resampleAxis<T extends Float32Array | Uint8Array>(data: T, shape: readonly number[], axis: number, m: number, linear: boolean): T {
  const n = shape[axis];
  const outShape = [...shape];
  outShape[axis] = m;
  const Ctor = data.constructor as new (len: number) => T;
  const out = new Ctor(product(outShape));
  const inner = product(shape.slice(axis + 1));
  const outer = product(shape.slice(0, axis));
  const ratio = n / m;
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const w1 = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    let x = (o + 0.5) * ratio - 0.5;
    if (linear) {
      if (x < 0) x = 0;
      if (x > n - 1) x = n - 1;
      const f = Math.floor(x);
      i0[o] = f;
      i1[o] = Math.min(f + 1, n - 1);
      w1[o] = x - f;
    } else {
      // nearest: PyTorch's 'nearest-exact' rule, floor((o + 0.5) * ratio)
      i0[o] = Math.min(n - 1, Math.floor((o + 0.5) * ratio));
    }
  }
  for (let a = 0; a < outer; a++) {
    const inBase = a * n * inner;
    const outBase = a * m * inner;
    for (let o = 0; o < m; o++) {
      const dst = outBase + o * inner;
      const s0 = inBase + i0[o] * inner;
      if (linear) {
        const s1 = inBase + i1[o] * inner;
        const w = w1[o];
        for (let k = 0; k < inner; k++) out[dst + k] = data[s0 + k] * (1 - w) + data[s1 + k] * w;
      } else {
        for (let k = 0; k < inner; k++) out[dst + k] = data[s0 + k];
      }
    }
  }
  return out;
}

/** Resamples a row-major array to a new shape, axis by axis (multilinear or nearest). */
export function resampleArray<T extends Float32Array | Uint8Array>(
  data: T,
  shape: readonly number[],
  newShape: readonly number[],
  mode: 'linear' | 'nearest',
): T {
  if (shape.length !== newShape.length) throw new RangeError(`size: expected ${shape.length} sizes, got ${newShape.length}`);
  let cur = data;
  const curShape = [...shape];
  // shrink first along the axes that shrink, so later passes touch fewer values
  const order = shape.map((_, i) => i).sort((a, b) => newShape[a] / shape[a] - newShape[b] / shape[b]);
  for (const axis of order) {
    if (curShape[axis] === newShape[axis]) continue;
    cur = resampleAxis(cur, curShape, axis, newShape[axis], mode === 'linear');
    curShape[axis] = newShape[axis];
  }
  return cur === data ? (data.slice() as T) : cur;
}

function resampleSample(s: Sample, spec: { spacing?: number | number[]; size?: number[] }): Sample {
  let newShape: number[];
  if (spec.size) {
    if (spec.size.length !== s.shape.length)
      throw new RangeError(`resample.size: expected ${s.shape.length} sizes for shape [${s.shape.join(', ')}], got ${spec.size.length}`);
    newShape = [...spec.size];
  } else {
    const target = typeof spec.spacing === 'number' ? s.shape.map(() => spec.spacing as number) : (spec.spacing as number[]);
    if (target.length !== s.shape.length) throw new RangeError(`resample.spacing: expected ${s.shape.length} values, got ${target.length}`);
    newShape = s.shape.map((n, i) => Math.max(1, Math.round((n * s.spacing[i]) / target[i])));
  }
  if (newShape.every((v, i) => v === s.shape[i])) return s;
  return {
    image: resampleArray(s.image, s.shape, newShape, 'linear'),
    label: s.label ? resampleArray(s.label, s.shape, newShape, 'nearest') : null,
    shape: newShape,
    spacing: s.spacing.map((sp, i) => (sp * s.shape[i]) / newShape[i]),
  };
}

/** Copies the box starting at `start` (may be negative or run past the end) of size `size`; outside is `fill`. */
export function extractBox<T extends Float32Array | Uint8Array>(
  data: T,
  shape: readonly number[],
  start: readonly number[],
  size: readonly number[],
  fill: number,
): T {
  const Ctor = data.constructor as new (len: number) => T;
  const out = new Ctor(product(size));
  if (fill !== 0) out.fill(fill);
  const nd = shape.length;
  const inStr = stridesOf(shape);
  const outStr = stridesOf(size);
  // overlap of the box with the array, per axis
  const lo = start.map((s) => Math.max(0, -s));
  const hi = start.map((s, i) => Math.min(size[i], shape[i] - s));
  if (lo.some((l, i) => l >= hi[i])) return out;
  const rowLen = hi[nd - 1] - lo[nd - 1];
  const idx = lo.slice(0, nd - 1);
  for (;;) {
    let src = (start[nd - 1] + lo[nd - 1]) * inStr[nd - 1];
    let dst = lo[nd - 1] * outStr[nd - 1];
    for (let a = 0; a < nd - 1; a++) {
      src += (start[a] + idx[a]) * inStr[a];
      dst += idx[a] * outStr[a];
    }
    out.set(data.subarray(src, src + rowLen), dst);
    // next row
    let a = nd - 2;
    while (a >= 0) {
      idx[a]++;
      if (idx[a] < hi[a]) break;
      idx[a] = lo[a];
      a--;
    }
    if (a < 0) break;
  }
  return out;
}

function cropOrPadSample(s: Sample, size: number[], padValue: number): Sample {
  if (size.length !== s.shape.length) throw new RangeError(`cropOrPad.size: expected ${s.shape.length} sizes, got ${size.length}`);
  if (size.every((v, i) => v === s.shape[i])) return s;
  const start = s.shape.map((n, i) => Math.floor((n - size[i]) / 2));
  return {
    image: extractBox(s.image, s.shape, start, size, padValue),
    label: s.label ? extractBox(s.label, s.shape, start, size, 0) : null,
    shape: [...size],
    spacing: s.spacing,
  };
}

function randomCropSample(s: Sample, size: number[], pos: number, neg: number, padValue: number, rng: Rng): Sample {
  if (size.length !== s.shape.length) throw new RangeError(`randomCrop.size: expected ${s.shape.length} sizes, got ${size.length}`);
  const strides = stridesOf(s.shape);
  let centre: number[] | null = null;
  if (s.label && pos + neg > 0) {
    const wantForeground = rng.float() * (pos + neg) < pos;
    // draw a voxel of the wanted kind: a few random probes first, then an exhaustive list
    const n = s.label.length;
    let found = -1;
    for (let t = 0; t < 64 && found < 0; t++) {
      const i = rng.int(n);
      if (s.label[i] > 0 === wantForeground) found = i;
    }
    if (found < 0) {
      let count = 0;
      for (let i = 0; i < n; i++) if (s.label[i] > 0 === wantForeground) count++;
      if (count > 0) {
        let k = rng.int(count);
        for (let i = 0; i < n; i++) {
          if (s.label[i] > 0 === wantForeground && k-- === 0) {
            found = i;
            break;
          }
        }
      }
    }
    if (found >= 0) centre = strides.map((st, a) => Math.floor(found / st) % s.shape[a]);
  }
  let start: number[];
  if (centre) {
    // centred on the voxel, then moved inside the array where it fits
    start = centre.map((c, a) => {
      const lo = Math.min(0, s.shape[a] - size[a]);
      const hi = Math.max(0, s.shape[a] - size[a]);
      return Math.min(hi, Math.max(lo, c - Math.floor(size[a] / 2)));
    });
  } else {
    start = s.shape.map((n, a) => (n >= size[a] ? rng.int(n - size[a] + 1) : Math.floor((n - size[a]) / 2)));
  }
  return {
    image: extractBox(s.image, s.shape, start, size, padValue),
    label: s.label ? extractBox(s.label, s.shape, start, size, 0) : null,
    shape: [...size],
    spacing: s.spacing,
  };
}

/** Rotates each [H, W] plane by k * 90 degrees counter-clockwise in index space, then flips W if asked. */
function rot90FlipArray<T extends Float32Array | Uint8Array>(data: T, shape: readonly number[], k: number, flipW: boolean): T {
  const nd = shape.length;
  const h = shape[nd - 2];
  const w = shape[nd - 1];
  const planes = product(shape.slice(0, nd - 2));
  const Ctor = data.constructor as new (len: number) => T;
  const out = new Ctor(data.length);
  const oh = k % 2 === 0 ? h : w;
  const ow = k % 2 === 0 ? w : h;
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const xx = flipW ? ow - 1 - x : x;
        let sy: number;
        let sx: number;
        switch (k) {
          case 1: // out[y][x] = in[x][w-1-y]
            sy = xx;
            sx = w - 1 - y;
            break;
          case 2:
            sy = h - 1 - y;
            sx = w - 1 - xx;
            break;
          case 3:
            sy = h - 1 - xx;
            sx = y;
            break;
          default:
            sy = y;
            sx = xx;
        }
        out[base + y * ow + x] = data[base + sy * w + sx];
      }
    }
  }
  return out;
}

function rot90FlipSample(s: Sample, rng: Rng): Sample {
  const nd = s.shape.length;
  const square = s.shape[nd - 2] === s.shape[nd - 1];
  const k = square ? rng.int(4) : 2 * rng.int(2);
  const flip = rng.chance(0.5);
  if (k === 0 && !flip) return s;
  const shape = [...s.shape];
  const spacing = [...s.spacing];
  if (k % 2 === 1) {
    [shape[nd - 2], shape[nd - 1]] = [shape[nd - 1], shape[nd - 2]];
    [spacing[nd - 2], spacing[nd - 1]] = [spacing[nd - 1], spacing[nd - 2]];
  }
  return {
    image: rot90FlipArray(s.image, s.shape, k, flip),
    label: s.label ? rot90FlipArray(s.label, s.shape, k, flip) : null,
    shape,
    spacing,
  };
}

/**
 * Rotates each [H, W] plane about its centre (in mm, so anisotropic pixels stay right) and
 * zooms it by `zoom` (> 1 enlarges); bilinear or nearest.
 */
export function rotatePlanes<T extends Float32Array | Uint8Array>(
  data: T,
  shape: readonly number[],
  spacing: readonly number[],
  degrees: number,
  mode: 'linear' | 'nearest',
  fill: number,
  zoom = 1,
): T {
  const nd = shape.length;
  const h = shape[nd - 2];
  const w = shape[nd - 1];
  const sy = spacing[nd - 2];
  const sx = spacing[nd - 1];
  const planes = product(shape.slice(0, nd - 2));
  const Ctor = data.constructor as new (len: number) => T;
  const out = new Ctor(data.length);
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < h; y++) {
      const dy = (y - cy) * sy;
      for (let x = 0; x < w; x++) {
        const dx = (x - cx) * sx;
        // inverse rotation: where this output pixel comes from
        const srcX = (cos * dx + sin * dy) / (zoom * sx) + cx;
        const srcY = (-sin * dx + cos * dy) / (zoom * sy) + cy;
        let v = fill;
        if (mode === 'nearest') {
          const ix = Math.round(srcX);
          const iy = Math.round(srcY);
          if (ix >= 0 && ix < w && iy >= 0 && iy < h) v = data[base + iy * w + ix];
        } else if (srcX > -1 && srcX < w && srcY > -1 && srcY < h) {
          const x0 = Math.floor(srcX);
          const y0 = Math.floor(srcY);
          const fx = srcX - x0;
          const fy = srcY - y0;
          let v00: number;
          let v01: number;
          let v10: number;
          let v11: number;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
            const p0 = base + y0 * w + x0; // interior: no bounds checks
            v00 = data[p0];
            v01 = data[p0 + 1];
            v10 = data[p0 + w];
            v11 = data[p0 + w + 1];
          } else {
            const inside = (yy: number, xx: number): boolean => xx >= 0 && xx < w && yy >= 0 && yy < h;
            v00 = inside(y0, x0) ? data[base + y0 * w + x0] : fill;
            v01 = inside(y0, x0 + 1) ? data[base + y0 * w + x0 + 1] : fill;
            v10 = inside(y0 + 1, x0) ? data[base + (y0 + 1) * w + x0] : fill;
            v11 = inside(y0 + 1, x0 + 1) ? data[base + (y0 + 1) * w + x0 + 1] : fill;
          }
          v = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
        }
        out[base + y * w + x] = v;
      }
    }
  }
  return out;
}

function rotateSample(s: Sample, degrees: number, padValue: number, zoom: number): Sample {
  return {
    image: rotatePlanes(s.image, s.shape, s.spacing, degrees, 'linear', padValue, zoom),
    label: s.label ? rotatePlanes(s.label, s.shape, s.spacing, degrees, 'nearest', 0, zoom) : null,
    shape: s.shape,
    spacing: s.spacing,
  };
}

/** A seeded Rng for applyTransforms when used outside the loader. */
export function transformRng(seed: number): Rng {
  return new Rng(seed);
}
