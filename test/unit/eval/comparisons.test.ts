// The evidence of a comparison: Holm and the bootstrap CI against values worked out by hand,
// the minimum attainable exact p, the comparison rows of an experiment (pairs, order, Holm
// per group, seed-averaged rows) and what the report and console say about them.
import assert from 'node:assert/strict';
import { compareArms, seedAverage, summarizeArms, type Comparison, type EvaluationResult } from '../../../lib/eval/index.js';
import { pairedScores } from '../../../lib/eval/results.js';
import * as stats from '../../../lib/eval/stats.js';
import { buildTable, diceTableText, formatP, lowDataFromResults, primaryComparisonText, renderReport, unreachableNote } from '../../../lib/report/index.js';

const ORGANS = ['spleen', 'right kidney', 'left kidney', 'liver', 'stomach', 'aorta'];

/** Deterministic per-subject Dice: subject s, organ k, arm offset `shift`, seed wobble. */
function arm(variant: string, shift: number, subjects: number, seed?: number, trainingSubjects?: number): EvaluationResult {
  const r: EvaluationResult = {
    model: 'DeepLabv3',
    variant,
    organs: ORGANS,
    perSubject: Array.from({ length: subjects }, (_, s) => ({
      subject: `s${s}`,
      dice: ORGANS.map((_, k) => {
        if (s === 1 && k === 2 && seed === 2) return null; // one organ missing in one seed only
        return Math.min(1, 0.6 + 0.03 * Math.sin(3 * s + k) + shift * (1 + ((s * 7 + k) % 5) / 10) + 0.004 * (seed ?? 0) * ((s + k) % 3));
      }),
    })),
  };
  if (seed !== undefined) r.seed = seed;
  if (trainingSubjects !== undefined) r.trainingSubjects = trainingSubjects;
  return r;
}

describe('eval: Holm and the minimum attainable Wilcoxon p', () => {
  it('Holm step-down, monotone, capped, nulls left out of m', () => {
    // sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, 1 x 0.04 = 0.04 -> max(0.06, 0.04) = 0.06
    const adjusted = stats.holm([0.01, 0.04, 0.03]);
    [0.03, 0.06, 0.06].forEach((v, i) => assert.ok(Math.abs(adjusted[i]! - v) < 1e-15, `${i}: ${adjusted[i]}`));
    // m = 2 (null and NaN do not count): 2 x 0.02 = 0.04, 1 x 0.5 = 0.5
    assert.deepEqual(stats.holm([null, 0.02, NaN, 0.5]), [null, 0.04, null, 0.5]);
    // 2 x 0.6 = 1.2 -> 1; 0.7 -> max(1, 0.7) = 1
    assert.deepEqual(stats.holm([0.6, 0.7]), [1, 1]);
    assert.deepEqual(stats.holm([]), []);
    assert.throws(() => stats.holm([1.5]), RangeError);
  });

  it('2 / 2^n: n = 5 cannot reach 0.05, n = 6 can; equal to the exact test with every sign the same', () => {
    assert.equal(stats.minAttainableP(5), 0.0625);
    assert.equal(stats.minAttainableP(6), 0.03125);
    assert.equal(stats.minAttainableP(0), 1);
    assert.equal(stats.significanceReachable(5), false);
    assert.equal(stats.significanceReachable(6), true);
    assert.equal(stats.wilcoxon([1, 2, 3, 4, 5]).pValue, stats.minAttainableP(5));
    assert.equal(stats.wilcoxon([1, 2, 3, 4, 5, 6]).pValue, stats.minAttainableP(6));
  });
});

