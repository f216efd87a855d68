// The evaluate stage's results.json: per-subject Dice of each model variant, the paired
// Wilcoxon tests of every distilled variant against its undistilled one, and the models that
// were scored (the report re-runs them for overlays). Also the CSV views of the same numbers.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pairedScores, summarizeResult, validateResult, type EvaluationResult } from '../eval/results.js';
import { wilcoxon } from '../eval/wilcoxon.js';
import { csv } from '../util/csv.js';
import { ConfigError } from './config-schema.js';

export const EVALUATION_FORMAT = 'slice-distill-evaluation/1';
export const RESULTS_FILE = 'results.json';
/** The variant name of a student trained without distillation. */
export const BASELINE = 'none';
/** The variant name of the epoch-matched control: trained on with L_seg alone (distill-continued). */
export const CONTROL_VARIANT = 'continued';

/** One checkpoint to score and how the table names it. */
export interface ModelToEvaluate {
  /** Student display name, e.g. 'DeepLabv3'. */
  model: string;
  /** 'none' for no distillation, else the teacher's name. */
  variant: string;
  checkpoint: string;
  trainingSubjects?: number;
}

/** A two-sided Wilcoxon signed-rank test of a variant against its baseline on paired subjects. */
export interface PairedTest {
  /** Subjects scored by both. */
  pairs: number;
  /** Non-zero differences (what the test ranks). */
  n: number;
  statistic: number;
  /** null when every difference is zero (nothing to test). */
  pValue: number | null;
  method: 'exact' | 'approx';
  wPlus: number;
  wMinus: number;
  /** Mean of variant minus baseline over the pairs. */
  meanDifference: number;
}

export interface Comparison {
  model: string;
  variant: string;
  baseline: string;
  trainingSubjects?: number;
  /** On each subject's mean Dice over its organs. */
  mean: PairedTest | null;
  /** Per organ, aligned with the evaluation's organs (null: no subject has the organ in both). */
  organs: (PairedTest | null)[];
}

export interface EvaluationFile {
  format: typeof EVALUATION_FORMAT;
  dataset: string;
  /** Which split was scored, and its subjects. */
  split: 'test' | 'val';
  subjects: string[];
  /** The models' input size (slices resampled to size x size, predictions back to native). */
  size: number;
  organs: string[];
  models: ModelToEvaluate[];
  results: EvaluationResult[];
  comparisons: Comparison[];
}

function pairedTest(a: EvaluationResult, b: EvaluationResult, organ?: number): PairedTest | null {
  const p = pairedScores(a, b, organ);
  if (p.subjects.length === 0) return null;
  const w = wilcoxon(p.a, p.b);
  const meanDifference = p.a.reduce((s, v, i) => s + v - p.b[i]!, 0) / p.a.length;
  return { pairs: p.subjects.length, n: w.n, statistic: w.statistic, pValue: Number.isFinite(w.pValue) ? w.pValue : null, method: w.method, wPlus: w.wPlus, wMinus: w.wMinus, meanDifference };
}

/** Each variant other than the baseline against the baseline of the same model and training-set size. */
export function compareVariants(results: readonly EvaluationResult[], baseline = BASELINE): Comparison[] {
  return results.flatMap((r): Comparison[] => {
    if (r.variant === baseline) return [];
    const base = results.find((b) => b.model === r.model && b.variant === baseline && b.trainingSubjects === r.trainingSubjects);
    if (!base) return [];
    const c: Comparison = { model: r.model, variant: r.variant, baseline, mean: pairedTest(r, base), organs: r.organs.map((_, k) => pairedTest(r, base, k)) };
    if (r.trainingSubjects !== undefined) c.trainingSubjects = r.trainingSubjects;
    return [c];
  });
}

/** dice.csv: one row per model, variant and subject, a column per organ and the subject's mean. */
export function diceCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'subject', ...(results[0]?.organs ?? []), 'mean']];
  for (const r of results) {
    const s = summarizeResult(r);
    r.perSubject.forEach((p, i) => rows.push([r.model, r.variant, r.trainingSubjects, p.subject, ...p.dice, s.perSubject[i]!.mean]));
  }
  return csv(rows);
}

/** summary.csv: per model and variant, the mean Dice per organ, the overall mean and its spread. */
export function summaryCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'subjects', ...(results[0]?.organs ?? []), 'mean', 'mean_std', 'mean_of_organs']];
  for (const r of results) {
    const s = summarizeResult(r);
    rows.push([r.model, r.variant, r.trainingSubjects, r.perSubject.length, ...s.perOrgan, s.overall, s.overallStd, s.meanOfOrgans]);
  }
  return csv(rows);
}

/** wilcoxon.csv: one row per comparison and score (the subject mean, then each organ). */
export function wilcoxonCsv(comparisons: readonly Comparison[], organs: readonly string[]): string {
  const rows: unknown[][] = [['model', 'variant', 'baseline', 'training_subjects', 'score', 'pairs', 'n', 'statistic', 'p_value', 'method', 'w_plus', 'w_minus', 'mean_difference']];
  for (const c of comparisons) {
    const scores: [string, PairedTest | null][] = [['mean', c.mean], ...organs.map((o, k): [string, PairedTest | null] => [o, c.organs[k] ?? null])];
    for (const [score, t] of scores) {
      rows.push([c.model, c.variant, c.baseline, c.trainingSubjects, score, t?.pairs, t?.n, t?.statistic, t?.pValue, t?.method, t?.wPlus, t?.wMinus, t?.meanDifference]);
    }
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
  if (json?.format !== EVALUATION_FORMAT || !Array.isArray(json.results) || !Array.isArray(json.models)) {
    throw new ConfigError([`${file}: not a results.json of 'slice-distill evaluate' (format ${EVALUATION_FORMAT})`], what);
  }
  try {
    json.results.forEach(validateResult);
  } catch (e) {
    throw new ConfigError([`${file}: ${(e as Error).message}`], what);
  }
  // checkpoints and the dataset may be given relative to the file
  const dir = path.dirname(path.resolve(file));
  json.models = json.models.map((m) => ({ ...m, checkpoint: path.resolve(dir, m.checkpoint) }));
  json.dataset = path.resolve(dir, json.dataset);
  return json;
}
