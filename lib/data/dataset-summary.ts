// What `validate` prints besides the problems: per kind (volumes, slices) and split, the
// subjects, shape and spacing ranges, and in how many entries each class occurs.
import type { Dataset, ValidationReport } from './dataset.js';
import { CLASSES, NUM_CLASSES } from './labels.js';

export interface GroupSummary {
  name: string;
  entries: number;
  subjects: number;
  /** Min and max per RAS axis. */
  shape: [number[], number[]] | null;
  spacing: [number[], number[]] | null;
  /** Entries holding each class id (null when labels were not read). */
  classEntries: number[] | null;
}

type Row = ValidationReport['volumes'][number];

export function summarise(name: string, rows: readonly Row[]): GroupSummary {
  const range = (pick: (r: Row) => number[]): [number[], number[]] | null =>
    rows.length === 0
      ? null
      : [[0, 1, 2].map((i) => Math.min(...rows.map((r) => pick(r)[i]!))), [0, 1, 2].map((i) => Math.max(...rows.map((r) => pick(r)[i]!)))];
  const counted = rows.filter((r) => r.counts);
  return {
    name,
    entries: rows.length,
    subjects: new Set(rows.map((r) => r.subject)).size,
    shape: range((r) => r.shape),
    spacing: range((r) => r.spacing),
    classEntries: counted.length ? Array.from({ length: NUM_CLASSES }, (_, k) => counted.filter((r) => (r.counts![k] ?? 0) > 0).length) : null,
  };
}

/** Rows of the report whose subject is in `subjects`. */
export function rowsOf(rows: readonly Row[], subjects: Iterable<string>): Row[] {
  const set = new Set(subjects);
  return rows.filter((r) => set.has(r.subject));
}

export function formatSummary(g: GroupSummary): string {
  const r = (v: number[]) => v.map((x) => +x.toFixed(3)).join(' x ');
  const span = (p: [number[], number[]] | null) => (!p ? '-' : r(p[0]) === r(p[1]) ? r(p[0]) : `${r(p[0])} .. ${r(p[1])}`);
  const lines = [`${g.name}: ${g.entries} entr${g.entries === 1 ? 'y' : 'ies'}, ${g.subjects} subject${g.subjects === 1 ? '' : 's'}`];
  if (g.entries) lines.push(`  shape [x, y, z]: ${span(g.shape)}`, `  spacing mm: ${span(g.spacing)}`);
  if (g.classEntries) {
    const missing = g.classEntries.flatMap((n, k) => (k > 0 && n === 0 ? [CLASSES[k]] : []));
    lines.push(
      `  classes (entries holding each): ${g.classEntries
        .slice(1)
        .map((n, k) => `${CLASSES[k + 1]} ${n}`)
        .join(', ')}${missing.length ? `  -- never: ${missing.join(', ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

export type { Dataset };
