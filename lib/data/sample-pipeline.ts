// Turning dataset entries into transformed samples and batches of plain typed arrays. Used
// by the loader's worker threads and by its in-process mode alike; it must never import the
// native addon (workers only decode and augment, the main thread makes the tensors).
import { DataLoadError, NiftiError } from './errors.js';
import { LabelMapper, type UnmappedPolicy } from './labels.js';
import * as nifti from './nifti.js';
import { readImageSync } from './image-io.js';
import { Rng } from './random.js';
import { applyTransforms, type Sample, type TransformSpec } from './transforms.js';

/** One sample to load: a file pair and, for 2D samples from a 3D file, the slice index. */
export interface SampleRef {
  image: string;
  label?: string;
  subject: string;
  /** For 2D: the axial slice (RAS z index) to take from a 3D volume. */
  z?: number;
  /** For 3D: keep only RAS z in [start, end) (e.g. a lumbar crop) before the transforms. */
  zRange?: [number, number];
  /** Carried through to the batch (e.g. phase, level). */
  meta?: Record<string, string | number>;
}

export interface SamplePipelineConfig {
  spatialDims: 2 | 3;
  /** [source id, class id] pairs. */
  labelMap: [number, number][];
  unmapped: UnmappedPolicy;
  transforms: TransformSpec[];
  /** Bytes of decoded files kept per pipeline (per worker), for repeated reads of 3D volumes (default 256 MiB). */
  cacheBytes?: number;
}

/** A batch as typed arrays: images [B, 1, ...shape], labels [B, ...shape]. */
export interface BatchArrays {
  image: Float32Array;
  label: Uint8Array | null;
  /** The per-sample shape ([H, W] or [D, H, W]). */
  shape: number[];
  /** Per-sample voxel spacing after the transforms (mm). */
  spacing: number[][];
}

interface CachedBase {
  image: Float32Array;
  label: Uint8Array | null;
  shape: [number, number, number];
  spacing: [number, number, number];
  bytes: number;
}

export class SamplePipeline {
  readonly #config: SamplePipelineConfig;
  readonly #mapper: LabelMapper;
  readonly #cache = new Map<string, CachedBase>();
  #cacheBytes = 0;

  constructor(config: SamplePipelineConfig) {
    this.#config = config;
    this.#mapper = new LabelMapper(config.labelMap, config.unmapped);
  }

  /** Reads a file pair: the image as float32 in RAS order, labels mapped to class ids. */
  #readBase(ref: SampleRef): CachedBase {
    const key = `${ref.image}\u0000${ref.label ?? ''}`;
    const hit = this.#cache.get(key);
    if (hit) {
      this.#cache.delete(key); // move to the most recent end
      this.#cache.set(key, hit);
      return hit;
    }
    const img = readImageSync(ref.image); // NIfTI or DICOM
    const image = img.data instanceof Float32Array ? img.data : Float32Array.from(img.data);
    let label: Uint8Array | null = null;
    if (ref.label) {
      const lab = nifti.readSync(ref.label);
      if (lab.shape.some((v, i) => v !== img.shape[i])) {
        throw new DataLoadError(
          `${ref.label}: label shape [${lab.shape.join(', ')}] differs from the image's [${img.shape.join(', ')}] (${ref.image})`,
          ref.label,
        );
      }
      const mapped = this.#mapper.apply(lab.data);
      if (mapped.unknown.size > 0) {
        throw new DataLoadError(`${ref.label}: label values outside the label map: ${[...mapped.unknown.keys()].slice(0, 10).join(', ')}`, ref.label);
      }
      label = mapped.labels;
    }
    const base: CachedBase = { image, label, shape: img.shape, spacing: img.spacing, bytes: image.byteLength + (label?.byteLength ?? 0) };
    const limit = this.#config.cacheBytes ?? 256 * 1024 * 1024;
    if (base.bytes <= limit) {
      this.#cache.set(key, base);
      this.#cacheBytes += base.bytes;
      for (const [k, v] of this.#cache) {
        if (this.#cacheBytes <= limit) break;
        this.#cache.delete(k);
        this.#cacheBytes -= v.bytes;
      }
    }
    return base;
  }

