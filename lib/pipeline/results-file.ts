// The evaluate stage's results.json: per-subject Dice of each model variant (and seed), the
// paired comparisons of the arms (mean difference, bootstrap CI, Wilcoxon p, Holm p) and the
// models that were scored (the report re-runs them for overlays). Also the CSV views of the
// same numbers.
import type { SliceInput } from '../data/transforms.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BASELINE, CONTROL_VARIANT, compareArms, type Comparison } from '../eval/comparisons.js';
import { summarizeResult, validateResult, type EvaluationResult } from '../eval/results.js';
import { csv } from '../util/csv.js';
import { ConfigError } from './config-schema.js';

export const EVALUATION_FORMAT = 'slice-distill-evaluation/2';
/** The first format: comparisons nested per model and variant against 'none' only (read, recomputed). */
const EVALUATION_FORMAT_1 = 'slice-distill-evaluation/1';
export const RESULTS_FILE = 'results.json';
export const COMPARISONS_FILE = 'comparisons.csv';
export { BASELINE, CONTROL_VARIANT, type Comparison } from '../eval/comparisons.js';

/** One checkpoint to score and how the table names it. */
export interface ModelToEvaluate {
  /** Student display name, e.g. 'DeepLabv3'. */
  model: string;
  /** 'none' for no distillation, 'continued' for the control, else the teacher's name. */
  variant: string;
  checkpoint: string;
  trainingSubjects?: number;
  /** The training seed, where the experiment repeats the arms over several seeds. */
  seed?: number;
}

export interface EvaluationFile {
  format: typeof EVALUATION_FORMAT;
  dataset: string;
  /** Which split was scored, and its subjects. */
  split: 'test' | 'val';
  subjects: string[];
  /** The models' input size (slices resampled to size x size, predictions back to native). */
  size: number;
  /** How slices were fed to the models (size, HU window, field of view); absent in files of earlier versions. */
  input?: SliceInput;
  organs: string[];
  models: ModelToEvaluate[];
  results: EvaluationResult[];
  /** Flat rows: per comparison, seed and organ (see compareArms). */
  comparisons: Comparison[];
}

/**
 * Each arm against its references, of the same model, training-set size and seed: distilled vs
 * control and vs pretrained, control vs pretrained. `seed` is the run's seed: it names the
 * results without one and seeds the bootstrap.
 */
export function compareVariants(results: readonly EvaluationResult[], seed = 0): Comparison[] {
  return compareArms(results, { baseline: BASELINE, control: CONTROL_VARIANT, seed });
}

/** dice.csv: one row per model, variant, seed and subject, a column per organ and the subject's mean. */
export function diceCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'seed', 'subject', ...(results[0]?.organs ?? []), 'mean']];
  for (const r of results) {
    const s = summarizeResult(r);
    r.perSubject.forEach((p, i) => rows.push([r.model, r.variant, r.trainingSubjects, r.seed, p.subject, ...p.dice, s.perSubject[i]!.mean]));
  }
  return csv(rows);
}

/** summary.csv: per model, variant and seed, the mean Dice per organ, the overall mean and its spread. */
export function summaryCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [
    ['model', 'variant', 'training_subjects', 'seed', 'subjects', ...(results[0]?.organs ?? []), 'mean', 'mean_std', 'mean_of_organs'],
  ];
  for (const r of results) {
    const s = summarizeResult(r);
    rows.push([r.model, r.variant, r.trainingSubjects, r.seed, r.perSubject.length, ...s.perOrgan, s.overall, s.overallStd, s.meanOfOrgans]);
  }
  return csv(rows);
}

/** comparisons.csv: the comparison rows of results.json, one per comparison, seed and organ. */
export function comparisonsCsv(comparisons: readonly Comparison[]): string {
  const rows: unknown[][] = [
    ['model', 'variant', 'baseline', 'training_subjects', 'seed', 'organ', 'n', 'mean_diff', 'ci95_lo', 'ci95_hi', 'statistic', 'p', 'p_holm', 'method'],
  ];
  for (const c of comparisons) {
    rows.push([
      c.model,
      c.variant,
      c.baseline,
      c.trainingSubjects,
      c.seed,
      c.organ,
      c.n,
      c.meanDiff,
      c.ci95?.[0],
      c.ci95?.[1],
      c.statistic,
      c.p,
      c.pHolm,
      c.method,
    ]);
  }
  return csv(rows);
}

/** Reads and checks a results.json written by evaluate; a ConfigError names what is wrong. */
export function readEvaluation(file: string, what = 'evaluation'): EvaluationFile {
  if (!existsSync(file)) throw new ConfigError([`${file}: no such file (run 'slice-distill evaluate' first)`], what);
  let json: EvaluationFile;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as EvaluationFile;
  } catch (e) {
    throw new ConfigError([`${file}: not JSON (${(e as Error).message})`], what);
  }
  const format = (json as { format?: string } | null)?.format;
  if ((format !== EVALUATION_FORMAT && format !== EVALUATION_FORMAT_1) || !Array.isArray(json.results) || !Array.isArray(json.models)) {
    throw new ConfigError([`${file}: not a results.json of 'slice-distill evaluate' (format ${EVALUATION_FORMAT})`], what);
  }
  try {
    json.results.forEach(validateResult);
  } catch (e) {
    throw new ConfigError([`${file}: ${(e as Error).message}`], what);
  }
  // a first-format file has nested tests against 'none' only: the rows are made again
  if (format === EVALUATION_FORMAT_1) json = { ...json, format: EVALUATION_FORMAT, comparisons: compareVariants(json.results) };
  // checkpoints and the dataset may be given relative to the file
  const dir = path.dirname(path.resolve(file));
  json.models = json.models.map((m) => ({ ...m, checkpoint: path.resolve(dir, m.checkpoint) }));
  json.dataset = path.resolve(dir, json.dataset);
  return json;
}
