// dataset.json: the description of a dataset folder (docs/dataset-json.md), its loading and
// its validation. Validation reads every file once and reports all problems together, so a
// dataset is fixed in one pass rather than one crash at a time, before any training starts.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError, DicomError, NiftiError, type DatasetProblem } from './errors.js';
import { affinesClose, orientationOf } from './geometry.js';
import { LabelMapper, NUM_CLASSES, CLASSES, type UnmappedPolicy } from './labels.js';
import { readImage } from './image-io.js';
import * as nifti from './nifti.js';
import { nonAxialSliceProblem } from './slice-plane.js';

export const DATASET_FILE = 'dataset.json';

/** A 3D volume (paths absolute after loading). */
export interface VolumeEntry {
  image: string;
  label?: string;
  subject: string;
  /** Contrast phase: 'non-contrast', 'arterial', 'portal-venous', 'delayed', or any label. */
  phase?: string;
}

/** A 2D single slice: a 2D NIfTI or a one-slice 3D NIfTI (paths absolute after loading). */
export interface SliceEntry {
  image: string;
  label?: string;
  subject: string;
  /** Free text, e.g. the vertebral level. */
  level?: string;
}

export interface Dataset {
  /** Absolute path of dataset.json. */
  file: string;
  /** Its folder: relative paths are resolved from here. */
  root: string;
  name: string;
  description: string;
  /** Source label id -> class id. */
  labelMap: LabelMapper;
  volumes: VolumeEntry[];
  slices: SliceEntry[];
  /** Anything else the file holds (kept for provenance). */
  extra: Record<string, unknown>;
}

/** The JSON as written (relative paths). */
export interface DatasetJson {
  name?: string;
  description?: string;
  classes?: string[];
  labelMap: Record<string, number>;
  unmappedLabels?: UnmappedPolicy;
  volumes?: VolumeEntry[];
  slices?: SliceEntry[];
  [key: string]: unknown;
}

