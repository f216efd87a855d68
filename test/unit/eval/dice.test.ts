import assert from 'node:assert/strict';
import { DiceAccumulator, diceScores, summarizeDice, compareResults, pairedScores, validateResult, type EvaluationResult } from '../../../lib/eval/index.js';

function near(actual: number | null, expected: number, tol = 1e-12): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);
}

describe('eval: Dice', () => {
  it('empty prediction and truth: every organ is null (not counted)', () => {
    const zeros = new Uint8Array(16);
    assert.deepEqual(diceScores(zeros, zeros, 7), [null, null, null, null, null, null]);
  });

  it('one of the two empty scores 0', () => {
    const truth = new Uint8Array([0, 1, 1, 0, 0, 0]);
    const pred = new Uint8Array(6);
    assert.deepEqual(diceScores(pred, truth, 3), [0, null]);
    // an organ predicted where the truth has none (false positive) also scores 0
    assert.deepEqual(diceScores(truth, pred, 3), [0, null]);
  });

  it('partial overlap, by hand', () => {
    // truth class 1 on 4 pixels; prediction hits 3 of them and 1 background pixel
    const truth = [1, 1, 1, 1, 0, 0, 0, 0];
    const pred = [1, 1, 1, 0, 1, 0, 0, 0];
    // 2 * 3 / (4 + 4)
    near(diceScores(pred, truth, 2)[0], 0.75);
  });

  it('several classes on a 4 x 5 map, by hand', () => {
    // truth                 prediction
    // 0 1 1 0 0             0 1 1 1 0
    // 0 1 1 0 2             0 1 2 0 2
    // 3 3 0 0 2             3 0 0 0 2
    // 3 3 0 0 0             3 3 0 0 2
    const truth = Int32Array.from([0, 1, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 0, 0, 2, 3, 3, 0, 0, 0]);
    const pred = Float32Array.from([0, 1, 1, 1, 0, 0, 1, 2, 0, 2, 3, 0, 0, 0, 2, 3, 3, 0, 0, 2]);
    const d = diceScores(pred, truth, 5);
    // class 1: |T| 4, |P| 4, overlap 3 -> 6/8; class 2: |T| 2, |P| 4, overlap 2 -> 4/6;
    // class 3: |T| 4, |P| 3, overlap 3 -> 6/7; class 4 absent from both -> null
    near(d[0], 0.75);
    near(d[1], 2 / 3);
    near(d[2], 6 / 7);
    assert.equal(d[3], null);
    // explicit class list, background included, in the order asked
    const withBg = diceScores(pred, truth, 5, { classes: [0, 3] });
    // background: |T| 10, |P| 9, overlap 8 -> 16 / 19
    near(withBg[0], 16 / 19);
    near(withBg[1], 6 / 7);
  });

  it('ignoreIndex skips pixels whose truth is that label', () => {
    const truth = [1, 1, 255, 255, 0];
    const pred = [1, 0, 1, 1, 0];
    // without the ignored pixels: |T| 2, |P| 1, overlap 1 -> 2/3
    near(diceScores(pred, truth, 2, { ignoreIndex: 255 })[0], 2 / 3);
    assert.throws(() => diceScores(pred, truth, 2), { name: 'RangeError', message: /^truth: element 2 is 255/ });
  });

  it('accumulating over slices equals one big array', () => {
    const slices: { p: Uint8Array; t: Uint8Array }[] = [];
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let s = 0; s < 5; s++) {
      const t = new Uint8Array(64);
      const p = new Uint8Array(64);
      for (let i = 0; i < 64; i++) {
        // class 6 only in slice 2 (and predicted nowhere), class 5 never present
        t[i] = s === 2 && i < 5 ? 6 : Math.floor(rnd() * 5);
        p[i] = rnd() < 0.7 && t[i] !== 6 ? t[i] : Math.floor(rnd() * 5);
      }
      slices.push({ p, t });
    }
    const acc = new DiceAccumulator(7);
    for (const { p, t } of slices) acc.add(p, t);
    const all = (key: 'p' | 't'): Uint8Array => {
      const out = new Uint8Array(64 * slices.length);
      slices.forEach((s, i) => out.set(s[key], 64 * i));
      return out;
    };
    const whole = diceScores(all('p'), all('t'), 7);
    assert.deepEqual(acc.result(), whole);
    assert.equal(acc.count, 5);
    assert.equal(whole[4], null); // class 5
    assert.equal(whole[5], 0); // class 6: in the truth, never predicted
    // per-slice Dice differ from the pooled one in general: pooling is not averaging
    const perSliceMean = slices.map((s) => diceScores(s.p, s.t, 7)[0] as number).reduce((a, b) => a + b, 0) / 5;
    assert.ok(Math.abs(perSliceMean - (whole[0] as number)) < 0.2);
    // a bad slice throws and leaves the totals as they were
    assert.throws(() => acc.add(new Uint8Array([9]), new Uint8Array([0])), { name: 'RangeError', message: /^prediction: element 0 is 9/ });
    assert.deepEqual(acc.result(), whole);
    acc.reset();
    assert.deepEqual(acc.result(), [null, null, null, null, null, null]);
  });

  it('argument errors', () => {
    assert.throws(() => diceScores([0, 1], [0], 2), { name: 'RangeError', message: /^truth: length 1/ });
    assert.throws(() => diceScores([0, 1.5], [0, 1], 2), { name: 'RangeError', message: /^prediction: element 1/ });
    assert.throws(() => diceScores([0, -1], [0, 1], 2), { name: 'RangeError' });
    assert.throws(() => diceScores([0, 1], [0, NaN], 2), { name: 'RangeError', message: /^truth: element 1/ });
    assert.throws(() => diceScores([0], [0], 0), { name: 'RangeError', message: /^numClasses/ });
    assert.throws(() => diceScores([0], [0], 3, { classes: [3] }), { name: 'RangeError', message: /^options.classes/ });
  });

  it('summaries: per-organ means over subjects with a value, per-subject means over their organs', () => {
    const s = summarizeDice([
      { subject: 'a', dice: [0.8, null, 0.6] },
      { subject: 'b', dice: [0.6, 0.9, null] },
      { subject: 'c', dice: [null, null, null] },
    ]);
    near(s.perOrgan[0], 0.7);
    near(s.perOrgan[1], 0.9);
    near(s.perOrgan[2], 0.6);
    assert.deepEqual(s.perOrganCount, [2, 1, 1]);
    near(s.perOrganStd[0], Math.sqrt(0.02));
    assert.equal(s.perOrganStd[1], null);
    near(s.perSubject[0].mean, 0.7);
    near(s.perSubject[1].mean, 0.75);
    assert.equal(s.perSubject[2].mean, null);
    near(s.overall, 0.725); // (0.7 + 0.75) / 2, subject c has nothing to count
    near(s.meanOfOrgans, (0.7 + 0.9 + 0.6) / 3);
    assert.equal(summarizeDice([]).overall, null);
  });

  it('paired comparison of two results by subject', () => {
    const organs = ['spleen', 'liver'];
    const base: EvaluationResult = {
      model: 'DeepLabv3',
      variant: 'none',
      organs,
      perSubject: [
        { subject: 's1', dice: [0.7, 0.9] },
        { subject: 's2', dice: [0.6, null] },
        { subject: 's3', dice: [0.5, 0.8] },
        { subject: 's4', dice: [0.65, 0.85] },
      ],
    };
    const dist: EvaluationResult = {
      ...base,
      variant: 'UNesT',
      perSubject: [
        { subject: 's3', dice: [0.55, 0.82] },
        { subject: 's1', dice: [0.72, 0.93] },
        { subject: 's2', dice: [null, 0.7] },
        { subject: 's5', dice: [0.9, 0.9] },
      ],
    };
    validateResult(base);
    validateResult(dist);
    const spleen = pairedScores(dist, base, 0);
    assert.deepEqual(spleen.subjects, ['s3', 's1']);
    assert.deepEqual(spleen.a, [0.55, 0.72]);
    const means = pairedScores(dist, base);
    assert.deepEqual(means.subjects, ['s3', 's1', 's2']);
    near(means.a[2], 0.7);
    near(means.b[2], 0.6);
    const cmp = compareResults(dist, base);
    assert.ok(cmp);
    assert.equal(cmp.pairs, 3);
    assert.equal(cmp.wPlus, 6); // distillation better on all three subjects
    near(cmp.pValue, 0.25, 1e-12); // exact: 2 * 1/8
    assert.throws(() => validateResult({ ...base, perSubject: [{ subject: 'x', dice: [1.2, 0] }] }), { name: 'RangeError' });
    assert.throws(() => pairedScores(base, { ...dist, organs: ['liver', 'spleen'] }), { name: 'RangeError', message: /^organs/ });
  });
});
