// The lumbar crop for the teacher prototype: which axial slices of a 3D volume count.
// Pluggable through the BodyPartCrop interface: an explicit z-range, the z-range spanned by
// the kidneys in the labels with a margin (the default), or a body-part regressor given by
// the user (SliceScoreCrop in ./body-part-regressor.ts, which needs the native addon).
import { NUM_CLASSES } from './labels.js';
import type { Affine } from './geometry.js';

/** A volume in RAS voxel order (nifti.read's default), x fastest. */
export interface CropVolume {
  shape: [number, number, number];
  spacing: [number, number, number];
  affine?: Affine;
  /** HU values (needed by regressors). */
  image?: ArrayLike<number>;
  /** Class ids (needed by label-based crops). */
  label?: ArrayLike<number>;
  /** For messages. */
  file?: string;
}

/** Axial slices [start, end) in RAS z index. */
export interface ZRange {
  start: number;
  end: number;
}

export interface BodyPartCrop {
  readonly name: string;
  /** The slices to keep, or null when the volume has none (it is then left out). */
  zRange(volume: CropVolume): Promise<ZRange | null>;
  /** Parameters, for the provenance of a prototype. */
  describe(): Record<string, unknown>;
}

/** Keeps an explicit range: slice indices, or world z in mm (RAS, through the affine). */
export class ExplicitZRange implements BodyPartCrop {
  readonly name = 'explicit';

  constructor(readonly options: { start: number; end: number; unit?: 'index' | 'mm' }) {
    if (!(Number.isFinite(options.start) && Number.isFinite(options.end) && options.end > options.start)) {
      throw new RangeError(`start, end: expected finite numbers with end > start, got ${options.start}, ${options.end}`);
    }
  }

  async zRange(volume: CropVolume): Promise<ZRange | null> {
    const nz = volume.shape[2];
    let lo = this.options.start;
    let hi = this.options.end;
    if ((this.options.unit ?? 'index') === 'mm') {
      const a = volume.affine;
      if (!a) throw new TypeError(`${volume.file ?? 'volume'}: an explicit range in mm needs the volume's affine`);
      // world z of slice k (at the volume's centre in x, y): a[2][2] * k + c
      const c = a[2][0] * (volume.shape[0] - 1) * 0.5 + a[2][1] * (volume.shape[1] - 1) * 0.5 + a[2][3];
      const k1 = (this.options.start - c) / a[2][2];
      const k2 = (this.options.end - c) / a[2][2];
      lo = Math.ceil(Math.min(k1, k2));
      hi = Math.floor(Math.max(k1, k2)) + 1;
    }
    const start = Math.max(0, Math.floor(lo));
    const end = Math.min(nz, Math.ceil(hi));
    return end > start ? { start, end } : null;
  }

  describe(): Record<string, unknown> {
    return { crop: this.name, unit: 'index', ...this.options };
  }
}

/**
 * The z-range spanned by the kidneys in the labels, widened by a margin in mm on each side.
 * Volumes without kidney voxels are left out ('exclude', default) or kept whole ('whole').
 */
export class KidneyRangeCrop implements BodyPartCrop {
  readonly name = 'kidney-range';
  readonly marginMm: number;
  readonly classes: readonly number[];
  readonly whenAbsent: 'exclude' | 'whole';

  constructor(options: { marginMm?: number; classes?: readonly number[]; whenAbsent?: 'exclude' | 'whole' } = {}) {
    this.marginMm = options.marginMm ?? 10;
    this.classes = options.classes ?? [2, 3];
    this.whenAbsent = options.whenAbsent ?? 'exclude';
    if (!(this.marginMm >= 0)) throw new RangeError(`marginMm: expected a non-negative number, got ${this.marginMm}`);
    if (this.classes.some((c) => !Number.isInteger(c) || c < 0 || c >= NUM_CLASSES))
      throw new RangeError(`classes: expected class ids in 0..${NUM_CLASSES - 1}`);
  }

  async zRange(volume: CropVolume): Promise<ZRange | null> {
    if (!volume.label) throw new TypeError(`${volume.file ?? 'volume'}: the kidney-range crop needs the label volume`);
    const [nx, ny, nz] = volume.shape;
    const plane = nx * ny;
    const wanted = new Uint8Array(256);
    for (const c of this.classes) wanted[c] = 1;
    let first = -1;
    let last = -1;
    for (let k = 0; k < nz; k++) {
      const base = k * plane;
      for (let i = 0; i < plane; i++) {
        if (wanted[volume.label[base + i] & 0xff] && volume.label[base + i] < 256) {
          if (first < 0) first = k;
          last = k;
          break;
        }
      }
    }
    if (first < 0) return this.whenAbsent === 'whole' ? { start: 0, end: nz } : null;
    const margin = Math.round(this.marginMm / volume.spacing[2]);
    return { start: Math.max(0, first - margin), end: Math.min(nz, last + 1 + margin) };
  }

  describe(): Record<string, unknown> {
    return { crop: this.name, marginMm: this.marginMm, classes: [...this.classes], whenAbsent: this.whenAbsent };
  }
}
