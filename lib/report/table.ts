// The Table-1-style comparison: per student model, mean Dice per organ and on average for the
// undistilled model and each distilled variant (mean ± sd across seeds where an arm was
// trained with several), with Wilcoxon signed-rank p-values of each variant against the
// undistilled one on paired per-subject scores (one seed only; the evaluation's comparison
// rows carry the tests otherwise).

import { summarizeArm, summarizeArms } from '../eval/arm-summary.js';
import { seedAverage } from '../eval/comparisons.js';
import { compareResults, summarizeResult, validateResult, type EvaluationResult } from '../eval/results.js';
import type { WilcoxonOptions } from '../eval/wilcoxon.js';
import type { BoxPlotData, LineChartData } from './charts.js';

export interface TableOptions {
  /** The variant name of the undistilled model (default 'none'). */
  baseline?: string;
  /** Column-group order (default: baseline first, then the order of first appearance). */
  variants?: string[];
  /** Row order (default: order of first appearance). */
  models?: string[];
  /** Options of the Wilcoxon tests (default: two-sided, 'wilcox' zeros, auto method, no continuity correction). */
  test?: WilcoxonOptions;
  /** Test each variant against the baseline in the table (default true; false where the comparison rows are shown instead). */
  tests?: boolean;
}

export interface TableTest {
  pValue: number;
  statistic: number;
  /** Subjects in the paired comparison. */
  pairs: number;
  method: 'exact' | 'approx';
  /** Subjects where the variant scored higher than the baseline (ranks), for direction. */
  wPlus: number;
  wMinus: number;
}

export interface TableCell {
  variant: string;
  /** Mean Dice per organ (over subjects with a value). */
  perOrgan: (number | null)[];
  /** Mean over subjects of each subject's mean over its organs. */
  average: number | null;
  /** Seeds the values are the mean of (1: one training run). */
  seeds: number;
  /** Sample sd across seeds of perOrgan / average; null with one seed. */
  perOrganSd: (number | null)[] | null;
  averageSd: number | null;
  subjects: number;
  /** Test of this variant against the baseline on per-subject means; null for the baseline itself or without shared subjects. */
  test: TableTest | null;
  /** Tests per organ (same conventions). */
  organTests: (TableTest | null)[];
}

export interface TableRow {
  model: string;
  /** Aligned with ComparisonTable.variants; null where the model has no result for that variant. */
  cells: (TableCell | null)[];
  /** Per column (organs then average), the variant indices holding the row's best value (ties all count). */
  best: number[][];
}

export interface ComparisonTable {
  organs: string[];
  baseline: string;
  variants: string[];
  rows: TableRow[];
  /** Whether the cells carry tests against the baseline (the p columns). */
  tests: boolean;
}

function toTest(r: ReturnType<typeof compareResults>): TableTest | null {
  if (!r || r.n === 0) return null;
  return { pValue: r.pValue, statistic: r.statistic, pairs: r.pairs, method: r.method, wPlus: r.wPlus, wMinus: r.wMinus };
}

function order(seen: string[], given: string[] | undefined, first?: string): string[] {
  const unique = [...new Set(seen)];
  if (given) return given.filter((g) => unique.includes(g));
  if (first !== undefined && unique.includes(first)) return [first, ...unique.filter((u) => u !== first)];
  return unique;
}

