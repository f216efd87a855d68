// Splits by subject (never by file, so no subject is in two parts) and nested low-data
// subsets of the training subjects, both seeded.
import { Rng } from './random.js';

export interface Split {
  train: string[];
  val: string[];
  test: string[];
}

/** Sizes of the parts: fractions that sum to 1, or counts that sum to the number of subjects. */
export interface SplitSizes {
  train: number;
  val: number;
  test: number;
}

/**
 * Splits subjects into train / val / test. Subjects are de-duplicated and sorted, then
 * shuffled with the seed, so the split depends only on the set of ids and the seed. With
 * fractions, val and test are rounded and train takes the rest. Each part comes back sorted.
 */
export function splitSubjects(subjects: Iterable<string>, sizes: SplitSizes = { train: 0.6, val: 0.2, test: 0.2 }, seed = 0): Split {
  const ids = [...new Set(subjects)].sort();
  const n = ids.length;
  const values = [sizes.train, sizes.val, sizes.test];
  if (values.some((v) => !Number.isFinite(v) || v < 0)) throw new RangeError('sizes: train, val and test must be non-negative numbers');
  const total = values.reduce((a, b) => a + b, 0);
  const fractions = values.every((v) => v <= 1) && Math.abs(total - 1) < 1e-9;
  let nVal: number;
  let nTest: number;
  if (fractions) {
    nVal = Math.round(sizes.val * n);
    nTest = Math.round(sizes.test * n);
    if (nVal + nTest > n) nTest = n - nVal;
  } else {
    if (!values.every(Number.isInteger)) throw new RangeError('sizes: give fractions that sum to 1, or integer counts');
    if (total !== n) throw new RangeError(`sizes: counts sum to ${total} but there are ${n} subjects`);
    nVal = sizes.val;
    nTest = sizes.test;
  }
  const order = new Rng(seed).derive(0x5e11).shuffle([...ids]);
  const test = order.slice(0, nTest).sort();
  const val = order.slice(nTest, nTest + nVal).sort();
  const train = order.slice(nTest + nVal).sort();
  return { train, val, test };
}

/**
 * Nested subsets of the training subjects: one seeded order, and the subset of size N is
 * its first N, so the 100 are inside the 150, the 150 inside the 200, and so on. Sizes
 * larger than the list are an error; 'all' (or the full count) gives every subject.
 */
export function nestedSubsets(subjects: Iterable<string>, sizes: readonly (number | 'all')[], seed = 0): Map<number | 'all', string[]> {
  const ids = [...new Set(subjects)].sort();
  const order = new Rng(seed).derive(0x5b5e7).shuffle([...ids]);
  const out = new Map<number | 'all', string[]>();
  for (const size of sizes) {
    const n = size === 'all' ? ids.length : size;
    if (!Number.isInteger(n) || n < 0 || n > ids.length) throw new RangeError(`sizes: ${size} is not a subset size in 0..${ids.length}`);
    out.set(size, order.slice(0, n).sort());
  }
  return out;
}

/** The entries (volumes or slices) whose subject is in the list. */
export function entriesOf<T extends { subject: string }>(entries: readonly T[], subjects: Iterable<string>): T[] {
  const set = new Set(subjects);
  return entries.filter((e) => set.has(e.subject));
}
