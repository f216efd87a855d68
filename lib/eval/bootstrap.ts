// Paired bootstrap confidence interval of a mean difference: subjects are resampled with
// replacement (each keeps its pair), the mean of a - b is taken per resample, and the
// interval is the percentile interval of those means (quantiles interpolated linearly, as
// numpy.percentile's default). Seeded with the data pipeline's Rng (pure JavaScript), so a
// seed gives the same interval on any machine.
import { Rng } from '../data/random.js';

export interface BootstrapOptions {
  /** Resamples drawn (default 10000). */
  resamples?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

/** Linear-interpolation quantile (numpy / R type 7) of sorted values. */
function sortedQuantile(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

/** [lo, hi] of the percentile bootstrap CI of mean(a - b), pairs resampled by subject. */
export function bootstrapMeanDiffCi(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): [number, number] {
  const resamples = options.resamples ?? 10000;
  const level = options.level ?? 0.95;
  if (a.length !== b.length) throw new RangeError(`b: length ${b.length} does not match a (length ${a.length}); the samples must be paired`);
  if (a.length === 0) throw new RangeError('a: no pairs to resample');
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`resamples: expected an integer >= 1, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level: expected a number in (0, 1), got ${level}`);
  const d = a.map((v, i) => v - b[i]!);
  if (!d.every(Number.isFinite)) throw new RangeError('a - b: every difference must be a finite number');
  const n = d.length;
  const rng = new Rng(options.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[rng.int(n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return [sortedQuantile(means, tail), sortedQuantile(means, 1 - tail)];
}