describe('eval: paired bootstrap CI of the mean difference', () => {
  it('all-equal differences give a zero-width CI at the difference', () => {
    // every resample's mean of 0.25, 0.25, 0.25 is 0.25 (exact in binary)
    assert.deepEqual(stats.bootstrapMeanDiffCi([0.75, 0.5, 0.25], [0.5, 0.25, 0]), [0.25, 0.25]);
    assert.deepEqual(stats.bootstrapMeanDiffCi([0.5], [0.25], { seed: 9 }), [0.25, 0.25]);
  });

  it('3 subjects with differences 0, 0, 1: the resample means k/3 have P(k) = 8/27, 12/27, 6/27, 1/27', () => {
    // P(mean = 0) = 0.296 > 0.05, so both lower bounds are 0; P(mean <= 2/3) = 26/27 = 0.963 lies
    // between 0.95 and 0.975, so the 95% upper bound is 1 and the 90% one is 2/3 (with 10,000
    // resamples the empirical quantiles sit hundreds of draws away from these boundaries)
    const a = [0, 0, 1];
    const b = [0, 0, 0];
    assert.deepEqual(stats.bootstrapMeanDiffCi(a, b), [0, 1]);
    const [lo, hi] = stats.bootstrapMeanDiffCi(a, b, { level: 0.9 });
    assert.equal(lo, 0);
    assert.ok(Math.abs(hi - 2 / 3) < 1e-12, String(hi));
  });

  it('seeded: the same seed repeats the CI, another seed moves it; the CI holds the mean difference', () => {
    const a = Array.from({ length: 12 }, (_, i) => 0.7 + 0.05 * Math.sin(i * 2.3));
    const b = Array.from({ length: 12 }, (_, i) => 0.68 + 0.05 * Math.cos(i * 1.1));
    const one = stats.bootstrapMeanDiffCi(a, b, { seed: 3 });
    assert.deepEqual(stats.bootstrapMeanDiffCi(a, b, { seed: 3 }), one);
    assert.notDeepEqual(stats.bootstrapMeanDiffCi(a, b, { seed: 4 }), one);
    const mean = a.reduce((s, v, i) => s + v - b[i]!, 0) / a.length;
    assert.ok(one[0] < mean && mean < one[1], `${one} around ${mean}`);
    assert.throws(() => stats.bootstrapMeanDiffCi([], []), RangeError);
    assert.throws(() => stats.bootstrapMeanDiffCi([1], [1, 2]), RangeError);
    assert.throws(() => stats.bootstrapMeanDiffCi([1], [1], { level: 1 }), RangeError);
  });
});

