// What predict writes beside the label files: the label descriptions for viewers (always) and,
// with --stats, the organ measurements of every slice as stats.csv and stats.json.
import path from 'node:path';
import { ITKSNAP_LABELS_FILE, SLICER_COLORS_FILE, itkSnapLabels, slicerColorTable } from '../data/label-descriptions.js';
import type { OrganSliceStats } from '../eval/organ-stats.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { csv } from '../util/csv.js';

export const STATS_CSV = 'stats.csv';
export const STATS_JSON = 'stats.json';
export const STATS_FORMAT = 'slice-distill-stats/1';

/** The stats of one input file. */
export interface FileStats {
  input: string;
  output: string;
  stats: OrganSliceStats[];
}

/** stats.csv: one row per input, slice and organ. */
export function statsCsv(files: readonly FileStats[]): string {
  const rows: unknown[][] = [['input', 'output', 'slice', 'z_mm', 'class_id', 'organ', 'pixels', 'area_mm2', 'mean_hu', 'sd_hu', 'median_hu', 'iqr_hu']];
  for (const f of files) {
    for (const s of f.stats)
      rows.push([
        path.basename(f.input),
        path.basename(f.output),
        s.slice,
        s.zMm,
        s.classId,
        s.organ,
        s.pixels,
        s.areaMm2,
        s.meanHu,
        s.sdHu,
        s.medianHu,
        s.iqrHu,
      ]);
  }
  return csv(rows);
}

/** Writes the label descriptions and, where given, the stats into `dir`; returns the files written. */
export async function writePredictionExtras(dir: string, stats: readonly FileStats[] | null): Promise<string[]> {
  const files: [string, string][] = [
    [ITKSNAP_LABELS_FILE, itkSnapLabels()],
    [SLICER_COLORS_FILE, slicerColorTable()],
  ];
  if (stats) {
    files.push([STATS_CSV, statsCsv(stats)]);
    const json = {
      format: STATS_FORMAT,
      units: {
        area: 'mm2',
        hu: 'Hounsfield units of the input (scl_slope / scl_inter applied)',
        z: 'world RAS+ mm of the slice centre',
        slice: 'index along the RAS z axis',
      },
      files: stats.map((f) => ({ input: f.input, output: f.output, stats: f.stats })),
    };
    files.push([STATS_JSON, JSON.stringify(json, null, 1) + '\n']);
  }
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(dir, name);
    await writeFileAtomic(file, text);
    written.push(file);
  }
  return written;
}