/** Builds the comparison table from per-subject results (one per model and variant). */
export function buildTable(results: readonly EvaluationResult[], options: TableOptions = {}): ComparisonTable {
  if (results.length === 0) throw new RangeError('results: nothing to tabulate');
  results.forEach(validateResult);
  const organs = results[0].organs;
  for (const r of results) {
    if (r.organs.length !== organs.length || r.organs.some((o, i) => o !== organs[i]))
      throw new RangeError(`results: ${r.model}/${r.variant} has organs [${r.organs.join(', ')}], expected [${organs.join(', ')}]`);
  }
  const baseline = options.baseline ?? 'none';
  const variants = order(
    results.map((r) => r.variant),
    options.variants,
    baseline,
  );
  const models = order(
    results.map((r) => r.model),
    options.models,
  );
  const seen = new Set<string>();
  for (const r of results) {
    const key = JSON.stringify([r.model, r.variant, r.trainingSubjects ?? null, r.seed ?? null]);
    if (seen.has(key))
      throw new RangeError(
        `results: ${r.model}/${r.variant}${r.trainingSubjects !== undefined ? ` (${r.trainingSubjects} training subjects)` : ''}${r.seed !== undefined ? ` seed ${r.seed}` : ''} appears twice`,
      );
    seen.add(key);
  }
  const tests = options.tests ?? true;
  // with several training-set sizes, the table shows the full-data run: the one without
  // trainingSubjects, else the largest; with several seeds, all of its seeds
  const find = (model: string, variant: string): EvaluationResult[] => {
    const mine = results.filter((r) => r.model === model && r.variant === variant);
    const size = Math.max(...mine.map((r) => r.trainingSubjects ?? Infinity));
    return mine.filter((r) => (r.trainingSubjects ?? Infinity) === size);
  };
  const rows: TableRow[] = models.map((model) => {
    const base = find(model, baseline);
    const cells = variants.map((variant): TableCell | null => {
      const rs = find(model, variant);
      const r = rs[0];
      if (!r) return null;
      if (rs.length > 1) {
        const a = summarizeArm(rs);
        return {
          variant,
          perOrgan: a.perOrgan,
          average: a.average,
          seeds: rs.length,
          perOrganSd: a.perOrganSd,
          averageSd: a.averageSd,
          subjects: a.subjects,
          test: null,
          organTests: organs.map(() => null),
        };
      }
      const s = summarizeResult(r);
      const against = tests && base.length === 1 && variant !== baseline ? base[0]! : null;
      return {
        variant,
        perOrgan: s.perOrgan,
        average: s.overall,
        seeds: 1,
        perOrganSd: null,
        averageSd: null,
        subjects: r.perSubject.length,
        test: against ? toTest(compareResults(r, against, options.test)) : null,
        organTests: organs.map((_, k) => (against ? toTest(compareResults(r, against, { ...options.test, organ: k })) : null)),
      };
    });
    const best = [...organs.map((_, k) => k), -1].map((column) => {
      const values = cells.map((c) => (c ? (column < 0 ? c.average : c.perOrgan[column]) : null));
      const finite = values.filter((v): v is number => v !== null);
      if (finite.length < 2) return [];
      const top = Math.max(...finite);
      return values.flatMap((v, i) => (v === top ? [i] : []));
    });
    return { model, cells, best };
  });
  return { organs: organs.slice(), baseline, variants, rows, tests };
}

/** Box-plot data of one model: groups = organs, one series per variant (Fig. 3a style); an arm with several seeds shows its seed-averaged subject scores. */
export function boxPlotFromResults(
  results: readonly EvaluationResult[],
  model: string,
  options: { variants?: string[]; title?: string; names?: Record<string, string> } = {},
): BoxPlotData {
  const mine = seedAverage(results.filter((r) => r.model === model));
  if (mine.length === 0) throw new RangeError(`model: no results for ${model}`);
  const variants = options.variants ?? [...new Set(mine.map((r) => r.variant))];
  const organs = mine[0].organs;
  return {
    title: options.title ?? `${model}: Dice per organ`,
    groups: organs.slice(),
    yLabel: 'Dice',
    series: variants.flatMap((v) => {
      const r = mine.find((x) => x.variant === v);
      if (!r) return [];
      return [{ name: options.names?.[v] ?? v, values: organs.map((_, k) => r.perSubject.map((s) => s.dice[k])) }];
    }),
  };
}

/**
 * Low-data curve (Fig. 3b style): one series per model and variant (the control's too) among
 * the results that carry trainingSubjects; x = training subjects, y = mean Dice (mean of
 * per-subject means; with several seeds, the mean over the seeds, with their sd as an error bar).
 */
export function lowDataFromResults(results: readonly EvaluationResult[], options: { title?: string; names?: Record<string, string> } = {}): LineChartData {
  const keyed = new Map<string, { x: number; y: number; sd: number | null }[]>();
  for (const r of summarizeArms(results.filter((x) => x.trainingSubjects !== undefined))) {
    const y = r.average;
    if (y === null || r.trainingSubjects === undefined) continue;
    const key = `${r.model} ${options.names?.[r.variant] ?? r.variant}`;
    if (!keyed.has(key)) keyed.set(key, []);
    keyed.get(key)!.push({ x: r.trainingSubjects, y, sd: r.averageSd });
  }
  return {
    title: options.title ?? 'Mean Dice against the number of training subjects',
    xLabel: 'training subjects',
    yLabel: 'mean Dice',
    series: [...keyed].map(([name, points]) => ({ name, points: points.sort((p, q) => p.x - q.x) })),
  };
}
