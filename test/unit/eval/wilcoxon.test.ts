import assert from 'node:assert/strict';
import { wilcoxon } from '../../../lib/eval/wilcoxon.js';
import { erf, erfc, normalCdf, normalSf } from '../../../lib/eval/normal.js';

const EXACT_TOL = 1e-9;
const APPROX_TOL = 1e-6;

function near(actual: number, expected: number, tol: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} != ${expected} (tol ${tol})`);
}

/** Exhaustive sign-flip p-value of W+ (2^n flips), the definition the exact DP must agree with. */
function bruteForceP(d: number[], alternative: 'two-sided' | 'greater' | 'less', zeroMethod: 'wilcox' | 'pratt'): number {
  const kept = zeroMethod === 'wilcox' ? d.filter((v) => v !== 0) : d;
  const abs = kept.map(Math.abs);
  const rank = abs.map((a) => {
    const less = abs.filter((b) => b < a).length;
    const equal = abs.filter((b) => b === a).length;
    return less + (equal + 1) / 2;
  });
  const idx = kept.map((_, i) => i).filter((i) => kept[i] !== 0);
  const observed = idx.reduce((s, i) => s + (kept[i] > 0 ? rank[i] : 0), 0);
  let le = 0;
  let ge = 0;
  const total = 2 ** idx.length;
  for (let mask = 0; mask < total; mask++) {
    let w = 0;
    idx.forEach((i, bit) => {
      if (mask & (1 << bit)) w += rank[i];
    });
    if (w <= observed + 1e-9) le++;
    if (w >= observed - 1e-9) ge++;
  }
  if (alternative === 'less') return le / total;
  if (alternative === 'greater') return ge / total;
  return Math.min(1, (2 * Math.min(le, ge)) / total);
}

describe('eval: normal distribution', () => {
  it('erfc matches Python math.erfc to ~1e-13 relative', () => {
    // reference values printed by CPython 3.11 math.erfc (repr)
    const ref: [number, number][] = [
      [0.1, 0.8875370839817152],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [1.9, 0.0072095707647425325],
      [2, 0.004677734981047265],
      [3, 2.2090496998585438e-5],
      [5, 1.5374597944280351e-12],
      [10, 2.088487583762545e-45],
      [20, 5.3958656116079005e-176],
      [-1, 1.842700792949715],
      [-3, 1.9999779095030015],
    ];
    for (const [x, e] of ref) near(erfc(x) / e, 1, 1e-13, `erfc(${x})`);
    assert.equal(erfc(0), 1);
    assert.equal(erfc(Infinity), 0);
    assert.equal(erfc(-Infinity), 2);
    assert.ok(Number.isNaN(erfc(NaN)));
    near(erf(0.5), 1 - 0.4795001221869535, 1e-15, 'erf(0.5)');
    near(normalCdf(1.959963984540054), 0.975, 1e-14, 'Phi(1.96)');
    near(normalSf(1.959963984540054), 0.025, 1e-14, 'upper tail at 1.96');
    near(normalCdf(-8) / 6.220960574271785e-16, 1, 1e-12, 'Phi(-8)');
  });
});

describe('eval: Wilcoxon signed-rank test', () => {
  it("R's wilcox.test help example (Hollander & Wolfe depression scores), exact", () => {
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
    // R: wilcox.test(x, y, paired = TRUE, alternative = "greater") gives V = 40, p-value = 0.01953
    // (= 10 / 512: the sign patterns with W- <= 5 among 2^9); two-sided doubles it.
    const greater = wilcoxon(x, y, { alternative: 'greater' });
    assert.equal(greater.statistic, 40);
    assert.equal(greater.method, 'exact');
    near(greater.pValue, 10 / 512, EXACT_TOL, 'greater p');
    near(greater.pValue, 0.01953, 1e-5, 'R printout');
    const two = wilcoxon(x, y);
    assert.equal(two.statistic, 5);
    assert.equal(two.wPlus, 40);
    assert.equal(two.wMinus, 5);
    assert.equal(two.n, 9);
    near(two.pValue, 0.0390625, EXACT_TOL, 'two-sided p');
    // scipy 1.17.1, method='asymptotic': p 0.038151710173415135 (z -2.073221072156823),
    // with correction=True: p 0.04401098401295143 (z -2.0139861843809137)
    const approx = wilcoxon(x, y, { method: 'approx' });
    assert.equal(approx.method, 'approx');
    near(approx.pValue, 0.038151710173415135, APPROX_TOL, 'approx p');
    near(approx.z, 2.073221072156823, APPROX_TOL, 'approx z (signed: W+ above its mean)');
    const cc = wilcoxon(x, y, { method: 'approx', correction: true });
    near(cc.pValue, 0.04401098401295143, APPROX_TOL, 'approx p, continuity');
    near(cc.z, 2.0139861843809137, APPROX_TOL, 'approx z, continuity');
  });

  it("Fisher's corn data from scipy.stats.wilcoxon's documentation", () => {
    const d = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75];
    const r = wilcoxon(d);
    assert.equal(r.statistic, 24);
    assert.equal(r.method, 'exact');
    near(r.pValue, 0.041259765625, EXACT_TOL, 'exact two-sided p');
    // the same as paired samples against zeros
    near(wilcoxon(d, new Array(d.length).fill(0)).pValue, 0.041259765625, EXACT_TOL, 'paired');
    // scipy 1.17.1: alternative='less' -> statistic 96, p 0.982330322265625
    const less = wilcoxon(d, null, { alternative: 'less' });
    assert.equal(less.statistic, 96);
    near(less.pValue, 0.982330322265625, EXACT_TOL, 'less p');

    // Normal approximation, checked by hand: n = 15, E[W+] = 15 * 16 / 4 = 60,
    // Var[W+] = 15 * 16 * 31 / 24 = 310, sd = 17.606817...; W+ = 96, so
    // z = (96 - 60) / 17.6068 = 2.04466 and p = 2 * (1 - Phi(2.04466)) = 2 * 0.020444 = 0.040888.
    // With the continuity correction z = 35.5 / 17.6068 = 2.01626, p = 0.043772.
    // scipy 1.17.1 (method='asymptotic'): p 0.04088813291185591 (z -2.0446626032894333);
    // correction=True: p 0.043772323763041174; greater + correction: p 0.021886161881520587.
    const approx = wilcoxon(d, null, { method: 'approx' });
    near(approx.z, 36 / Math.sqrt(310), 1e-12, 'z by hand');
    near(approx.pValue, 0.04088813291185591, APPROX_TOL, 'approx p');
    near(wilcoxon(d, null, { method: 'approx', correction: true }).pValue, 0.043772323763041174, APPROX_TOL, 'approx cc p');
    near(wilcoxon(d, null, { method: 'approx', correction: true, alternative: 'greater' }).pValue, 0.021886161881520587, APPROX_TOL, 'approx cc greater');
  });

  it('ties and zero differences, normal approximation (n = 17), against scipy 1.17.1', () => {
    const t = [0, 0, 1.5, -1.5, 2, 2, 3, -3, 3, 4, 5, -6, 7, 7.5, -0.5, 8, 9];
    // scipy.stats.wilcoxon(t, zero_method=zm, correction=cc[, alternative='greater']), scipy 1.17.1
    // (17 > 13 pairs with ties, so scipy's 'auto' is the normal approximation, as ours):
    const ref = [
      { zeroMethod: 'wilcox', correction: false, stat: 21.5, statGreater: 98.5, p: 0.02857482329691339, pGreater: 0.014287411648456694 },
      { zeroMethod: 'wilcox', correction: true, stat: 21.5, statGreater: 98.5, p: 0.030705343533368047, pGreater: 0.015352671766684024 },
      { zeroMethod: 'pratt', correction: false, stat: 29.5, statGreater: 120.5, p: 0.030871370180739807, pGreater: 0.015435685090369904 },
      { zeroMethod: 'pratt', correction: true, stat: 29.5, statGreater: 120.5, p: 0.03276064222585384, pGreater: 0.01638032111292692 },
    ] as const;
    for (const c of ref) {
      const r = wilcoxon(t, null, { zeroMethod: c.zeroMethod, correction: c.correction });
      assert.equal(r.method, 'approx');
      assert.equal(r.ties, true);
      assert.equal(r.nZero, 2);
      assert.equal(r.n, 15);
      assert.equal(r.statistic, c.stat);
      near(r.pValue, c.p, APPROX_TOL, `${c.zeroMethod} cc=${c.correction}`);
      const g = wilcoxon(t, null, { zeroMethod: c.zeroMethod, correction: c.correction, alternative: 'greater' });
      assert.equal(g.statistic, c.statGreater);
      near(g.pValue, c.pGreater, APPROX_TOL, `${c.zeroMethod} cc=${c.correction} greater`);
    }
    // By hand for 'wilcox' without correction: the 15 non-zero |d| have ranks
    // 0.5->1, 1.5->2.5 (x2), 2->4.5 (x2), 3->7 (x3), 4->9, 5->10, 6->11, 7->12, 7.5->13, 8->14, 9->15,
    // W- = 1 + 2.5 + 7 + 11 = 21.5, W+ = 120 - 21.5 = 98.5; E = 15 * 16 / 4 = 60;
    // Var = (15 * 16 * 31 - (6 + 6 + 24) / 2) / 24 = (7440 - 18) / 24 = 309.25;
    // z = 38.5 / sqrt(309.25) = 2.18930, two-sided p = 0.028575.
    const w = wilcoxon(t);
    assert.equal(w.wMinus, 21.5);
    assert.equal(w.wPlus, 98.5);
    near(w.z, 38.5 / Math.sqrt(309.25), 1e-12, 'z by hand');
  });

  it('ties and zeros with n <= 13: exact conditional distribution, as scipy 1.17.1 auto (permutation test)', () => {
    const s = [1, 2, 2, -3, 4, 4, 4, 5, -6, 7, 0];
    // scipy 1.17.1 wilcoxon(s, zero_method=zm[, alternative='less'][, method='asymptotic'])
    const ref = [
      { zeroMethod: 'wilcox', stat: 13, p: 0.15234375, statLess: 42, pLess: 0.9296875, pApprox: 0.13812782757447145, zApprox: 1.4827989784382496 },
      { zeroMethod: 'pratt', stat: 15, p: 0.12109375, statLess: 50, pLess: 0.9404296875, pApprox: 0.11844140956696685, zApprox: 1.5613490786091468 },
    ] as const;
    for (const c of ref) {
      const r = wilcoxon(s, null, { zeroMethod: c.zeroMethod });
      assert.equal(r.method, 'exact');
      assert.equal(r.statistic, c.stat);
      near(r.pValue, c.p, EXACT_TOL, `${c.zeroMethod} two-sided`);
      near(r.pValue, bruteForceP(s, 'two-sided', c.zeroMethod), EXACT_TOL, `${c.zeroMethod} brute force`);
      const l = wilcoxon(s, null, { zeroMethod: c.zeroMethod, alternative: 'less' });
      assert.equal(l.statistic, c.statLess);
      near(l.pValue, c.pLess, EXACT_TOL, `${c.zeroMethod} less`);
      const a = wilcoxon(s, null, { zeroMethod: c.zeroMethod, method: 'approx' });
      near(a.pValue, c.pApprox, APPROX_TOL, `${c.zeroMethod} approx`);
      near(a.z, c.zApprox, APPROX_TOL, `${c.zeroMethod} approx z`);
    }
  });

  it('forced exact with ties at larger n agrees with exhaustive enumeration', () => {
    const t = [0, 0, 1.5, -1.5, 2, 2, 3, -3, 3, 4, 5, -6, 7, 7.5, -0.5, 8, 9];
    for (const zeroMethod of ['wilcox', 'pratt'] as const) {
      for (const alternative of ['two-sided', 'greater', 'less'] as const) {
        const r = wilcoxon(t, null, { method: 'exact', zeroMethod, alternative });
        assert.equal(r.method, 'exact');
        near(r.pValue, bruteForceP(t, alternative, zeroMethod), EXACT_TOL, `${zeroMethod} ${alternative}`);
      }
    }
  });

  it('auto switches to the normal approximation above 50 pairs (scipy 1.17.1 reference)', () => {
    const big = Array.from({ length: 60 }, (_, i) => ((i * 37) % 101) - 40 + 0.01 * i);
    const r = wilcoxon(big);
    assert.equal(r.method, 'approx');
    assert.equal(r.statistic, 602);
    near(r.pValue, 0.02121244381192546, APPROX_TOL, 'auto p');
    const cc = wilcoxon(big, null, { correction: true });
    near(cc.pValue, 0.021419856207743976, APPROX_TOL, 'cc p');
    near(cc.z, 2.300500938008284, APPROX_TOL, 'cc z');
    // forcing exact at n = 60 is still fast and close to the approximation
    const ex = wilcoxon(big, null, { method: 'exact' });
    assert.equal(ex.method, 'exact');
    near(ex.pValue, r.pValue, 2e-3, 'exact vs approx');
  });

  it('symmetry: swapping x and y keeps the two-sided p and swaps W+ and W-', () => {
    const x = [0.81, 0.77, 0.9, 0.62, 0.85, 0.7, 0.88, 0.79];
    const y = [0.8, 0.74, 0.91, 0.55, 0.8, 0.69, 0.83, 0.7];
    const a = wilcoxon(x, y);
    const b = wilcoxon(y, x);
    assert.equal(a.pValue, b.pValue);
    assert.equal(a.wPlus, b.wMinus);
    assert.equal(a.statistic, b.statistic);
  });

  it('errors and the degenerate all-zero case', () => {
    assert.throws(() => wilcoxon([1, 2], [1]), { name: 'RangeError', message: /^y: length 1/ });
    assert.throws(() => wilcoxon([], []), { name: 'RangeError', message: /^x: no observations/ });
    assert.throws(() => wilcoxon([1, NaN], [0, 0]), { name: 'RangeError', message: /^x: element 1/ });
    assert.throws(() => wilcoxon([1, 2], [0, Infinity]), { name: 'RangeError', message: /^y: element 1/ });
    assert.throws(() => wilcoxon([1, 2], null, { method: 'fast' as never }), { name: 'TypeError', message: /^options.method/ });
    assert.throws(() => wilcoxon([1, 2], null, { zeroMethod: 'zsplit' as never }), { name: 'TypeError' });
    for (const zeroMethod of ['wilcox', 'pratt'] as const) {
      const r = wilcoxon([0.5, 0.7, 0.9], [0.5, 0.7, 0.9], { zeroMethod });
      assert.equal(r.n, 0);
      assert.equal(r.nZero, 3);
      assert.equal(r.statistic, 0);
      assert.ok(Number.isNaN(r.pValue));
    }
  });
});