describe('eval: the comparison rows of an experiment', () => {
  const one = [arm('none', 0, 8), arm('continued', 0.01, 8), arm('unest', 0.03, 8)];

  it('distilled vs control first, then vs pretrained, then control vs pretrained; 7 rows each, Holm per group', () => {
    const rows = compareArms(one, { seed: 5, resamples: 2000 });
    assert.equal(rows.length, 3 * 7);
    const groups = [rows.slice(0, 7), rows.slice(7, 14), rows.slice(14)];
    assert.deepEqual(
      groups.map((g) => [g[0]!.variant, g[0]!.baseline]),
      [
        ['unest', 'continued'],
        ['unest', 'none'],
        ['continued', 'none'],
      ],
    );
    for (const g of groups) {
      assert.deepEqual(
        g.map((r) => r.organ),
        [...ORGANS, 'average'],
      );
      assert.ok(g.every((r) => r.seed === 5 && r.n === 8));
      assert.deepEqual(
        g.map((r) => r.pHolm),
        stats.holm(g.map((r) => r.p)),
      );
      const a = one.find((r) => r.variant === g[0]!.variant)!;
      const b = one.find((r) => r.variant === g[0]!.baseline)!;
      g.forEach((r, k) => {
        const p = pairedScores(a, b, k < ORGANS.length ? k : undefined);
        const w = stats.wilcoxon(p.a, p.b);
        assert.equal(r.p, w.pValue);
        assert.equal(r.statistic, w.statistic);
        assert.equal(r.method, w.method);
        assert.ok(Math.abs(r.meanDiff! - p.a.reduce((s, v, i) => s + v - p.b[i]!, 0) / p.a.length) < 1e-15);
        assert.deepEqual(r.ci95, stats.bootstrapMeanDiffCi(p.a, p.b, { seed: 5, resamples: 2000 }));
      });
    }
  });

  it('no differences: p, Holm p and method are null; a single seed has no seed-averaged rows', () => {
    const rows = compareArms([arm('none', 0, 4), { ...arm('none', 0, 4), variant: 'continued' }], { resamples: 100 });
    assert.equal(rows.length, 7);
    assert.ok(rows.every((r) => r.p === null && r.pHolm === null && r.method === null && r.meanDiff === 0 && r.seed === 0));
    assert.deepEqual(rows[6]!.ci95, [0, 0]);
  });

  it('several seeds: rows per seed and on the seed-averaged subject scores (mean over the seeds with a value)', () => {
    const results = [1, 2].flatMap((s) => [arm('none', 0, 8, s), arm('continued', 0.01, 8, s), arm('unest', 0.03, 8, s)]);
    const rows = compareArms(results, { resamples: 500 });
    assert.equal(rows.length, 3 * 3 * 7); // seeds 1, 2 and 'mean', three comparisons each
    assert.deepEqual([...new Set(rows.map((r) => r.seed))], [1, 2, 'mean']);
    const mean = rows.filter((r) => r.seed === 'mean' && r.variant === 'unest' && r.baseline === 'continued');
    assert.equal(mean.length, 7);
    // by hand: subject s1's left kidney is missing in seed 2, so its average is seed 1's value
    const avg = (variant: string, s: number, k: number): number | null => {
      const v = results
        .filter((r) => r.variant === variant)
        .map((r) => r.perSubject[s]!.dice[k]!)
        .filter((x): x is number => x !== null);
      return v.length ? v.reduce((x, y) => x + y, 0) / v.length : null;
    };
    assert.equal(seedAverage(results).find((r) => r.variant === 'unest')!.perSubject[1]!.dice[2], results[2]!.perSubject[1]!.dice[2]);
    const subjectAverage = (variant: string, s: number) => {
      const v = ORGANS.map((_, k) => avg(variant, s, k)).filter((x): x is number => x !== null);
      return v.reduce((x, y) => x + y, 0) / v.length;
    };
    const a = Array.from({ length: 8 }, (_, s) => subjectAverage('unest', s));
    const b = Array.from({ length: 8 }, (_, s) => subjectAverage('continued', s));
    const average = mean.find((r) => r.organ === 'average')!;
    assert.equal(average.p, stats.wilcoxon(a, b).pValue);
    assert.ok(Math.abs(average.meanDiff! - a.reduce((x, v, i) => x + v - b[i]!, 0) / 8) < 1e-12);
    const kidney = mean.find((r) => r.organ === 'left kidney')!;
    assert.equal(kidney.n, 8);
    assert.equal(
      kidney.p,
      stats.wilcoxon(
        Array.from({ length: 8 }, (_, s) => avg('unest', s, 2)!),
        Array.from({ length: 8 }, (_, s) => avg('continued', s, 2)!),
      ).pValue,
    );
  });
});

