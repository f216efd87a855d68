// segment(model, image): a 2D student on every axial slice of a CT image in memory, with the
// organ measurements of each slice. The input contract is the training one: HU (scl_slope /
// scl_inter applied, as nifti.read returns it), windowed here (default [-175, 250] HU -> [0, 1])
// and put on the model's size x size grid (stretched, or at fieldOfViewMm); any orientation (slices are taken along the RAS z axis,
// labels come back in the image's own voxel order).
import { orientationOf } from '../data/geometry.js';
import { reorient, type NiftiImage } from '../data/nifti.js';
import { Rng } from '../data/random.js';
import { applyTransforms, DEFAULT_HU_WINDOW, sliceInputTransforms, type SliceInput } from '../data/transforms.js';
import { organStats, type OrganSliceStats } from '../eval/organ-stats.js';
import type { ScriptModule } from '../module/script-module.js';
import { segmentSlices, type PreparedSlice } from './slices.js';

export interface SegmentOptions {
  /** Model input size (default: the model's metadata inputSize). */
  size?: number;
  /** Slices per forward pass (default 16). */
  batchSize?: number;
  /** HU window mapped to [0, 1] (default [-175, 250]; give the hu.window the model was trained with). */
  window?: [number, number];
  /** The model grid's field of view in mm, where the model was trained with student.fieldOfViewMm. */
  fieldOfViewMm?: number;
  signal?: AbortSignal;
}

export interface Segmentation {
  /** Class ids (0 background .. 6 aorta) in the image's own voxel order and shape. */
  labels: Uint8Array;
  /** Per axial slice (RAS z index) and organ 1..6: pixels, area in mm², HU mean / SD / median / IQR, z in mm. */
  stats: OrganSliceStats[];
}

/** The model's recorded square input size, else a RangeError asking for it. */
export function modelInputSize(module: ScriptModule, given?: number): number {
  if (given !== undefined) {
    if (!(Number.isInteger(given) && given >= 8)) throw new RangeError(`size: expected an integer >= 8, got ${given}`);
    return given;
  }
  const size = module.metadata?.inputSize;
  if (Array.isArray(size) && size.length === 2 && size[0] === size[1] && Number.isInteger(size[0])) return size[0] as number;
  throw new RangeError('size: the model does not record its input size; give options.size (the student.size it was trained with)');
}

/** Labels and organ stats of every axial slice of `image` (see the file comment for the input contract). */
export async function segment(module: ScriptModule, image: NiftiImage, options: SegmentOptions = {}): Promise<Segmentation> {
  if (module.metadata?.spatialDims === 3) throw new TypeError(`module: a 3D model (${String(module.metadata.arch ?? 'unknown')}); segment needs a 2D student`);
  const size = modelInputSize(module, options.size);
  const ras = reorient(image, 'RAS');
  const [nx, ny, nz] = ras.shape;
  const plane = nx * ny;
  const input: SliceInput = {
    size,
    window: options.window ?? DEFAULT_HU_WINDOW,
    ...(options.fieldOfViewMm !== undefined ? { fieldOfViewMm: options.fieldOfViewMm } : {}),
  };
  const toModel = sliceInputTransforms(input);
  const spacing: [number, number] = [ras.spacing[1], ras.spacing[0]];
  const labels = new Uint8Array(plane * nz);
  const batch = options.batchSize ?? 16;
  for (let z0 = 0; z0 < nz; z0 += batch) {
    options.signal?.throwIfAborted();
    const slices: PreparedSlice[] = [];
    for (let z = z0; z < Math.min(nz, z0 + batch); z++) {
      const hu = Float32Array.from(ras.data.subarray(z * plane, (z + 1) * plane));
      const input = applyTransforms(toModel, { image: hu, label: null, shape: [ny, nx], spacing }, new Rng(0)).image;
      slices.push({ ref: { image: '<memory>', subject: '<memory>', z }, shape: [ny, nx], spacing, hu, label: null, input });
    }
    const maps = await segmentSlices(module, slices, input, batch, options.signal);
    maps.forEach((m, i) => labels.set(m, (z0 + i) * plane));
  }
  const stats = organStats(ras, labels);
  const back = reorient({ ...ras, data: labels }, orientationOf(image.affine));
  return { labels: back.data as Uint8Array, stats };
}
