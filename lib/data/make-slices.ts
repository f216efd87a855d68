// Cutting axial slices out of labelled volumes into a single-slice dataset: each slice a
// one-slice NIfTI on the volume's own grid (its affine moved to the slice), labels already
// mapped to class ids, and all slices of one scan under that scan's subject (so a split
// never puts slices of one patient on both sides).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readImage } from './image-io.js';
import { ImportError } from './import/errors.js';
import type { ImportedEntries } from './import/write-dataset.js';
import { type LabelMapper } from './labels.js';
import * as nifti from './nifti.js';

export interface SliceSource {
  image: string;
  label: string;
  subject: string;
  /** Source id -> class id of the label file. */
  labelMap: LabelMapper;
  /** This volume's own RAS slice indices (over the shared choice). */
  z?: number[];
}

export type SliceChoice = { z: number[] } | { kidneyLevel: number };

/** The RAS z indices to cut: given, or `n` evenly spaced through the slices holding a kidney. */
export function chooseSlices(labels: Uint8Array, shape: readonly number[], choice: SliceChoice | null, file: string): number[] {
  const [nx, ny, nz] = shape as [number, number, number];
  if (!choice) throw new ImportError('no slices chosen for this volume (--z, --kidney-level or IMAGE,LABEL,FROM:TO)', file);
  if ('z' in choice) {
    const bad = choice.z.filter((z) => !(Number.isInteger(z) && z >= 0 && z < nz));
    if (bad.length) throw new ImportError(`slice index ${bad.join(', ')} outside 0..${nz - 1}`, file);
    return [...new Set(choice.z)].sort((a, b) => a - b);
  }
  const plane = nx * ny;
  const withKidney: number[] = [];
  for (let z = 0; z < nz; z++) {
    const s = labels.subarray(z * plane, (z + 1) * plane);
    if (s.some((v) => v === 2 || v === 3)) withKidney.push(z);
  }
  if (withKidney.length === 0) throw new ImportError('no kidney in the labels (classes 2 and 3): --kidney-level cannot place a slice; give --z', file);
  const n = Math.min(choice.kidneyLevel, withKidney.length);
  // centres of n equal parts of the kidneys' z-range
  return [...new Set(Array.from({ length: n }, (_, i) => withKidney[Math.floor(((i + 0.5) * withKidney.length) / n)]!))];
}

/** Writes OUT/slices/SUBJECT_zZ(.nii.gz, _seg.nii.gz) per chosen slice; returns the dataset entries. */
export async function makeSlices(
  sources: readonly SliceSource[],
  choice: SliceChoice | null,
  out: string,
  log?: (line: string) => void,
): Promise<ImportedEntries> {
  const dir = path.join(out, 'slices');
  await mkdir(dir, { recursive: true });
  const slices: ImportedEntries['slices'] = [];
  for (const src of sources) {
    const image = await readImage(src.image); // RAS: z is the axial index
    const label = await readImage(src.label);
    if (label.shape.some((v, i) => v !== image.shape[i]))
      throw new ImportError(`label shape [${label.shape.join(', ')}] differs from the image's [${image.shape.join(', ')}]`, src.label);
    const { labels, unknown } = src.labelMap.apply(label.data);
    if (unknown.size)
      throw new ImportError(`label values outside the label map: ${[...unknown.keys()].slice(0, 10).join(', ')} (choose --label-map)`, src.label);
    const [nx, ny] = image.shape;
    const plane = nx * ny;
    const zs = chooseSlices(labels, image.shape, src.z ? { z: src.z } : choice, src.label);
    const integer = image.data.every((v) => Number.isInteger(v) && v >= -32768 && v <= 32767);
    for (const z of zs) {
      const affine = image.affine.map((row) => [row[0]!, row[1]!, row[2]!, row[3]! + row[2]! * z]);
      const at = { shape: [nx, ny, 1] as [number, number, number], spacing: image.spacing, affine };
      const stem = path.join(dir, `${src.subject}_z${String(z).padStart(3, '0')}`);
      const pixels = image.data.slice(z * plane, (z + 1) * plane);
      await nifti.write(
        `${stem}.nii.gz`,
        { ...at, data: integer ? Int16Array.from(pixels) : Float32Array.from(pixels) },
        { descrip: `slice z=${z} of ${path.basename(src.image)}` },
      );
      await nifti.write(
        `${stem}_seg.nii.gz`,
        { ...at, data: labels.slice(z * plane, (z + 1) * plane) },
        { datatype: 'uint8', descrip: 'slice-distill make-slices' },
      );
      slices.push({ image: `${stem}.nii.gz`, label: `${stem}_seg.nii.gz`, subject: src.subject, level: `z${z}` });
    }
    log?.(`make-slices: ${src.subject}: z = ${zs.join(', ')}`);
  }
  return {
    name: path.basename(path.resolve(out)),
    description: `Axial slices cut from ${sources.length} volume${sources.length === 1 ? '' : 's'}`,
    labelMap: { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6 },
    unmappedLabels: 'error',
    volumes: [],
    slices,
    source: { format: 'make-slices', volumes: sources.map((s) => ({ image: s.image, label: s.label, subject: s.subject })), choice },
  };
}
