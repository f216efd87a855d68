// What a folder of DICOM files means as inputs: each single-file series is a single slice of
// its own (PACS exports of one slice per patient), and a folder holding one multi-file series
// is that series. A folder mixing multi-file series is ambiguous and refused.
import dicomParser from 'dicom-parser';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dicomFilesIn } from './dicom.js';
import { DicomError } from './errors.js';

function seriesUid(file: string): string {
  try {
    const ds = dicomParser.parseDicom(readFileSync(file), { untilTag: 'x7fe00010' });
    return (ds.string('x0020000e') ?? '').trim();
  } catch {
    return `unparsed:${file}`; // its own input: the reader then reports why it cannot be read
  }
}

/** The inputs a folder's DICOM files form: files (single slices) and / or the folder itself (a series). */
export function dicomInputsIn(dir: string): string[] {
  const files = dicomFilesIn(dir);
  const bySeries = new Map<string, string[]>();
  for (const f of files) {
    const uid = seriesUid(f);
    bySeries.set(uid, [...(bySeries.get(uid) ?? []), f]);
  }
  const multi = [...bySeries.values()].filter((g) => g.length > 1);
  if (multi.length === 0) return files;
  if (bySeries.size === 1) return [dir];
  throw new DicomError(
    `${bySeries.size} series in one folder, ${multi.length} of them with several files; put each series in its own folder (e.g. ${path.basename(multi[0]![0]!)})`,
    dir,
  );
}
