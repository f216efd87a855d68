// Warnings about what the teacher and the students will learn from, before they train: a class
// that none of the training data holds (it can never be predicted, silently), and splits left
// with a single subject (the best checkpoint picked on one case, or trained on one) or too few
// to test on.
import type { Dataset, ValidationReport } from '../data/dataset.js';
import { CLASSES, NUM_CLASSES } from '../data/labels.js';
import type { SliceSplitConfig, VolumeSplitConfig } from './config.js';
import { sliceSplit, volumeSplit } from './context.js';

/**
 * The classes (background aside) that none of the chosen entries holds, from the validation
 * report's voxel counts (rows in the dataset's order, or none when some file was unread);
 * `counted` 0 means nothing could be judged.
 */
function classesNeverSeen<E>(rows: ValidationReport['volumes'], entries: readonly E[], chosen: (entry: E) => boolean): { counted: number; never: number[] } {
  const seen = new Array<boolean>(NUM_CLASSES).fill(false);
  let counted = 0;
  if (rows.length === entries.length) {
    rows.forEach((r, i) => {
      if (!r.counts || !chosen(entries[i]!)) return;
      counted++;
      r.counts.forEach((n, k) => (seen[k] ||= n > 0));
    });
  }
  return { counted, never: seen.flatMap((s, k) => (k > 0 && !s ? [k] : [])) };
}

export function teacherDataWarnings(config: VolumeSplitConfig, dataset: Dataset, report: ValidationReport, phases = config.teacher.phases): string[] {
  let split: { train: string[]; val: string[] };
  try {
    split = volumeSplit(config, dataset, phases);
  } catch {
    return []; // no labelled volumes: train-teacher says so itself
  }
  const warnings: string[] = [];
  const train = new Set(split.train);
  const inPhase = (v: Dataset['volumes'][number]) => !phases?.length || (v.phase !== undefined && phases.includes(v.phase));
  const { counted, never } = classesNeverSeen(report.volumes, dataset.volumes, (v) => train.has(v.subject) && Boolean(v.label) && inPhase(v));
  if (counted > 0 && never.length) {
    warnings.push(
      `warning: the teacher's ${split.train.length} training volume subject${split.train.length === 1 ? '' : 's'} (${split.train.join(', ')}) never show ${never.map((k) => `${CLASSES[k]} (${k})`).join(', ')}: ` +
        `it cannot learn ${never.length === 1 ? 'that class' : 'those classes'}${split.val.length ? `; the held-out ${split.val.join(', ')} ${split.val.length === 1 ? 'is' : 'are'} used for validation only (teacher.valFraction ${config.teacher.valFraction}; 0 trains on all)` : ''}`,
    );
  }
  if (split.val.length === 1)
    warnings.push(
      `warning: teacher.valFraction ${config.teacher.valFraction} leaves one volume subject (${split.val[0]}) to pick the best teacher checkpoint on`,
    );
  if (split.train.length === 1) warnings.push(`warning: the teacher trains on one volume subject (${split.train[0]})`);
  return warnings;
}

/**
 * The students' side, before pretrain: a class the training slices never show, a validation
 * split of one subject (the best checkpoint picked on one case) or none (the last epoch is
 * kept), and a test split too small for a confidence interval or a paired test.
 */
export function studentDataWarnings(config: SliceSplitConfig, dataset: Dataset, report: ValidationReport, trainSubjects = config.trainSubjects): string[] {
  let split: { used: string[]; val: string[]; test: string[] };
  try {
    split = sliceSplit(config, dataset, trainSubjects);
  } catch {
    return []; // the stage says what is wrong itself
  }
  const warnings: string[] = [];
  const used = new Set(split.used);
  const { counted, never } = classesNeverSeen(report.slices, dataset.slices, (s) => used.has(s.subject) && Boolean(s.label));
  if (counted > 0 && never.length)
    warnings.push(
      `warning: the students' ${split.used.length} training subjects never show ${never.map((k) => `${CLASSES[k]} (${k})`).join(', ')}: they cannot learn ${never.length === 1 ? 'it' : 'them'}`,
    );
  if (split.val.length === 0)
    warnings.push(`warning: split ${JSON.stringify(config.split)} leaves no validation subject: the students keep their last epoch, not their best`);
  else if (split.val.length === 1)
    warnings.push(`warning: split ${JSON.stringify(config.split)} leaves one validation subject (${split.val[0]}) to pick the students' best checkpoints on`);
  if (split.test.length < 2)
    warnings.push(
      `warning: split ${JSON.stringify(config.split)} leaves ${split.test.length} test subject${split.test.length === 1 ? '' : 's'}: no confidence interval or paired test can be computed`,
    );
  return warnings;
}
