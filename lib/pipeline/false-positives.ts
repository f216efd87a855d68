// The evaluate stage's false-positive tables: false-positives.csv (one row per subject and
// organ with any) and the per-organ totals appended to summary.csv.
import { falsePositiveTotals } from '../eval/subject-scores.js';
import type { EvaluationResult } from '../eval/results.js';
import { csv } from '../util/csv.js';

/** false-positives.csv: model, variant, training_subjects, seed, subject, organ, slices, area_mm2 (only non-zero rows; seed keeps repeated arms apart). */
export function falsePositivesCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'seed', 'subject', 'organ', 'slices', 'area_mm2']];
  for (const r of results) {
    for (const s of r.perSubject) {
      s.falsePositives?.forEach((fp, k) => {
        if (fp.slices > 0) rows.push([r.model, r.variant, r.trainingSubjects, r.seed, s.subject, r.organs[k], fp.slices, fp.areaMm2]);
      });
    }
  }
  return csv(rows);
}

/** Columns fp_slices_<organ> and fp_area_mm2_<organ>: a header row, then one row per result. */
function totalColumns(results: readonly EvaluationResult[]): unknown[][] {
  const organs = results[0]?.organs ?? [];
  const header = [...organs.map((o) => `fp_slices_${o}`), ...organs.map((o) => `fp_area_mm2_${o}`)];
  return [
    header,
    ...results.map((r) => {
      const t = falsePositiveTotals(r.perSubject, organs.length);
      return [...t.map((x) => x.slices), ...t.map((x) => x.areaMm2)];
    }),
  ];
}

/**
 * summary.csv with the per-organ false-positive totals appended to each row. The summary's own
 * columns stay where they are (its rows: a header, then one per result); a summary of another
 * shape is returned unchanged rather than misaligned.
 */
export function withFalsePositiveTotals(summary: string, results: readonly EvaluationResult[]): string {
  const lines = summary.replace(/\n$/, '').split('\n');
  const extra = csv(totalColumns(results)).replace(/\n$/, '').split('\n');
  if (lines.length !== extra.length) return summary;
  return lines.map((line, i) => `${line},${extra[i]}`).join('\n') + '\n';
}
