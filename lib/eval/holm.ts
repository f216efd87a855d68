// Multiple comparisons: Holm's step-down adjustment, and what an exact two-sided Wilcoxon
// signed-rank test can reach at all with few subjects.

/**
 * Holm-adjusted p-values, in the input order. The i-th smallest of the m given p-values
 * (i from 0) is multiplied by m - i, then made monotone (never below the adjusted value of
 * a smaller p) and capped at 1. null (and NaN) entries stay null and do not count in m.
 */
export function holm(pValues: readonly (number | null)[]): (number | null)[] {
  const given = pValues.flatMap((p, i) => (p === null || !Number.isFinite(p) ? [] : [{ p, i }]));
  for (const { p } of given) if (p < 0 || p > 1) throw new RangeError(`pValues: ${p} is not a probability`);
  given.sort((x, y) => x.p - y.p);
  const out: (number | null)[] = pValues.map(() => null);
  const m = given.length;
  let running = 0;
  given.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/**
 * The smallest two-sided p-value the exact Wilcoxon signed-rank test can give with n non-zero
 * pairs: every sign the same, 2 / 2^n (ties only make it larger). 1 for n = 0.
 */
export function minAttainableP(n: number): number {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n: expected a count >= 0, got ${n}`);
  return n === 0 ? 1 : Math.min(1, 2 / 2 ** n);
}

/** Whether p < alpha is reachable at all with n non-zero pairs (n >= 6 for alpha = 0.05). */
export function significanceReachable(n: number, alpha = 0.05): boolean {
  return minAttainableP(n) < alpha;
}
