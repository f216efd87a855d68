// Per-subject scoring of several slices: Dice pooled under the 'present' and 'union' policies,
// false positives in slices and mm2, and the checks on results carrying them; every expected
// number is worked out by hand in the comments.
import assert from 'node:assert/strict';
import { falsePositiveTotals, scoreSubjects, SubjectScorer, summarizeDice, validateResult, type EvaluationResult } from '../../../lib/eval/index.js';

function near(actual: number | null | undefined, expected: number, tol = 1e-12): void {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);
}

// one subject, three slices of 6 pixels, classes 0..2 (organs 1 and 2)
const A = { truth: [1, 1, 1, 0, 0, 0], prediction: [1, 1, 0, 2, 0, 0], area: 0.7 * 0.9 }; // organ 2 not in truth, predicted on 1 pixel
const B = { truth: [1, 0, 2, 2, 0, 0], prediction: [1, 1, 2, 0, 0, 0], area: 1 };
const C = { truth: [0, 0, 0, 0, 0, 0], prediction: [1, 1, 0, 0, 0, 0], area: 0.8 * 1.5 }; // organ 1 not in truth, predicted on 2 pixels
const subjectOf = (policy: 'present' | 'union') => {
  const s = new SubjectScorer({ policy, numClasses: 3 });
  for (const x of [A, B, C]) s.add(x.prediction, x.truth, x.area);
  return s.result('s1');
};

