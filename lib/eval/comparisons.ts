// The paired comparisons of an experiment's arms, as flat rows a reviewer can read: every
// distilled arm against the epoch-matched control (primary) and against the pretrained
// student (secondary), and the control against the pretrained student; per organ and on the
// subjects' average, each with the mean difference, a paired bootstrap 95% CI, the two-sided
// Wilcoxon signed-rank p and its Holm adjustment over the 7 rows of its group.
import { groupArms } from './arm-summary.js';
import { bootstrapMeanDiffCi } from './bootstrap.js';
import { holm } from './holm.js';
import { pairedScores, type EvaluationResult } from './results.js';
import { wilcoxon } from './wilcoxon.js';

/** The variant name of a student trained without distillation (the pretrained student). */
export const BASELINE = 'none';
/** The variant name of the epoch-matched control: trained on with L_seg alone. */
export const CONTROL_VARIANT = 'continued';
/** The organ name of the rows on each subject's mean over its scored organs. */
export const AVERAGE = 'average';

export interface Comparison {
  model: string;
  /** The arm tested: a teacher's name or the control. */
  variant: string;
  /** What it is tested against: the control or the pretrained student. */
  baseline: string;
  trainingSubjects?: number;
  /** The training seed, or 'mean': on the scores averaged over the seeds per subject and organ. */
  seed: number | 'mean';
  /** An organ name or 'average'. */
  organ: string;
  /** Paired subjects (both arms have a score). */
  n: number;
  /** Mean over the pairs of variant minus baseline; null without pairs. */
  meanDiff: number | null;
  /** Percentile bootstrap CI of meanDiff, subjects resampled; null without pairs. */
  ci95: [number, number] | null;
  /** min(W+, W-); null without pairs. */
  statistic: number | null;
  /** Two-sided Wilcoxon signed-rank p; null where every difference is zero or there are no pairs. */
  p: number | null;
  /** p adjusted by Holm over the group's organs and average. */
  pHolm: number | null;
  method: 'exact' | 'approx' | null;
}

export interface CompareOptions {
  baseline?: string;
  control?: string;
  /** The seed of results without one (the run's seed), also seeding the bootstrap (default 0). */
  seed?: number;
  /** Bootstrap resamples (default 10000). */
  resamples?: number;
}

/** 0: distilled vs control (primary), 1: distilled vs pretrained, 2: control vs pretrained. */
export function comparisonRank(c: Pick<Comparison, 'variant' | 'baseline'>, control = CONTROL_VARIANT): number {
  return c.baseline === control ? 0 : c.variant === control ? 2 : 1;
}

const groupKey = (r: Pick<EvaluationResult, 'model' | 'trainingSubjects'>): string => JSON.stringify([r.model, r.trainingSubjects ?? null]);

/**
 * One result per (model, variant, trainingSubjects): per subject and organ the mean over the
 * seeds that have a value (null where none has); subjects in order of first appearance.
 * A result met once is returned as it is, without its seed.
 */
export function seedAverage(results: readonly EvaluationResult[]): EvaluationResult[] {
  return groupArms(results).map((rs) => {
    const { seed: _, ...first } = rs[0]!;
    if (rs.length === 1) return first;
    const sums = new Map<string, { sum: number[]; count: number[] }>();
    for (const r of rs) {
      for (const s of r.perSubject) {
        let acc = sums.get(s.subject);
        if (!acc) sums.set(s.subject, (acc = { sum: r.organs.map(() => 0), count: r.organs.map(() => 0) }));
        s.dice.forEach((v, k) => {
          if (v === null) return;
          acc!.sum[k]! += v;
          acc!.count[k]!++;
        });
      }
    }
    const perSubject = [...sums].map(([subject, a]) => ({ subject, dice: a.sum.map((v, k) => (a.count[k] ? v / a.count[k]! : null)) }));
    return { ...first, perSubject };
  });
}

function row(a: EvaluationResult, b: EvaluationResult, organ: number | undefined, seed: number | 'mean', options: CompareOptions): Comparison {
  const p = pairedScores(a, b, organ);
  const c: Comparison = {
    model: a.model,
    variant: a.variant,
    baseline: b.variant,
    seed,
    organ: organ === undefined ? AVERAGE : a.organs[organ]!,
    n: p.a.length,
    meanDiff: null,
    ci95: null,
    statistic: null,
    p: null,
    pHolm: null,
    method: null,
  };
  if (a.trainingSubjects !== undefined) c.trainingSubjects = a.trainingSubjects;
  if (c.n === 0) return c;
  c.meanDiff = p.a.reduce((s, v, i) => s + v - p.b[i]!, 0) / c.n;
  c.ci95 = bootstrapMeanDiffCi(p.a, p.b, { seed: options.seed ?? 0, resamples: options.resamples ?? 10000 });
  const w = wilcoxon(p.a, p.b);
  c.statistic = w.statistic;
  if (w.n > 0) {
    c.p = w.pValue;
    c.method = w.method;
  }
  return c;
}

/** The 7 rows of a against b (organs, then the average), Holm-adjusted together. */
function group(a: EvaluationResult, b: EvaluationResult, seed: number | 'mean', options: CompareOptions): Comparison[] {
  const rows = [...a.organs.map((_, k) => row(a, b, k, seed, options)), row(a, b, undefined, seed, options)];
  holm(rows.map((r) => r.p)).forEach((p, i) => (rows[i]!.pHolm = p));
  return rows;
}

/** The comparisons among results of one seed (all sharing `seed`). */
function compareSeed(results: readonly EvaluationResult[], seed: number | 'mean', options: CompareOptions): Comparison[] {
  const baseline = options.baseline ?? BASELINE;
  const control = options.control ?? CONTROL_VARIANT;
  const find = (r: EvaluationResult, variant: string) => results.find((x) => x.variant === variant && groupKey(x) === groupKey(r));
  return results.flatMap((r) => {
    if (r.variant === baseline) return [];
    const against = r.variant === control ? [baseline] : [control, baseline];
    return against.flatMap((v) => {
      const b = find(r, v);
      return b ? group(r, b, seed, options) : [];
    });
  });
}

/**
 * Every comparison of the arms, per seed (results without a seed count as options.seed) and,
 * with several seeds, on the seed-averaged scores (seed 'mean'). Rows are ordered primary
 * (distilled vs control) first, then distilled vs pretrained, then control vs pretrained.
 */
export function compareArms(results: readonly EvaluationResult[], options: CompareOptions = {}): Comparison[] {
  const seedOf = (r: EvaluationResult): number => r.seed ?? options.seed ?? 0;
  const seeds = [...new Set(results.map(seedOf))];
  const rows = seeds.flatMap((s) =>
    compareSeed(
      results.filter((r) => seedOf(r) === s),
      s,
      options,
    ),
  );
  if (seeds.length > 1) rows.push(...compareSeed(seedAverage(results), 'mean', options));
  const control = options.control ?? CONTROL_VARIANT;
  // a stable sort keeps seeds, models and organs in their order within a rank
  return rows
    .map((r, i) => ({ r, i, k: comparisonRank(r, control) }))
    .sort((x, y) => x.k - y.k || x.i - y.i)
    .map((x) => x.r);
}
