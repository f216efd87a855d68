// metrics.csv of the evaluate stage: every metric per model, variant, seed, subject and organ
// (Dice, IoU, HD95 in mm, normalised surface Dice), empty where a metric is undefined.
import type { EvaluationResult } from '../eval/results.js';
import { csv } from '../util/csv.js';

export function boundaryCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'seed', 'subject', 'organ', 'dice', 'iou', 'hd95_mm', 'nsd']];
  for (const r of results) {
    for (const s of r.perSubject)
      r.organs.forEach((o, k) => rows.push([r.model, r.variant, r.trainingSubjects, r.seed, s.subject, o, s.dice[k], s.iou?.[k], s.hd95?.[k], s.nsd?.[k]]));
  }
  return csv(rows);
}