describe('eval: per-subject scores of several slices', () => {
  it("'present' pools an organ over the slices whose truth holds it; the rest are false positives", () => {
    const r = subjectOf('present');
    // organ 1 on A and B: |P∩T| 2 + 1, |P| 2 + 2, |T| 3 + 1 -> 6 / 8
    near(r.dice[0], 0.75);
    // organ 2 on B only: |P∩T| 1, |P| 1, |T| 2 -> 2 / 3
    near(r.dice[1], 2 / 3);
    // organ 1: slice C, 2 pixels of 0.8 x 1.5 mm; organ 2: slice A, 1 pixel of 0.7 x 0.9 mm
    assert.equal(r.falsePositives![0]!.slices, 1);
    near(r.falsePositives![0]!.areaMm2, 2.4);
    assert.equal(r.falsePositives![1]!.slices, 1);
    near(r.falsePositives![1]!.areaMm2, 0.63);
    assert.equal(r.slices, 3);
  });

  it("'union' pools every slice (the first policy): the same false positives lower the Dice", () => {
    const r = subjectOf('union');
    // organ 1: |P∩T| 3, |P| 2 + 2 + 2, |T| 4 -> 6 / 10; organ 2: |P∩T| 1, |P| 1 + 1, |T| 2 -> 2 / 4
    near(r.dice[0], 0.6);
    near(r.dice[1], 0.5);
    assert.deepEqual(
      r.falsePositives!.map((f) => f.slices),
      [1, 1],
    );
    // neither policy is the mean of per-slice Dice (organ 1 per slice: 0.8, 2/3, 0 under union)
    assert.notEqual(r.dice[0], (0.8 + 2 / 3 + 0) / 3);
  });

  it('an organ absent from the truth of every slice: null under present (false positives only), 0 under union', () => {
    const truth = [0, 1, 1, 0];
    const prediction = [2, 1, 1, 2];
    const present = new SubjectScorer({ numClasses: 3 }).add(prediction, truth, 0.5).add(truth, truth, 0.5).result('x');
    assert.deepEqual(present.dice, [1, null]);
    assert.deepEqual(present.falsePositives, [
      { slices: 0, areaMm2: 0 },
      { slices: 1, areaMm2: 1 },
    ]);
    const union = new SubjectScorer({ numClasses: 3, policy: 'union' }).add(prediction, truth, 0.5).add(truth, truth, 0.5).result('x');
    assert.deepEqual(union.dice, [1, 0]);
    // the subject's average is the mean over its scored organs: 1 (present) against 0.5 (union)
    assert.equal(summarizeDice([present]).overall, 1);
    assert.equal(summarizeDice([union]).overall, 0.5);
  });

  it('scoreSubjects groups interleaved slices by subject, in order of first appearance; the default is the 7 classes', () => {
    const t = new Uint8Array([0, 1, 4, 4]);
    const p = new Uint8Array([0, 1, 4, 0]);
    const out = scoreSubjects(
      [
        { subject: 'b', prediction: p, truth: t, pixelAreaMm2: 1 },
        { subject: 'a', prediction: t, truth: t, pixelAreaMm2: 1 },
        { subject: 'b', prediction: new Uint8Array([6, 6, 4, 4]), truth: new Uint8Array([0, 0, 4, 4]), pixelAreaMm2: 0.25 },
      ],
      { policy: 'present' },
    );
    assert.deepEqual(
      out.map((s) => [s.subject, s.slices]),
      [
        ['b', 2],
        ['a', 1],
      ],
    );
    const b = out[0]!;
    // spleen (1) on slice 1: 1; liver (4): |P∩T| 1 + 2, |P| 1 + 2, |T| 2 + 2 -> 6 / 7; aorta (6): never in truth -> null
    assert.deepEqual([b.dice[0], b.dice[3], b.dice[5]], [1, 6 / 7, null]);
    assert.equal(b.dice.length, 6);
    assert.deepEqual(b.falsePositives![5], { slices: 1, areaMm2: 0.5 });
  });

  it('rejects a bad pixel area, policy or slice, leaving the totals untouched', () => {
    const s = new SubjectScorer({ numClasses: 3 });
    assert.throws(() => s.add([1], [1], 0), /pixelAreaMm2: expected a positive number/);
    assert.throws(() => s.add([1], [1], Number.NaN), RangeError);
    assert.throws(() => s.add([1, 5], [1, 1], 1), /prediction: element 1 is 5/);
    assert.throws(() => s.add([1], [1, 1], 1), /does not match/);
    assert.equal(s.count, 0);
    assert.deepEqual(s.result('x').dice, [null, null]);
    assert.throws(() => new SubjectScorer({ policy: 'all' as 'union' }), /policy: expected 'present' or 'union'/);
    assert.throws(() => new SubjectScorer({ numClasses: 3, classes: [3] }), /outside \[0, 3\)/);
  });

  it('false-positive totals per organ over subjects; validateResult accepts the fields and names a wrong one', () => {
    const r: EvaluationResult = {
      model: 'm',
      variant: 'none',
      organs: ['o1', 'o2'],
      perSubject: [subjectOf('present'), { ...subjectOf('union'), subject: 's2' }, { subject: 'old', dice: [0.5, null] }],
    };
    validateResult(r);
    const totals = falsePositiveTotals(r.perSubject, 2);
    assert.deepEqual(
      totals.map((t) => [t.slices, t.subjects]),
      [
        [2, 2],
        [2, 2],
      ],
    );
    near(totals[0]!.areaMm2, 4.8);
    near(totals[1]!.areaMm2, 1.26);
    const bad = (patch: object): EvaluationResult => ({ ...r, perSubject: [{ subject: 'x', dice: [0.5, 0.5], slices: 2, ...patch }] });
    assert.throws(() => validateResult(bad({ falsePositives: [{ slices: 0, areaMm2: 0 }] })), /false positives for 1 organs, not 2/);
    assert.throws(
      () =>
        validateResult(
          bad({
            falsePositives: [
              { slices: 1, areaMm2: -1 },
              { slices: 0, areaMm2: 0 },
            ],
          }),
        ),
      /has false positives/,
    );
    assert.throws(
      () =>
        validateResult(
          bad({
            falsePositives: [
              { slices: 3, areaMm2: 1 },
              { slices: 0, areaMm2: 0 },
            ],
          }),
        ),
      /has false positives/,
    );
    assert.throws(
      () =>
        validateResult(
          bad({
            falsePositives: [
              { slices: 0, areaMm2: 2 },
              { slices: 0, areaMm2: 0 },
            ],
          }),
        ),
      /0 without slices/,
    );
    assert.throws(() => validateResult(bad({ slices: 0 })), /slices 0, not a positive integer/);
  });
});
