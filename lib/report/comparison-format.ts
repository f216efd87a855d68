// How a comparison row reads as text: signed differences, the CI and what it does (and does
// not) show, p-values, and which rows headline a table (the seed-averaged ones where there
// are several seeds, the subjects' average, the primary comparison first).
import { AVERAGE, comparisonRank, type Comparison } from '../eval/comparisons.js';

/** p-values with 3 significant digits, '<0.001' below that; 'n/a' when undefined. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  if (p < 0.001) return '<0.001';
  return Number(p.toPrecision(3)).toString();
}

/** '+0.012' / '-0.004'; '–' when null. */
export function signed(v: number | null | undefined, decimals = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const t = v.toFixed(decimals);
  return /^-0\.0*$/.test(t) ? t.slice(1) : v >= 0 ? `+${t}` : t;
}

/** '[-0.004, +0.030]'; 'n/a' without a CI. */
export function ciText(ci: readonly [number, number] | null, decimals = 3): string {
  return ci ? `[${signed(ci[0], decimals)}, ${signed(ci[1], decimals)}]` : 'n/a';
}

/** What the CI says about the sign of the difference, and no more. */
export function ciReading(ci: readonly [number, number] | null): string {
  if (!ci) return 'no CI';
  if (ci[0] > 0) return 'CI above 0';
  if (ci[1] < 0) return 'CI below 0';
  return 'CI contains 0';
}

/** The seed whose rows headline the tables: 'mean' where present, else the first seed. */
export function headlineSeed(comparisons: readonly Comparison[]): number | 'mean' | undefined {
  return comparisons.some((c) => c.seed === 'mean') ? 'mean' : comparisons[0]?.seed;
}

type Arm = { model: string; variant: string; trainingSubjects?: number };

/** The arm's headline comparison on the average: against the control where it has one, else against the pretrained student. */
export function primaryFor(comparisons: readonly Comparison[], arm: Arm, control?: string): Comparison | undefined {
  const seed = headlineSeed(comparisons);
  return comparisons
    .filter((c) => c.organ === AVERAGE && c.seed === seed && c.model === arm.model && c.variant === arm.variant && c.trainingSubjects === arm.trainingSubjects)
    .sort((a, b) => comparisonRank(a, control) - comparisonRank(b, control))[0];
}
