// TotalSegmentator data: subject folders holding ct.nii.gz and either segmentations/ (one mask
// per structure, TotalSegmentator's default output and its training set's layout) or, with
// --ml, one multi-label file in v1 or v2 ids (v1, as MONAI's wholeBody bundle: aorta 7; v2:
// aorta 52). Per-structure masks are merged into one label file per subject on the CT's grid.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { affinesClose } from '../geometry.js';
import { LABEL_MAPS } from '../labels.js';
import * as nifti from '../nifti.js';
import { isSingleSlice } from './entry-kind.js';
import { ImportError } from './errors.js';
import type { ImportedEntries } from './write-dataset.js';

/** Mask file stems of TotalSegmentator (v1 and v2 alike) for each class. */
export const TOTALSEG_MASKS: readonly [string, number][] = [
  ['spleen', 1],
  ['kidney_right', 2],
  ['kidney_left', 3],
  ['liver', 4],
  ['stomach', 5],
  ['aorta', 6],
];

export interface TotalsegOptions {
  /** Read one multi-label file per subject (TotalSegmentator --ml) instead of segmentations/. */
  ml?: boolean;
  /** The multi-label file's name in each subject folder (default segmentations.nii.gz). */
  mlName?: string;
  /** Ids of the multi-label files: 'v1' (also MONAI wholeBody) or 'v2' (default). */
  ids?: 'v1' | 'v2';
  /** The CT's name in each subject folder (default ct.nii.gz). */
  ctName?: string;
  /** Where merged label files go: OUT/labels/. */
  out: string;
  log?: (line: string) => void;
}

function subjectDirs(dir: string, ctName: string): string[] {
  if (existsSync(path.join(dir, ctName))) return [dir];
  return readdirSync(dir)
    .map((n) => path.join(dir, n))
    .filter((p) => statSync(p).isDirectory() && existsSync(path.join(p, ctName)))
    .sort();
}

/** Merges the six masks of one subject into class ids on the CT's grid (native voxel order). */
async function mergeMasks(subjectDir: string, ct: nifti.NiftiImage, ctFile: string): Promise<{ labels: Uint8Array; missing: string[] }> {
  const segDir = path.join(subjectDir, 'segmentations');
  if (!existsSync(segDir)) throw new ImportError('no segmentations/ folder (use --ml for one multi-label file per subject)', subjectDir);
  const labels = new Uint8Array(ct.shape[0] * ct.shape[1] * ct.shape[2]);
  const missing: string[] = [];
  for (const [stem, cls] of TOTALSEG_MASKS) {
    const file = [`${stem}.nii.gz`, `${stem}.nii`].map((n) => path.join(segDir, n)).find(existsSync);
    if (!file) {
      missing.push(stem);
      continue;
    }
    const mask = await nifti.read(file, { orientation: 'native' });
    if (mask.shape.some((v, i) => v !== ct.shape[i]) || !affinesClose(mask.affine, ct.affine, 1e-2)) {
      throw new ImportError(`shape or geometry differs from ${path.basename(ctFile)}'s`, file);
    }
    for (let i = 0; i < labels.length; i++) if (mask.data[i]! > 0) labels[i] = cls;
  }
  if (missing.length === TOTALSEG_MASKS.length) throw new ImportError('none of the masks spleen, kidney_right, kidney_left, liver, stomach, aorta', segDir);
  return { labels, missing };
}

export async function importTotalsegmentator(dir: string, o: TotalsegOptions): Promise<ImportedEntries> {
  const ctName = o.ctName ?? 'ct.nii.gz';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError('not a folder', dir);
  const subjects = subjectDirs(dir, ctName);
  if (subjects.length === 0)
    throw new ImportError(
      `no subject folders with ${ctName} (layout: SUBJECT/${ctName} with SUBJECT/segmentations/*.nii.gz, or with --ml SUBJECT/segmentations.nii.gz)`,
      dir,
    );
  const volumes: ImportedEntries['volumes'] = [];
  const slices: ImportedEntries['slices'] = [];
  const missing: Record<string, string[]> = {};
  const labelsOut = path.join(o.out, 'labels');
  for (const s of subjects) {
    const subject = path.basename(s);
    const image = path.join(s, ctName);
    let label: string;
    if (o.ml) {
      label = path.join(s, o.mlName ?? 'segmentations.nii.gz');
      if (!existsSync(label)) throw new ImportError(`no multi-label file ${path.basename(label)} (--ml-name names it)`, s);
    } else {
      const ct = await nifti.read(image, { orientation: 'native', headerOnly: true });
      const merged = await mergeMasks(s, ct, image);
      if (merged.missing.length) missing[subject] = merged.missing;
      await mkdir(labelsOut, { recursive: true });
      label = path.join(labelsOut, `${subject}.nii.gz`);
      const header = ct.header && { ...ct.header, sclSlope: 1, sclInter: 0, intentCode: 1002, intentName: 'labels' };
      await nifti.write(
        label,
        { data: merged.labels, shape: ct.shape, spacing: ct.spacing, affine: ct.affine, header },
        { datatype: 'uint8', descrip: 'slice-distill import totalsegmentator' },
      );
    }
    const entry = { image, label, subject };
    if (await isSingleSlice(image)) slices.push(entry);
    else volumes.push(entry);
  }
  for (const [subject, stems] of Object.entries(missing)) o.log?.(`import: ${subject}: no mask for ${stems.join(', ')} (taken as absent)`);
  const labelMap = o.ml ? (o.ids === 'v1' ? LABEL_MAPS.totalsegmentatorV1 : LABEL_MAPS.totalsegmentatorV2) : LABEL_MAPS.identity;
  return {
    name: path.basename(path.resolve(dir)),
    description: `Imported from TotalSegmentator ${o.ml ? `multi-label files (${o.ids ?? 'v2'} ids)` : 'per-structure masks'} in ${path.basename(path.resolve(dir))}`,
    labelMap: Object.fromEntries(Object.entries(labelMap).map(([k, v]) => [k, v])),
    unmappedLabels: 'background',
    volumes,
    slices,
    source: { format: 'totalsegmentator', dir, ml: o.ml ?? false, ids: o.ml ? (o.ids ?? 'v2') : undefined, missingMasks: missing },
  };
}
