// Writing the dataset.json an importer produced: paths relative to it, the output folder
// created, and never over a dataset.json of another tool (nnU-Net's has the same name).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATASET_FILE, type DatasetJson, type SliceEntry, type VolumeEntry } from '../dataset.js';
import { ImportError } from './errors.js';

export interface ImportedEntries {
  name: string;
  description: string;
  labelMap: Record<string, number>;
  unmappedLabels: 'error' | 'background';
  volumes: VolumeEntry[];
  slices: SliceEntry[];
  /** Where it came from, kept as x-source. */
  source: Record<string, unknown>;
}

/** Writes OUT/dataset.json (absolute entry paths made relative to OUT); returns its path. */
export async function writeDatasetJson(out: string, d: ImportedEntries): Promise<string> {
  const file = path.join(out, DATASET_FILE);
  if (existsSync(file)) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (!text.includes('"x-imported-by": "slice-distill"'))
      throw new ImportError(`${file} exists and was not written by slice-distill import; choose another --out`, file);
  }
  await mkdir(out, { recursive: true });
  const rel = (p: string): string => path.relative(out, p).split(path.sep).join('/');
  const entry = <T extends VolumeEntry | SliceEntry>(e: T): T => ({ ...e, image: rel(e.image), ...(e.label ? { label: rel(e.label) } : {}) });
  const json: DatasetJson = {
    name: d.name,
    description: d.description,
    labelMap: d.labelMap,
    unmappedLabels: d.unmappedLabels,
    ...(d.volumes.length ? { volumes: d.volumes.map(entry) } : {}),
    ...(d.slices.length ? { slices: d.slices.map(entry) } : {}),
    'x-imported-by': 'slice-distill',
    'x-source': d.source,
  };
  await writeFile(file, JSON.stringify(json, null, 2) + '\n');
  return file;
}
