// Warnings about what the teacher will learn from, before it trains: a class that none of its
// training volumes hold (it can never predict it, silently), and a split left with a single
// volume subject (the best checkpoint picked on one case, or trained on one).
import type { Dataset, ValidationReport } from '../data/dataset.js';
import { CLASSES, NUM_CLASSES } from '../data/labels.js';
import type { PipelineConfig } from './config.js';
import { volumeSplit } from './context.js';

export function teacherDataWarnings(config: PipelineConfig, dataset: Dataset, report: ValidationReport, phases = config.teacher.phases): string[] {
  let split: { train: string[]; val: string[] };
  try {
    split = volumeSplit(config, dataset, phases);
  } catch {
    return []; // no labelled volumes: train-teacher says so itself
  }
  const warnings: string[] = [];
  // the report lists the volumes in the dataset's order when every file was read
  const rows = report.volumes.length === dataset.volumes.length ? report.volumes : [];
  const train = new Set(split.train);
  const seen = new Array<boolean>(NUM_CLASSES).fill(false);
  let counted = 0;
  rows.forEach((r, i) => {
    const v = dataset.volumes[i]!;
    if (!train.has(v.subject) || !v.label || !r.counts) return;
    if (phases?.length && !(v.phase !== undefined && phases.includes(v.phase))) return;
    counted++;
    r.counts.forEach((n, k) => (seen[k] ||= n > 0));
  });
  const never = seen.flatMap((s, k) => (k > 0 && !s ? [k] : []));
  if (counted > 0 && never.length) {
    warnings.push(
      `warning: the teacher's ${split.train.length} training volume subject${split.train.length === 1 ? '' : 's'} (${split.train.join(', ')}) never show ${never.map((k) => `${CLASSES[k]} (${k})`).join(', ')}: ` +
        `it cannot learn ${never.length === 1 ? 'that class' : 'those classes'}${split.val.length ? `; the held-out ${split.val.join(', ')} ${split.val.length === 1 ? 'is' : 'are'} used for validation only (teacher.valFraction ${config.teacher.valFraction}; 0 trains on all)` : ''}`,
    );
  }
  if (split.val.length === 1) warnings.push(`warning: teacher.valFraction ${config.teacher.valFraction} leaves one volume subject (${split.val[0]}) to pick the best teacher checkpoint on`);
  if (split.train.length === 1) warnings.push(`warning: the teacher trains on one volume subject (${split.train[0]})`);
  return warnings;
}
