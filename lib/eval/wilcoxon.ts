// The Wilcoxon signed-rank test on paired samples (or on one sample of differences).
//
// Conventions follow scipy.stats.wilcoxon (checked against scipy 1.17.1) so numbers can be
// compared one to one:
//  - d = x - y; |d| is ranked with average ranks for ties (exact float equality);
//  - zeroMethod 'wilcox' (default) drops zero differences before ranking; 'pratt' ranks them
//    with the others, then leaves their ranks out of W+ and W- (Pratt 1959), with the mean and
//    variance of the normal approximation adjusted for the dropped ranks (Cureton 1967);
//  - W+ (wPlus) is the sum of the ranks of the positive differences, W- (wMinus) of the
//    negative ones; the reported statistic is min(W+, W-) for a two-sided test and W+ for a
//    one-sided one;
//  - normal approximation: mean and variance of W+ under the null, the variance reduced by
//    sum(t^3 - t) / 48 over the tie groups of non-zero differences, optional continuity
//    correction of 0.5 towards the mean;
//  - method 'auto': the exact null distribution when there are at most 50 pairs and neither
//    ties nor zeros; with ties or zeros and at most 13 pairs, the exact conditional (sign-flip)
//    distribution of the tied ranks, which is what scipy's 'auto' computes there through an
//    exhaustive permutation test over the 2^n sign flips; otherwise the normal approximation.
//    method 'exact' forces the exact conditional distribution at any n (doubled mid-ranks
//    are integers, so a dynamic programme over their sums is exact; its cost is O(n^3)).
//
// Differences from scipy, on purpose: `z` is the signed z-score of W+ (scipy reports -|z| for
// two-sided tests) and is filled in for every method where the variance is positive.
//
// Input errors: mismatched lengths, empty input and non-finite values throw a RangeError;
// unknown options throw a TypeError. A well-formed sample in which every difference is zero
// leaves no ranks to test: the result then has n = 0, statistic 0 and pValue NaN (scipy gives
// NaN as well), so that batch evaluations can report "n/a" instead of failing.

import { normalCdf, normalSf } from './normal.js';

export type ZeroMethod = 'wilcox' | 'pratt';
export type Alternative = 'two-sided' | 'greater' | 'less';
export type WilcoxonMethod = 'auto' | 'exact' | 'approx';

export interface WilcoxonOptions {
  /** How zero differences are treated (default 'wilcox': dropped). */
  zeroMethod?: ZeroMethod;
  /** Continuity correction of the normal approximation (default false, as scipy). */
  correction?: boolean;
  /** 'auto' (default), 'exact' or 'approx' (the normal approximation). */
  method?: WilcoxonMethod;
  /** Alternative hypothesis on the location of x - y (default 'two-sided'). */
  alternative?: Alternative;
}

export interface WilcoxonResult {
  /** min(W+, W-) for a two-sided test, W+ for a one-sided one (as scipy). */
  statistic: number;
  pValue: number;
  /** Number of non-zero differences (the pairs that carry a sign). */
  n: number;
  /** Number of zero differences. */
  nZero: number;
  /** The method that produced pValue. */
  method: 'exact' | 'approx';
  wPlus: number;
  wMinus: number;
  /** Signed z-score of W+ under the normal approximation (with the continuity correction when asked). NaN where the variance is 0. */
  z: number;
  /** Whether non-zero |differences| contain ties. */
  ties: boolean;
  alternative: Alternative;
  zeroMethod: ZeroMethod;
}

const ZERO_METHODS: readonly ZeroMethod[] = ['wilcox', 'pratt'];
const ALTERNATIVES: readonly Alternative[] = ['two-sided', 'greater', 'less'];
const METHODS: readonly WilcoxonMethod[] = ['auto', 'exact', 'approx'];
const EXACT_MAX_N = 50;
const EXACT_TIES_MAX_N = 13;

function differences(x: ArrayLike<number>, y: ArrayLike<number> | null | undefined): number[] {
  if (x == null || typeof x.length !== 'number') throw new TypeError('x: expected an array of numbers');
  if (y != null && y.length !== x.length) throw new RangeError(`y: length ${y.length} does not match x (length ${x.length}); the samples must be paired`);
  if (x.length === 0) throw new RangeError('x: no observations');
  const d = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y == null ? 0 : y[i];
    if (typeof xi !== 'number' || !Number.isFinite(xi)) throw new RangeError(`x: element ${i} is not a finite number (${String(xi)})`);
    if (typeof yi !== 'number' || !Number.isFinite(yi)) throw new RangeError(`y: element ${i} is not a finite number (${String(yi)})`);
    const di = xi - yi;
    if (!Number.isFinite(di)) throw new RangeError(`x - y: element ${i} overflows (${xi} - ${yi})`);
    d[i] = di;
  }
  return d;
}

/**
 * Doubled average ranks (integers) of |values|, in the input order, and the sizes of the tie
 * groups. Ranks start at 1, so a doubled rank is 2 for the smallest value without ties.
 */
function doubledRanks(values: number[]): { ranks: Int32Array; groups: { size: number; value: number }[] } {
  const abs = values.map(Math.abs);
  const order = abs.map((_, i) => i).sort((a, b) => abs[a] - abs[b]);
  const ranks = new Int32Array(values.length);
  const groups: { size: number; value: number }[] = [];
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && abs[order[j + 1]] === abs[order[i]]) j++;
    // positions i..j (0-based) hold ranks i+1..j+1; their average doubled is i + j + 2
    for (let k = i; k <= j; k++) ranks[order[k]] = i + j + 2;
    groups.push({ size: j - i + 1, value: abs[order[i]] });
    i = j + 1;
  }
  return { ranks, groups };
}