const KNOWN_KEYS = new Set(['name', 'description', 'classes', 'labelMap', 'unmappedLabels', 'volumes', 'slices']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads dataset.json (a path to the file or to its folder) and checks its structure. Throws
 * a DatasetError listing every structural problem; files are checked by validateDataset.
 */
export async function loadDataset(location: string): Promise<Dataset> {
  let file = path.resolve(location);
  if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, DATASET_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DatasetError(file, [{ file, message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(file, [{ file, message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseDataset(json, file);
}

/** Checks and normalises a parsed dataset.json (paths resolved against the file's folder). */
export function parseDataset(json: unknown, file: string): Dataset {
  const problems: DatasetProblem[] = [];
  const problem = (where: string, message: string): void => void problems.push({ file, where, message });
  const root = path.dirname(file);
  if (!isObject(json)) throw new DatasetError(file, [{ file, message: 'expected a JSON object at the top level' }]);

  for (const key of Object.keys(json)) {
    if (!KNOWN_KEYS.has(key) && !key.startsWith('x-') && key !== '$schema' && key !== 'meta') {
      problem(key, `unknown key (known: ${[...KNOWN_KEYS].join(', ')}; use an 'x-' prefix for your own)`);
    }
  }
  if (json.classes !== undefined) {
    const ok = Array.isArray(json.classes) && json.classes.length === NUM_CLASSES && json.classes.every((c) => typeof c === 'string');
    if (!ok) problem('classes', `expected ${NUM_CLASSES} class names (${CLASSES.join(', ')})`);
  }
  const unmapped = json.unmappedLabels ?? 'error';
  if (unmapped !== 'error' && unmapped !== 'background') problem('unmappedLabels', "expected 'error' or 'background'");

  const pairs: [number, number][] = [];
  if (!isObject(json.labelMap)) {
    problem('labelMap', 'missing: an object from source label id to class id, e.g. {"1": 1, "6": 4}');
  } else {
    for (const [k, v] of Object.entries(json.labelMap)) {
      const src = Number(k);
      if (!/^\d+$/.test(k)) problem(`labelMap["${k}"]`, 'source ids must be non-negative integers');
      else if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= NUM_CLASSES)
        problem(`labelMap["${k}"]`, `class id ${JSON.stringify(v)} is not an integer in 0..${NUM_CLASSES - 1}`);
      else pairs.push([src, v as number]);
    }
  }

  const volumes: VolumeEntry[] = [];
  const slices: SliceEntry[] = [];
  const readEntries = <T extends VolumeEntry | SliceEntry>(key: 'volumes' | 'slices', out: T[], extraKey: 'phase' | 'level'): void => {
    const list = json[key];
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      problem(key, 'expected a list');
      return;
    }
    list.forEach((e, i) => {
      const at = `${key}[${i}]`;
      if (!isObject(e)) {
        problem(at, 'expected an object with image, label, subject');
        return;
      }
      let ok = true;
      for (const f of ['image', 'subject'] as const) {
        if (typeof e[f] !== 'string' || (e[f] as string).length === 0) {
          problem(`${at}.${f}`, 'missing or not a non-empty string');
          ok = false;
        }
      }
      if (e.label !== undefined && (typeof e.label !== 'string' || e.label.length === 0)) {
        problem(`${at}.label`, 'not a non-empty string');
        ok = false;
      }
      if (e[extraKey] !== undefined && typeof e[extraKey] !== 'string') {
        problem(`${at}.${extraKey}`, 'not a string');
        ok = false;
      }
      for (const k of Object.keys(e)) {
        if (!['image', 'label', 'subject', extraKey].includes(k) && !k.startsWith('x-')) problem(`${at}.${k}`, 'unknown key');
      }
      if (!ok) return;
      const entry = { ...e, image: path.resolve(root, e.image as string) } as unknown as T;
      if (typeof e.label === 'string') entry.label = path.resolve(root, e.label);
      out.push(entry);
    });
  };
  readEntries('volumes', volumes, 'phase');
  readEntries('slices', slices, 'level');
  if (
    (json.volumes === undefined || (Array.isArray(json.volumes) && json.volumes.length === 0)) &&
    (json.slices === undefined || (Array.isArray(json.slices) && json.slices.length === 0))
  ) {
    problem('volumes', 'the dataset lists no volumes and no slices');
  }
  // duplicates: a subject may have several volumes (phases), but not two of one phase;
  // it may have any number of single slices (splits and scores go by subject), each its own file
  const seenVol = new Map<string, number>();
  volumes.forEach((v, i) => {
    const key = `${v.subject}\u0000${v.phase ?? ''}`;
    const prev = seenVol.get(key);
    if (prev !== undefined)
      problem(`volumes[${i}].subject`, `duplicate subject '${v.subject}'${v.phase ? ` in phase '${v.phase}'` : ''} (also volumes[${prev}])`);
    else seenVol.set(key, i);
  });
  const seenPath = new Map<string, string>();
  const checkPath = (p: string, where: string): void => {
    const prev = seenPath.get(p);
    if (prev !== undefined) problem(where, `${path.relative(root, p)} is also used by ${prev}`);
    else seenPath.set(p, where);
  };
  volumes.forEach((v, i) => {
    checkPath(v.image, `volumes[${i}].image`);
    if (v.label) checkPath(v.label, `volumes[${i}].label`);
  });
  slices.forEach((s, i) => {
    checkPath(s.image, `slices[${i}].image`);
    if (s.label) checkPath(s.label, `slices[${i}].label`);
  });

  if (problems.length > 0) throw new DatasetError(file, problems);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!KNOWN_KEYS.has(k)) extra[k] = v;
  return {
    file,
    root,
    name: typeof json.name === 'string' ? json.name : path.basename(root),
    description: typeof json.description === 'string' ? json.description : '',
    labelMap: new LabelMapper(pairs, unmapped as UnmappedPolicy),
    volumes,
    slices,
    extra,
  };
}

export interface ValidateOptions {
  /** Every entry must have a label (default true). */
  requireLabels?: boolean;
  /** Read the label voxels and check them against the label map (default true). */
  checkLabelValues?: boolean;
  /** World-geometry tolerance between image and label affines, mm (default 1e-3 relative / 0.01 mm). */
  tolerance?: number;
  /** Files read at once (default 4). */
  concurrency?: number;
}

export interface ValidationReport {
  problems: DatasetProblem[];
  /** Per entry: shape [X, Y, Z] and spacing in RAS order, and class voxel counts when read. */
  volumes: { subject: string; shape: number[]; spacing: number[]; counts?: number[] }[];
  slices: { subject: string; shape: number[]; spacing: number[]; counts?: number[] }[];
}

/** Checks every file of a dataset; returns all problems (an empty list when it is usable). */
export async function validateDataset(dataset: Dataset, options: ValidateOptions = {}): Promise<ValidationReport> {
  const requireLabels = options.requireLabels ?? true;
  const checkValues = options.checkLabelValues ?? true;
  const tol = options.tolerance ?? 1e-2;
  const problems: DatasetProblem[] = [];
  const report: ValidationReport = { problems, volumes: [], slices: [] };

  type Job = { kind: 'volumes' | 'slices'; index: number; entry: VolumeEntry | SliceEntry };
  const jobs: Job[] = [
    ...dataset.volumes.map((entry, index) => ({ kind: 'volumes' as const, index, entry })),
    ...dataset.slices.map((entry, index) => ({ kind: 'slices' as const, index, entry })),
  ];
  const results = new Array<ValidationReport['volumes'][number] | null>(jobs.length).fill(null);

  const checkOne = async (job: Job, slot: number): Promise<void> => {
    const { kind, index, entry } = job;
    const at = `${kind}[${index}]`;
    const rel = (p: string): string => path.relative(dataset.root, p);
    let image: nifti.NiftiImage | null = null;
    if (!existsSync(entry.image)) {
      problems.push({ file: entry.image, where: `${at}.image`, message: `missing file ${rel(entry.image)}` });
    } else {
      try {
        image = await readImage(entry.image, { headerOnly: true, orientation: 'native' }); // NIfTI or DICOM
      } catch (e) {
        problems.push({ file: entry.image, where: `${at}.image`, message: problemText(e) });
      }
    }
    if (image && kind === 'slices') {
      const plane = nonAxialSliceProblem(image.shape, image.affine);
      if (plane) problems.push({ file: entry.image, where: `${at}.image`, message: plane });
      else if (!image.shape.includes(1))
        problems.push({
          file: entry.image,
          where: `${at}.image`,
          message: `a slice must be a 2D NIfTI or a one-slice 3D NIfTI (or one DICOM file), but its shape is [${image.shape.join(', ')}]`,
        });
    }
    let label: nifti.NiftiImage | null = null;
    if (!entry.label) {
      if (requireLabels) problems.push({ file: entry.image, where: `${at}.label`, message: 'no label file given' });
    } else if (!existsSync(entry.label)) {
      problems.push({ file: entry.label, where: `${at}.label`, message: `missing file ${rel(entry.label)}` });
    } else {
      try {
        label = await nifti.read(entry.label, { orientation: 'native', headerOnly: !checkValues });
      } catch (e) {
        problems.push({ file: entry.label, where: `${at}.label`, message: problemText(e) });
      }
    }
    let counts: number[] | undefined;
    if (image && label) {
      if (image.shape.some((v, i) => v !== label!.shape[i])) {
        problems.push({
          file: entry.label!,
          where: `${at}.label`,
          message: `shape [${label.shape.join(', ')}] differs from the image's [${image.shape.join(', ')}] (${rel(entry.image)})`,
        });
      } else if (!affinesClose(image.affine, label.affine, tol)) {
        problems.push({
          file: entry.label!,
          where: `${at}.label`,
          message: `geometry differs from the image's (${rel(entry.image)}): label ${orientationOf(label.affine)} origin [${fmt(label.affine.map((r) => r[3]).slice(0, 3))}] spacing [${fmt(label.spacing)}], image ${orientationOf(image.affine)} origin [${fmt(image.affine.map((r) => r[3]).slice(0, 3))}] spacing [${fmt(image.spacing)}]`,
        });
      }
      if (checkValues) {
        const nonInteger = firstNonInteger(label.data);
        if (nonInteger !== null) {
          problems.push({ file: entry.label!, where: `${at}.label`, message: `label values must be integers; found ${nonInteger}` });
        } else {
          const { labels, unknown } = dataset.labelMap.apply(label.data);
          if (unknown.size > 0) {
            const list = [...unknown].sort((a, b) => a[0] - b[0]).map(([v, c]) => `${v} (${c} voxels)`);
            problems.push({
              file: entry.label!,
              where: `${at}.label`,
              message: `label values outside the label map: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''}`,
            });
          }
          counts = new Array<number>(NUM_CLASSES).fill(0);
          for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
        }
      }
    }
    if (image) {
      let ras: nifti.NiftiImage | null = null;
      try {
        ras = nifti.reorient(image, 'RAS');
      } catch (e) {
        // one file's bad geometry is one problem, never the end of the whole validation
        problems.push({ file: entry.image, where: `${at}.image`, message: `its geometry cannot be read: ${problemText(e)}` });
      }
      if (ras) results[slot] = { subject: entry.subject, shape: [...ras.shape], spacing: ras.spacing.map((v) => round(v, 4)), counts };
    }
  };

  const limit = Math.max(1, options.concurrency ?? 4);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const slot = next++;
        await checkOne(jobs[slot], slot);
      }
    }),
  );
  jobs.forEach((job, slot) => {
    const r = results[slot];
    if (r) report[job.kind].push(r);
  });
  // stable order: by entry
  const order = (p: DatasetProblem): number => {
    const m = /^(volumes|slices)\[(\d+)\]/.exec(p.where ?? '');
    return m ? (m[1] === 'volumes' ? 0 : 1e9) + Number(m[2]) : -1;
  };
  problems.sort((a, b) => order(a) - order(b));
  return report;
}

