// One arm (model, variant, training-set size) summarised over its seeds: the mean across seeds
// of each seed's per-organ means and overall mean, and their sample sd across seeds (the
// spread a reader needs to judge a difference between arms trained once per seed).
import { summarizeResult, type EvaluationResult } from './results.js';

export interface ArmSummary {
  model: string;
  variant: string;
  trainingSubjects?: number;
  /** The seeds summarised (results without a seed count once, as undefined). */
  seeds: (number | undefined)[];
  /** Subjects scored (the most over the seeds). */
  subjects: number;
  /** Mean over seeds of the per-organ mean Dice (over the seeds with a value). */
  perOrgan: (number | null)[];
  /** Sample sd over seeds; null with one seed (or fewer than two values). */
  perOrganSd: (number | null)[];
  /** Mean over seeds of the mean over subjects of each subject's mean over its organs. */
  average: number | null;
  averageSd: number | null;
}

function meanSd(values: (number | null)[]): [number | null, number | null] {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return [null, null];
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return [m, null];
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1))];
}

/** The results of one arm (its seeds) as one summary. */
export function summarizeArm(results: readonly EvaluationResult[]): ArmSummary {
  const first = results[0];
  if (!first) throw new RangeError('results: no seed of the arm to summarise');
  const s = results.map(summarizeResult);
  const organs = first.organs.map((_, k) => meanSd(s.map((x) => x.perOrgan[k] ?? null)));
  const [average, averageSd] = meanSd(s.map((x) => x.overall));
  const out: ArmSummary = {
    model: first.model,
    variant: first.variant,
    seeds: results.map((r) => r.seed),
    subjects: Math.max(...results.map((r) => r.perSubject.length)),
    perOrgan: organs.map((o) => o[0]),
    perOrganSd: organs.map((o) => o[1]),
    average,
    averageSd,
  };
  if (first.trainingSubjects !== undefined) out.trainingSubjects = first.trainingSubjects;
  return out;
}

/** Results grouped by (model, variant, trainingSubjects), in order of first appearance. */
export function groupArms(results: readonly EvaluationResult[]): EvaluationResult[][] {
  const groups = new Map<string, EvaluationResult[]>();
  for (const r of results) {
    const key = JSON.stringify([r.model, r.variant, r.trainingSubjects ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

/** One summary per arm. */
export function summarizeArms(results: readonly EvaluationResult[]): ArmSummary[] {
  return groupArms(results).map(summarizeArm);
}