/**
 * Null distribution of the sum of the doubled ranks that get a + sign, each sign + or - with
 * probability 1/2 independently: entry s is P(2 W+ = s). Halving at every step keeps the
 * entries dyadic rationals, exact in float64 up to about 50 ranks.
 */
function signFlipDistribution(doubled: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < doubled.length; i++) total += doubled[i];
  const dist = new Float64Array(total + 1);
  dist[0] = 1;
  let reach = 0;
  for (let i = 0; i < doubled.length; i++) {
    const r = doubled[i];
    reach += r;
    for (let s = reach; s >= r; s--) dist[s] = 0.5 * (dist[s] + dist[s - r]);
    for (let s = Math.min(r - 1, reach); s >= 0; s--) dist[s] *= 0.5;
  }
  return dist;
}

function exactPValue(doubled: ArrayLike<number>, twiceWPlus: number, alternative: Alternative): number {
  const dist = signFlipDistribution(doubled);
  let lower = 0; // P(2W+ <= observed)
  for (let s = 0; s <= twiceWPlus && s < dist.length; s++) lower += dist[s];
  let upper = 0; // P(2W+ >= observed)
  for (let s = dist.length - 1; s >= twiceWPlus && s >= 0; s--) upper += dist[s];
  if (alternative === 'less') return Math.min(1, lower);
  if (alternative === 'greater') return Math.min(1, upper);
  return Math.min(1, 2 * Math.min(lower, upper));
}

/** The Wilcoxon signed-rank test of x - y (y omitted or null: of x itself) against a zero location. */
export function wilcoxon(x: ArrayLike<number>, y?: ArrayLike<number> | null, options: WilcoxonOptions = {}): WilcoxonResult {
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  const alternative = options.alternative ?? 'two-sided';
  const method = options.method ?? 'auto';
  const correction = options.correction ?? false;
  if (!ZERO_METHODS.includes(zeroMethod)) throw new TypeError(`options.zeroMethod: expected one of ${ZERO_METHODS.join(', ')}, got ${String(zeroMethod)}`);
  if (!ALTERNATIVES.includes(alternative)) throw new TypeError(`options.alternative: expected one of ${ALTERNATIVES.join(', ')}, got ${String(alternative)}`);
  if (!METHODS.includes(method)) throw new TypeError(`options.method: expected one of ${METHODS.join(', ')}, got ${String(method)}`);
  if (typeof correction !== 'boolean') throw new TypeError('options.correction: expected a boolean');

  const all = differences(x, y);
  const nZero = all.reduce((acc, v) => acc + (v === 0 ? 1 : 0), 0);
  const ranked = zeroMethod === 'wilcox' ? all.filter((v) => v !== 0) : all;
  const n = ranked.length - (zeroMethod === 'pratt' ? nZero : 0);

  const { ranks, groups } = doubledRanks(ranked);
  let twicePlus = 0;
  let twiceMinus = 0;
  const signedRanks: number[] = [];
  for (let i = 0; i < ranked.length; i++) {
    if (ranked[i] > 0) twicePlus += ranks[i];
    else if (ranked[i] < 0) twiceMinus += ranks[i];
    if (ranked[i] !== 0) signedRanks.push(ranks[i]);
  }
  const wPlus = twicePlus / 2;
  const wMinus = twiceMinus / 2;
  const ties = groups.some((g) => g.value !== 0 && g.size > 1);
  const statistic = alternative === 'two-sided' ? Math.min(wPlus, wMinus) : wPlus;

  // Normal approximation of W+ (see the header for the zero and tie adjustments).
  const count = ranked.length;
  let mean = (count * (count + 1)) / 4;
  let varTimes24 = count * (count + 1) * (2 * count + 1);
  if (zeroMethod === 'pratt') {
    mean -= (nZero * (nZero + 1)) / 4;
    varTimes24 -= nZero * (nZero + 1) * (2 * nZero + 1);
  }
  for (const g of groups) if (g.value !== 0) varTimes24 -= (g.size ** 3 - g.size) / 2;
  const sd = Math.sqrt(Math.max(varTimes24, 0) / 24);
  let z = NaN;
  if (sd > 0) {
    let shift = 0;
    if (correction) {
      const direction = alternative === 'greater' ? 1 : alternative === 'less' ? -1 : Math.sign(wPlus - mean);
      shift = 0.5 * direction;
    }
    z = (wPlus - mean - shift) / sd;
  }

  let chosen: 'exact' | 'approx';
  if (method === 'auto') {
    if (ties || nZero > 0) chosen = all.length <= EXACT_TIES_MAX_N ? 'exact' : 'approx';
    else chosen = all.length <= EXACT_MAX_N ? 'exact' : 'approx';
  } else {
    chosen = method;
  }

  let pValue: number;
  if (n === 0) {
    pValue = NaN;
  } else if (chosen === 'exact') {
    pValue = exactPValue(signedRanks, twicePlus, alternative);
  } else if (alternative === 'greater') {
    pValue = normalSf(z);
  } else if (alternative === 'less') {
    pValue = normalCdf(z);
  } else {
    pValue = Math.min(1, 2 * normalSf(Math.abs(z)));
  }
  return { statistic, pValue, n, nZero, method: chosen, wPlus, wMinus, z, ties, alternative, zeroMethod };
}
