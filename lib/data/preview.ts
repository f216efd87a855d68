// Rendering an axial slice with its labels overlaid, for a quick look at any NIfTI pair.
// Shown as radiologists do: the patient's right on the left of the picture, anterior at the
// top; pixels resampled so that millimetres are square.
import { CLASS_RGB } from './class-colors.js';
import { NUM_CLASSES } from './labels.js';
import type { NiftiImage } from './nifti.js';
import { encodePng } from '../util/png.js';

/** Overlay colours by class id (background has none): the report's palette. */
export const CLASS_COLOURS: readonly [number, number, number][] = CLASS_RGB;

export interface PreviewOptions {
  /** RAS z index of the slice (default: the slice with the most labelled voxels, else the middle). */
  z?: number;
  /** HU window (default [-175, 250]). */
  window?: [number, number];
  /** Overlay opacity, 0..1 (default 0.4); outlines are drawn opaque. */
  alpha?: number;
  /** Width of the picture's larger side in pixels (default 512). */
  size?: number;
}

export interface Preview {
  png: Uint8Array;
  width: number;
  height: number;
  z: number;
  /** Labelled voxels per class in the slice. */
  counts: number[];
}

/** Renders one axial slice of an image in RAS order (nifti.read's default), with labels if given. */
export function renderPreview(image: NiftiImage, label: NiftiImage | null, options: PreviewOptions = {}): Preview {
  const [nx, ny, nz] = image.shape;
  if (label && label.shape.some((v, i) => v !== image.shape[i])) {
    throw new RangeError(`labels: shape [${label.shape.join(', ')}] differs from the image's [${image.shape.join(', ')}]`);
  }
  const plane = nx * ny;
  let z = options.z ?? -1;
  if (z < 0 && options.z === undefined) {
    z = Math.floor(nz / 2);
    if (label) {
      let best = 0;
      for (let k = 0; k < nz; k++) {
        let c = 0;
        for (let i = k * plane; i < (k + 1) * plane; i++) if (label.data[i] > 0) c++;
        if (c > best) {
          best = c;
          z = k;
        }
      }
    }
  }
  if (!Number.isInteger(z) || z < 0 || z >= nz) throw new RangeError(`z: ${options.z} is outside 0..${nz - 1}`);
  const [lo, hi] = options.window ?? [-175, 250];
  const alpha = options.alpha ?? 0.4;
  const [sx, sy] = image.spacing;
  const size = options.size ?? 512;
  const mm = Math.max(nx * sx, ny * sy) / size; // mm per output pixel
  const width = Math.max(1, Math.round((nx * sx) / mm));
  const height = Math.max(1, Math.round((ny * sy) / mm));
  // source voxel of each output pixel (nearest), flipped for the radiological view
  const srcX = new Int32Array(width);
  const srcY = new Int32Array(height);
  for (let c = 0; c < width; c++) srcX[c] = nx - 1 - Math.min(nx - 1, Math.floor(((c + 0.5) * mm) / sx));
  for (let r = 0; r < height; r++) srcY[r] = ny - 1 - Math.min(ny - 1, Math.floor(((r + 0.5) * mm) / sy));
  const classes = new Uint8Array(width * height);
  const rgb = new Uint8Array(width * height * 3);
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  if (label) for (let i = z * plane; i < (z + 1) * plane; i++) counts[Math.min(label.data[i], NUM_CLASSES - 1)]++;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const idx = z * plane + srcY[r] * nx + srcX[c];
      const g = Math.round(Math.max(0, Math.min(1, (image.data[idx] - lo) / (hi - lo))) * 255);
      const o = (r * width + c) * 3;
      rgb[o] = rgb[o + 1] = rgb[o + 2] = g;
      if (label) classes[r * width + c] = label.data[idx];
    }
  }
  if (label) {
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const k = classes[r * width + c];
        if (k === 0 || k >= CLASS_COLOURS.length) continue;
        const edge =
          (c > 0 && classes[r * width + c - 1] !== k) ||
          (c < width - 1 && classes[r * width + c + 1] !== k) ||
          (r > 0 && classes[(r - 1) * width + c] !== k) ||
          (r < height - 1 && classes[(r + 1) * width + c] !== k);
        const a = edge ? 1 : alpha;
        const col = CLASS_COLOURS[k];
        const o = (r * width + c) * 3;
        for (let ch = 0; ch < 3; ch++) rgb[o + ch] = Math.round(rgb[o + ch] * (1 - a) + col[ch] * a);
      }
    }
  }
  return { png: encodePng(rgb, width, height, 3), width, height, z, counts };
}