describe('report: labels, mean ± sd over seeds, the comparisons table and its notes', () => {
  const seeds = [1, 2].flatMap((s) => [arm('none', 0, 8, s), arm('continued', 0.01, 8, s), arm('unest', 0.03, 8, s)]);

  it('the table shows the mean over seeds of each seed’s mean, with the sd across seeds', () => {
    const table = buildTable(seeds, { tests: false });
    const cell = table.rows[0]!.cells[table.variants.indexOf('unest')]!;
    const [s1, s2] = summarizeArms(seeds.filter((r) => r.variant === 'unest').map((r) => ({ ...r, seed: undefined, variant: `unest-${r.seed}` })));
    const m = (s1!.average! + s2!.average!) / 2;
    assert.ok(Math.abs(cell.average! - m) < 1e-15);
    assert.ok(Math.abs(cell.averageSd! - Math.abs(s1!.average! - s2!.average!) / Math.SQRT2) < 1e-15);
    assert.equal(cell.seeds, 2);
    const html = renderReport({ title: 'T', table, comparisons: compareArms(seeds, { resamples: 200 }), generatedAt: 'x' });
    assert.ok(html.includes(`${cell.average!.toFixed(3)} ± ${cell.averageSd!.toFixed(3)}`));
    assert.ok(!/data-variant="[^"]*" data-column="p"/.test(html), 'no p column in the Dice table: the tests are the comparison rows');
    assert.ok(html.includes('data-column="pHolm"'));
  });

  it('the comparisons table leads with distilled vs control and says when p < 0.05 cannot be reached', () => {
    const small = [arm('none', 0, 4), arm('continued', 0.01, 4), arm('unest', 0.03, 4)];
    const rows = compareArms(small, { resamples: 200 });
    const note = unreachableNote(rows.slice(0, 7), 0.05);
    assert.match(note, /n = 4 paired subjects: the smallest two-sided exact Wilcoxon p is 2\/2\^4 = 0\.125, so p < 0\.05 cannot be reached/);
    assert.equal(
      unreachableNote(
        compareArms(
          seeds.filter((r) => r.seed === 1),
          { resamples: 100 },
        ).slice(0, 7),
        0.05,
      ),
      '',
    );
    const labels = { none: 'pretrained', continued: 'control (L_seg only)', unest: 'distilled (unest)' };
    const html = renderReport({ title: 'T', table: small, tableOptions: { tests: false }, comparisons: rows, labels, generatedAt: 'x' });
    const primary = html.indexOf('distilled (unest) vs control (L_seg only) (primary');
    const secondary = html.indexOf('distilled (unest) vs pretrained (secondary');
    assert.ok(primary > 0 && secondary > primary, 'primary first');
    assert.equal((html.match(/cannot be reached/g) ?? []).length, 3, 'a note per group of 4 subjects');
    const avg = rows[6]!;
    const cell = (column: string) =>
      new RegExp(`data-variant="unest" data-baseline="continued" data-seed="0" data-organ="average" data-column="${column}"[^>]*>([^<]*)<`).exec(html)?.[1];
    assert.equal(cell('n'), '4');
    assert.equal(cell('pHolm')?.replace('*', ''), formatP(stats.holm(rows.slice(0, 7).map((r) => r.p))[6]));
    // the reading of the CI is stated, never a gain where it contains 0
    assert.equal(cell('reading'), avg.ci95![0] > 0 ? 'CI above 0' : avg.ci95![1] < 0 ? 'CI below 0' : 'CI contains 0');
  });

  it('console table and primary lines use the labels; the low-data curve has the control and averages seeds', () => {
    const text = diceTableText(seeds);
    for (const l of ['pretrained', 'control (L_seg only)', 'distilled (unest)', 'seeds']) assert.ok(text.includes(l), l);
    assert.match(text, /±/);
    const lines = primaryComparisonText(compareArms(seeds, { resamples: 200 }));
    assert.match(
      lines,
      /^DeepLabv3 \[seed-averaged\]: distilled \(unest\) vs control \(L_seg only\): mean diff [+-]\d\.\d{3}, 95% CI \[[^\]]+\] \(CI (contains 0|above 0|below 0)\), Holm p [^,]+, n = 8\n$/,
    );
    const low = [1, 2].flatMap((s) => [10, 20].flatMap((n) => ['none', 'continued', 'unest'].map((v, i) => arm(v, 0.01 * i + n / 1000, 6, s, n))));
    const curve = lowDataFromResults(low, { names: { continued: 'control (L_seg only)' } });
    assert.deepEqual(
      curve.series.map((s) => s.name),
      ['DeepLabv3 none', 'DeepLabv3 control (L_seg only)', 'DeepLabv3 unest'],
    );
    const control = curve.series[1]!.points;
    assert.deepEqual(
      control.map((p) => p.x),
      [10, 20],
    );
    const bySeed = summarizeArms(low.filter((r) => r.variant === 'continued' && r.trainingSubjects === 10).map((r) => ({ ...r, variant: String(r.seed) })));
    assert.ok(Math.abs(control[0]!.y - (bySeed[0]!.average! + bySeed[1]!.average!) / 2) < 1e-15);
  });
});

// keep the row type in use, so a change of its fields fails to compile here
const _row: Comparison = {
  model: 'm',
  variant: 'v',
  baseline: 'b',
  seed: 'mean',
  organ: 'average',
  n: 0,
  meanDiff: null,
  ci95: null,
  statistic: null,
  p: null,
  pHolm: null,
  method: null,
};
void _row;