  /** The untransformed sample: [H, W] for 2D, [D, H, W] for 3D (D = RAS z, W = RAS x). */
  base(ref: SampleRef): Sample {
    const b = this.#readBase(ref);
    const [nx, ny, nz] = b.shape;
    if (this.#config.spatialDims === 2) {
      let z = ref.z;
      if (z === undefined) {
        if (nz !== 1)
          throw new DataLoadError(`${ref.image}: a 2D sample needs a single-slice image or a slice index z, but the image has ${nz} slices`, ref.image);
        z = 0;
      }
      if (!(Number.isInteger(z) && z >= 0 && z < nz)) throw new DataLoadError(`${ref.image}: slice z = ${z} is outside 0..${nz - 1}`, ref.image);
      const plane = nx * ny;
      return {
        image: b.image.slice(z * plane, (z + 1) * plane),
        label: b.label ? b.label.slice(z * plane, (z + 1) * plane) : null,
        shape: [ny, nx],
        spacing: [b.spacing[1], b.spacing[0]],
      };
    }
    let [z0, z1] = ref.zRange ?? [0, nz];
    z0 = Math.max(0, Math.floor(z0));
    z1 = Math.min(nz, Math.ceil(z1));
    if (z1 <= z0) throw new DataLoadError(`${ref.image}: empty z range [${ref.zRange?.join(', ')}) for ${nz} slices`, ref.image);
    const plane = nx * ny;
    return {
      image: b.image.slice(z0 * plane, z1 * plane),
      label: b.label ? b.label.slice(z0 * plane, z1 * plane) : null,
      shape: [z1 - z0, ny, nx],
      spacing: [b.spacing[2], b.spacing[1], b.spacing[0]],
    };
  }

  /** One sample through the transforms, with its own seeded random stream. */
  sample(ref: SampleRef, seed: number): Sample {
    try {
      return applyTransforms(this.#config.transforms, this.base(ref), new Rng(seed));
    } catch (e) {
      throw asLoadError(e, ref);
    }
  }

  /** Samples stacked into one batch; every sample must end with the same shape. */
  batch(refs: readonly SampleRef[], seeds: readonly number[]): BatchArrays {
    let image: Float32Array | null = null;
    let label: Uint8Array | null = null;
    let shape: number[] = [];
    let size = 0;
    const spacing: number[][] = [];
    refs.forEach((ref, b) => {
      const s = this.sample(ref, seeds[b]);
      if (b === 0) {
        shape = s.shape;
        size = s.image.length;
        image = new Float32Array(size * refs.length);
        label = s.label ? new Uint8Array(size * refs.length) : null;
      } else if (s.shape.length !== shape.length || s.shape.some((v, i) => v !== shape[i])) {
        throw new DataLoadError(
          `${ref.image}: sample shape [${s.shape.join(', ')}] differs from the batch's [${shape.join(', ')}] (${refs[0].image}); add a resample / cropOrPad transform to a fixed size`,
          ref.image,
        );
      }
      if ((s.label === null) !== (label === null)) throw new DataLoadError(`${ref.image}: some samples of the batch have labels and some do not`, ref.image);
      image!.set(s.image, b * size);
      if (label && s.label) (label as Uint8Array).set(s.label, b * size);
      spacing.push(s.spacing);
    });
    return { image: image ?? new Float32Array(0), label, shape, spacing };
  }
}

/** Wraps any failure as a DataLoadError naming the file it was about. */
export function asLoadError(e: unknown, ref: SampleRef): DataLoadError {
  if (e instanceof DataLoadError) return e;
  if (e instanceof NiftiError) return new DataLoadError(e.message, e.file, { cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new DataLoadError(`${ref.image}: ${msg}`, ref.image, { cause: e });
}