/** validateDataset, throwing a DatasetError with every problem when there is any. */
export async function assertValidDataset(dataset: Dataset, options: ValidateOptions = {}): Promise<ValidationReport> {
  const report = await validateDataset(dataset, options);
  if (report.problems.length > 0) throw new DatasetError(dataset.file, report.problems);
  return report;
}

function problemText(e: unknown): string {
  if (e instanceof NiftiError || e instanceof DicomError) return e.message.slice(e.file.length + 2);
  return e instanceof Error ? e.message : String(e);
}

function firstNonInteger(data: ArrayLike<number>): number | null {
  if (
    data instanceof Uint8Array ||
    data instanceof Int8Array ||
    data instanceof Int16Array ||
    data instanceof Uint16Array ||
    data instanceof Int32Array ||
    data instanceof Uint32Array
  )
    return null;
  for (let i = 0; i < data.length; i++) if (!Number.isInteger(data[i])) return data[i];
  return null;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmt(values: readonly number[]): string {
  return values.map((v) => round(v, 2)).join(', ');
}

/** All subject ids of a dataset: of volumes, of slices, or both (sorted, unique). */
export function subjectsOf(dataset: Dataset, which: 'volumes' | 'slices' | 'all' = 'all'): string[] {
  const set = new Set<string>();
  if (which !== 'slices') for (const v of dataset.volumes) set.add(v.subject);
  if (which !== 'volumes') for (const s of dataset.slices) set.add(s.subject);
  return [...set].sort();
}
