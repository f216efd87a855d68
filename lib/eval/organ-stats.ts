// Organ measurements on axial slices, the numbers single-slice CT studies publish: per slice and
// organ the pixel count, the area in mm² (in-plane pixel spacing), and the mean, sample SD,
// median and IQR of the HU values under the label, with the slice's world z position.
//
// Input: the image in HU (scl_slope / scl_inter applied, as nifti.read does) and class ids on the
// same grid, both in RAS voxel order (x fastest, then y, then z) as nifti.read returns them.
import { applyAffine, type Affine } from '../data/geometry.js';
import { CLASSES, NUM_CLASSES } from '../data/labels.js';

export interface OrganSliceStats {
  /** Slice index along the RAS z axis (the index `preview --z` takes). */
  slice: number;
  /** World z (RAS+, mm) of the slice's centre pixel. */
  zMm: number;
  classId: number;
  organ: string;
  pixels: number;
  areaMm2: number;
  /** HU statistics of the labelled pixels; null without pixels (sd: with fewer than two). */
  meanHu: number | null;
  /** Sample standard deviation (n - 1 in the denominator). */
  sdHu: number | null;
  medianHu: number | null;
  /** Third minus first quartile, quartiles interpolated linearly (numpy's default percentile). */
  iqrHu: number | null;
}

export interface OrganStatsInput {
  /** HU, x fastest, [X, Y, Z] = shape. */
  data: ArrayLike<number>;
  shape: readonly [number, number, number];
  /** Voxel size in mm along each axis of shape. */
  spacing: readonly [number, number, number];
  affine: Affine;
}

/** Linear-interpolated quantile of sorted values (numpy's default, R type 7). */
function quantileSorted(v: Float64Array, q: number): number {
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
}

function huStats(values: Float64Array): Pick<OrganSliceStats, 'meanHu' | 'sdHu' | 'medianHu' | 'iqrHu'> {
  const n = values.length;
  if (n === 0) return { meanHu: null, sdHu: null, medianHu: null, iqrHu: null };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  values.sort();
  return {
    meanHu: mean,
    sdHu: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
    medianHu: quantileSorted(values, 0.5),
    iqrHu: quantileSorted(values, 0.75) - quantileSorted(values, 0.25),
  };
}

/**
 * Stats of organs 1..6 on every axial slice (one row per slice and organ, absent organs with 0
 * pixels and null HU values). Throws a RangeError for a label outside the class ids or a size mismatch.
 */
export function organStats(image: OrganStatsInput, labels: ArrayLike<number>, what = 'labels'): OrganSliceStats[] {
  const [nx, ny, nz] = image.shape;
  const plane = nx * ny;
  if (image.data.length !== plane * nz) throw new RangeError(`image: ${image.data.length} values for shape [${image.shape.join(', ')}]`);
  if (labels.length !== plane * nz) throw new RangeError(`${what}: ${labels.length} values for the image's shape [${image.shape.join(', ')}]`);
  const pixelArea = image.spacing[0] * image.spacing[1];
  const rows: OrganSliceStats[] = [];
  for (let z = 0; z < nz; z++) {
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = z * plane; i < (z + 1) * plane; i++) {
      const k = labels[i]!;
      if (!(k >= 0 && k < NUM_CLASSES && Math.floor(k) === k)) throw new RangeError(`${what}: voxel ${i} holds ${k}, not a class id in [0, ${NUM_CLASSES})`);
      counts[k]!++;
    }
    const values = counts.map((c) => new Float64Array(c));
    const fill = new Array<number>(NUM_CLASSES).fill(0);
    for (let i = z * plane; i < (z + 1) * plane; i++) {
      const k = labels[i]!;
      values[k]![fill[k]!++] = image.data[i]!;
    }
    const zMm = applyAffine(image.affine, [(nx - 1) / 2, (ny - 1) / 2, z])[2];
    for (let k = 1; k < NUM_CLASSES; k++) {
      rows.push({ slice: z, zMm, classId: k, organ: CLASSES[k], pixels: counts[k]!, areaMm2: counts[k]! * pixelArea, ...huStats(values[k]!) });
    }
  }
  return rows;
}
