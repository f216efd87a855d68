// Boundary metrics in millimetres: the 95th-percentile Hausdorff distance (HD95) and the
// normalised surface Dice (NSD) at a tolerance, on 2D slices or 3D grids with anisotropic spacing.
//
// Definitions (as medpy / MONAI compute them on voxels):
// - The surface ∂A of a mask is its voxels with a face neighbour (4 in 2D, 6 in 3D) outside the
//   mask or outside the grid.
// - d(a, ∂B) is the Euclidean distance in mm from voxel centre a to the nearest voxel of ∂B
//   (an exact distance transform, Felzenszwalb & Huttenlocher, with the spacing per axis).
// - HD95 = max(P95{d(a, ∂B) : a in ∂A}, P95{d(b, ∂A) : b in ∂B}), percentiles interpolated
//   linearly (numpy's default).
// - NSD(tau) = (|{a in ∂A : d(a, ∂B) <= tau}| + |{b in ∂B : d(b, ∂A) <= tau}|) / (|∂A| + |∂B|),
//   counting surface voxels (not surfel areas).
// Empty masks: both empty: HD95 and NSD are null (not scored, as Dice). One empty: HD95 is null
// (the distance is undefined: missing, never 0 or infinity) and NSD is 0 (no surface point of
// the other lies within any tolerance). Pooled over several slices (SurfaceAccumulator), a
// slice with exactly one of the masks empty makes HD95 missing, and its surface voxels count as
// outside the tolerance for NSD.

/** Default NSD tolerance in mm. */
export const DEFAULT_TOLERANCE_MM = 2;

/** The grid: sizes per axis with axis 0 fastest in memory (NIfTI's [X, Y] or [X, Y, Z]), spacing in mm per axis. */
export interface Grid {
  shape: readonly number[];
  spacing: readonly number[];
}

function checkGrid(g: Grid, length: number, what: string): void {
  if (g.shape.length !== g.spacing.length || g.shape.length < 1 || g.shape.length > 3)
    throw new RangeError(`${what}: shape and spacing must have the same 1 to 3 axes`);
  const n = g.shape.reduce((a, b) => a * b, 1);
  if (n !== length) throw new RangeError(`${what}: ${length} values for shape [${g.shape.join(', ')}]`);
  for (const s of g.spacing) if (!(Number.isFinite(s) && s > 0)) throw new RangeError(`${what}: spacing [${g.spacing.join(', ')}] must be positive`);
}

/** Surface voxels (1) of a mask (non-zero = inside). */
export function surfaceOf(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const n = mask.length;
  const out = new Uint8Array(n);
  const strides = shape.map((_, a) => shape.slice(0, a).reduce((x, y) => x * y, 1));
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      // advance the multi-index
      for (let a = 0; a < shape.length; a++) {
        if (++coord[a]! < shape[a]!) break;
        coord[a] = 0;
      }
    }
    if (!mask[i]) continue;
    for (let a = 0; a < shape.length; a++) {
      const c = coord[a]!;
      const s = strides[a]!;
      if (c === 0 || c === shape[a]! - 1 || !mask[i - s] || !mask[i + s]) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** 1D squared distance transform along one line (lower envelope of parabolas at positions p * step). */
function line(f: Float64Array, n: number, step: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    const xq = q * step;
    while (k >= 0) {
      const xv = v[k]! * step;
      const s = (f[q]! + xq * xq - (f[v[k]!]! + xv * xv)) / (2 * (xq - xv));
      if (s <= z[k]!) k--;
      else {
        k++;
        v[k] = q;
        z[k] = s;
        break;
      }
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
    }
  }
  if (k < 0) {
    d.fill(Infinity, 0, n);
    return;
  }
  z[k + 1] = Infinity;
  let j = 0;
  for (let q = 0; q < n; q++) {
    const x = q * step;
    while (z[j + 1]! < x) j++;
    const xv = v[j]! * step;
    d[q] = (x - xv) * (x - xv) + f[v[j]!]!;
  }
}

/** Squared Euclidean distance in mm² from every voxel to the nearest feature voxel (Infinity without features). */
export function squaredDistanceTransform(features: ArrayLike<number>, grid: Grid): Float64Array {
  checkGrid(grid, features.length, 'features');
  const { shape, spacing } = grid;
  const n = features.length;
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) dist[i] = features[i] ? 0 : Infinity;
  const longest = Math.max(...shape);
  const f = new Float64Array(longest);
  const d = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  for (let a = 0; a < shape.length; a++) {
    const len = shape[a]!;
    const stride = shape.slice(0, a).reduce((x, y) => x * y, 1);
    // every line along axis a starts at an index whose coordinate a is 0
    for (let start = 0; start < n; start++) {
      if (Math.floor(start / stride) % len !== 0) continue;
      for (let q = 0; q < len; q++) f[q] = dist[start + q * stride]!;
      line(f, len, spacing[a]!, d, v, z);
      for (let q = 0; q < len; q++) dist[start + q * stride] = d[q]!;
    }
  }
  return dist;
}

