// nnU-Net raw datasets (Dataset###_Name/): imagesTr/CASE_0000.nii.gz with labelsTr/CASE.nii.gz
// and nnU-Net's own dataset.json, whose "labels" give the ids by structure name (v2:
// {"spleen": 1}, v1: {"1": "spleen"}). Our labelMap is built from those names; structures
// that are none of the seven classes become background. Files are referenced, not copied.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { classOfName } from '../labels.js';
import { isSingleSlice } from './entry-kind.js';
import { ImportError } from './errors.js';
import type { ImportedEntries } from './write-dataset.js';

interface NnunetJson {
  name?: string;
  labels?: Record<string, unknown>;
  channel_names?: Record<string, string>;
  modality?: Record<string, string>;
  file_ending?: string;
}

/** Source id -> class id from nnU-Net's labels, and the names that map to no class. */
export function labelMapFromNames(labels: Record<string, unknown>, file: string): { labelMap: Record<string, number>; ignored: string[] } {
  const labelMap: Record<string, number> = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    // v2: name -> id (or a list of ids for regions); v1: "id" -> name
    const [name, id] = /^\d+$/.test(k) && typeof v === 'string' ? [v, Number(k)] : [k, v];
    if (Array.isArray(id)) throw new ImportError(`label '${name}' is a region (a list of ids); import datasets with plain labels`, file);
    if (!Number.isInteger(id)) throw new ImportError(`label '${name}': expected an integer id, got ${JSON.stringify(id)}`, file);
    const cls = classOfName(String(name));
    if (cls === null) ignored.push(String(name));
    else if (cls > 0 || id !== 0) labelMap[String(id)] = cls;
  }
  const found = new Set(Object.values(labelMap));
  if (![1, 2, 3, 4, 5, 6].some((c) => found.has(c)))
    throw new ImportError(
      `no label names one of the seven classes (spleen, kidney_right, kidney_left, liver, stomach, aorta); names: ${Object.keys(labels).join(', ')}`,
      file,
    );
  return { labelMap, ignored };
}

export async function importNnunet(dir: string): Promise<ImportedEntries & { ignored: string[] }> {
  const jsonFile = path.join(dir, 'dataset.json');
  if (!existsSync(jsonFile))
    throw new ImportError('no dataset.json: not an nnU-Net raw dataset folder (Dataset###_Name with imagesTr, labelsTr, dataset.json)', dir);
  let json: NnunetJson;
  try {
    json = JSON.parse(await readFile(jsonFile, 'utf8')) as NnunetJson;
  } catch (e) {
    throw new ImportError(`not valid JSON: ${(e as Error).message}`, jsonFile);
  }
  if (!json.labels || typeof json.labels !== 'object') throw new ImportError('no "labels" object: not an nnU-Net dataset.json', jsonFile);
  const channels = json.channel_names ?? json.modality ?? {};
  if (Object.keys(channels).length > 1)
    throw new ImportError(
      `${Object.keys(channels).length} input channels (${Object.values(channels).join(', ')}); only single-channel CT is supported`,
      jsonFile,
    );
  const ending = json.file_ending ?? '.nii.gz';
  if (!/^\.nii(\.gz)?$/.test(ending)) throw new ImportError(`file_ending '${ending}': only NIfTI (.nii, .nii.gz) is supported`, jsonFile);
  const { labelMap, ignored } = labelMapFromNames(json.labels, jsonFile);
  const imagesDir = path.join(dir, 'imagesTr');
  const labelsDir = path.join(dir, 'labelsTr');
  if (!existsSync(imagesDir)) throw new ImportError('no imagesTr folder', dir);
  const volumes: ImportedEntries['volumes'] = [];
  const slices: ImportedEntries['slices'] = [];
  const suffix = `_0000${ending}`;
  for (const f of readdirSync(imagesDir)
    .filter((n) => n.endsWith(suffix))
    .sort()) {
    const caseId = f.slice(0, -suffix.length);
    const image = path.join(imagesDir, f);
    const label = path.join(labelsDir, caseId + ending);
    const entry = { image, subject: caseId, ...(existsSync(label) ? { label } : {}) };
    if (!entry.label) throw new ImportError(`no label ${path.relative(dir, label)} for ${f}`, image);
    if (await isSingleSlice(image)) slices.push(entry);
    else volumes.push(entry);
  }
  if (volumes.length + slices.length === 0) throw new ImportError(`no images named CASE${suffix} in imagesTr`, imagesDir);
  return {
    name: json.name ?? path.basename(dir),
    description: `Imported from the nnU-Net raw dataset ${path.basename(dir)}`,
    labelMap,
    unmappedLabels: 'background',
    volumes,
    slices,
    source: { format: 'nnunet', dir, labels: json.labels },
    ignored,
  };
}