/** Distances in mm from each surface voxel of A to ∂B, and from each of ∂B to ∂A. */
export interface SurfaceDistances {
  aToB: Float64Array;
  bToA: Float64Array;
}

/** The two directed lists of surface distances of masks a and b on one grid (an empty list where a mask is empty). */
export function surfaceDistances(a: ArrayLike<number>, b: ArrayLike<number>, grid: Grid): SurfaceDistances {
  checkGrid(grid, a.length, 'a');
  checkGrid(grid, b.length, 'b');
  const sa = surfaceOf(a, grid.shape);
  const sb = surfaceOf(b, grid.shape);
  const directed = (from: Uint8Array, to: Uint8Array): Float64Array => {
    const count = from.reduce((s, x) => s + x, 0);
    const out = new Float64Array(count);
    if (count === 0) return out;
    const dt = squaredDistanceTransform(to, grid);
    let j = 0;
    for (let i = 0; i < from.length; i++) if (from[i]) out[j++] = Math.sqrt(dt[i]!);
    return out;
  };
  return { aToB: directed(sa, sb), bToA: directed(sb, sa) };
}

/** numpy.percentile(values, q) with linear interpolation; values are sorted in place. */
export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  values.sort();
  const h = ((values.length - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, values.length - 1);
  return values[lo]! + (h - lo) * (values[hi]! - values[lo]!);
}

export interface BoundaryScores {
  /** mm; null when either mask is empty (see the conventions above). */
  hd95: number | null;
  /** In [0, 1]; null when both masks are empty, 0 when one is. */
  nsd: number | null;
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Pools surface distances of one organ over several slices (or grids) of a subject, then
 * scores them as one surface pair: the boundary counterpart of pooling Dice counts.
 */
export class SurfaceAccumulator {
  readonly toleranceMm: number;
  private aToB: Float64Array[] = [];
  private bToA: Float64Array[] = [];
  /** A slice had exactly one of the two masks empty. */
  private oneSided = false;

  constructor(toleranceMm = DEFAULT_TOLERANCE_MM) {
    if (!(Number.isFinite(toleranceMm) && toleranceMm >= 0)) throw new RangeError(`toleranceMm: expected a number >= 0, got ${toleranceMm}`);
    this.toleranceMm = toleranceMm;
  }

  /** Adds one pair of binary masks (prediction a, truth b) on their grid. */
  add(a: ArrayLike<number>, b: ArrayLike<number>, grid: Grid): this {
    const d = surfaceDistances(a, b, grid);
    if ((d.aToB.length === 0) !== (d.bToA.length === 0)) this.oneSided = true;
    // against an empty surface no distance exists: kept as Infinity for NSD's count
    this.aToB.push(d.bToA.length === 0 ? d.aToB.fill(Infinity) : d.aToB);
    this.bToA.push(d.aToB.length === 0 ? d.bToA.fill(Infinity) : d.bToA);
    return this;
  }

  result(): BoundaryScores {
    const ab = concat(this.aToB);
    const ba = concat(this.bToA);
    const total = ab.length + ba.length;
    if (total === 0) return { hd95: null, nsd: null };
    let within = 0;
    for (const v of ab) if (v <= this.toleranceMm) within++;
    for (const v of ba) if (v <= this.toleranceMm) within++;
    const nsd = within / total;
    if (this.oneSided || ab.length === 0 || ba.length === 0) return { hd95: null, nsd };
    return { hd95: Math.max(percentile(ab, 95), percentile(ba, 95)), nsd };
  }
}

/** HD95 and NSD of two binary masks on one grid (prediction a, truth b). */
export function boundaryScores(a: ArrayLike<number>, b: ArrayLike<number>, grid: Grid, toleranceMm = DEFAULT_TOLERANCE_MM): BoundaryScores {
  return new SurfaceAccumulator(toleranceMm).add(a, b, grid).result();
}

/** Binary mask of class k in a label map. */
export function classMask(labels: ArrayLike<number>, k: number): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (labels[i] === k) m[i] = 1;
  return m;
}

/** Per class (in `classes` order) HD95 and NSD of a prediction against its truth on one grid. */
export function boundaryScoresPerClass(
  prediction: ArrayLike<number>,
  truth: ArrayLike<number>,
  grid: Grid,
  classes: readonly number[],
  toleranceMm = DEFAULT_TOLERANCE_MM,
): BoundaryScores[] {
  return classes.map((k) => boundaryScores(classMask(prediction, k), classMask(truth, k), grid, toleranceMm));
}
