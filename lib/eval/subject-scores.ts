// Per-subject Dice of single slices under a scoring policy, with false positives kept apart.
//
// A subject may own several slices. 'present' pools organ k over the subject's slices whose
// truth holds k (as the paper scores the spleen only on the slices that contain it); a slice
// whose truth lacks k but whose prediction has k adds to k's false positives instead of
// pulling its Dice to 0. 'union' pools every slice (the first policy: an organ predicted where
// the truth lacks it in every slice scores 0). False positives are reported under both.

import { diceCounts, diceFromCounts, NUM_CLASSES, type DiceCounts, type FalsePositives, type SubjectDice } from './dice.js';

/** How an organ is scored per subject (the pipeline's evaluation.policy has the same values). */
export type ScoringPolicy = 'present' | 'union';
export const SCORING_POLICIES: readonly ScoringPolicy[] = ['present', 'union'];
export type { FalsePositives };

export interface SubjectScorerOptions {
  /** Default 'present'. */
  policy?: ScoringPolicy;
  numClasses?: number;
  /** Class ids to score, in this order (default 1..numClasses-1). */
  classes?: number[];
  ignoreIndex?: number;
}

/** The scores of one subject: add() each of its slices, result() pools them. */
export class SubjectScorer {
  readonly policy: ScoringPolicy;
  readonly numClasses: number;
  readonly classes: readonly number[];
  readonly ignoreIndex: number | undefined;
  private pooled: DiceCounts;
  private fpSlices: Float64Array;
  private fpArea: Float64Array;
  private slices = 0;

  constructor(options: SubjectScorerOptions = {}) {
    this.policy = options.policy ?? 'present';
    if (!SCORING_POLICIES.includes(this.policy)) throw new RangeError(`policy: expected 'present' or 'union', got ${JSON.stringify(this.policy)}`);
    this.numClasses = options.numClasses ?? NUM_CLASSES;
    this.ignoreIndex = options.ignoreIndex;
    this.classes = options.classes ?? Array.from({ length: this.numClasses - 1 }, (_, i) => i + 1);
    if (!(Number.isInteger(this.numClasses) && this.numClasses >= 1)) throw new RangeError(`numClasses: expected a positive integer, got ${this.numClasses}`);
    for (const k of this.classes)
      if (!(Number.isInteger(k) && k >= 0 && k < this.numClasses)) throw new RangeError(`classes: ${k} is outside [0, ${this.numClasses})`);
    this.pooled = { intersection: new Float64Array(this.numClasses), predicted: new Float64Array(this.numClasses), truth: new Float64Array(this.numClasses) };
    this.fpSlices = new Float64Array(this.numClasses);
    this.fpArea = new Float64Array(this.numClasses);
  }

  /** One slice: its prediction, truth (same layout) and the area of one pixel in mm2. */
  add(prediction: ArrayLike<number>, truth: ArrayLike<number>, pixelAreaMm2: number): this {
    if (!(Number.isFinite(pixelAreaMm2) && pixelAreaMm2 > 0)) throw new RangeError(`pixelAreaMm2: expected a positive number, got ${pixelAreaMm2}`);
    const c = diceCounts(prediction, truth, this.numClasses, this.ignoreIndex); // validates before anything is added
    for (let k = 0; k < this.numClasses; k++) {
      if (c.truth[k] === 0 && c.predicted[k] > 0) {
        this.fpSlices[k]++;
        this.fpArea[k] += c.predicted[k] * pixelAreaMm2;
      }
      if (this.policy === 'union' || c.truth[k] > 0) {
        this.pooled.intersection[k] += c.intersection[k];
        this.pooled.predicted[k] += c.predicted[k];
        this.pooled.truth[k] += c.truth[k];
      }
    }
    this.slices++;
    return this;
  }

  get count(): number {
    return this.slices;
  }

  /** Dice per scored class (null: under 'present', no slice's truth holds it; under 'union', absent from both), false positives aligned with it. */
  result(subject: string): SubjectDice {
    return {
      subject,
      dice: diceFromCounts(this.pooled, this.classes),
      falsePositives: this.classes.map((k) => ({ slices: this.fpSlices[k]!, areaMm2: this.fpArea[k]! })),
      slices: this.slices,
    };
  }
}

/** One scored slice of some subject. */
export interface ScoredSlice {
  subject: string;
  prediction: ArrayLike<number>;
  truth: ArrayLike<number>;
  pixelAreaMm2: number;
}

/** Scores per subject, pooling each subject's slices; subjects in order of first appearance. */
export function scoreSubjects(slices: Iterable<ScoredSlice>, options: SubjectScorerOptions = {}): SubjectDice[] {
  const bySubject = new Map<string, SubjectScorer>();
  for (const s of slices) {
    let scorer = bySubject.get(s.subject);
    if (!scorer) bySubject.set(s.subject, (scorer = new SubjectScorer(options)));
    scorer.add(s.prediction, s.truth, s.pixelAreaMm2);
  }
  return [...bySubject].map(([subject, scorer]) => scorer.result(subject));
}

/** Per organ, summed over subjects: false-positive slices, area (mm2) and the subjects with any. */
export interface FalsePositiveTotal extends FalsePositives {
  subjects: number;
}

/** Totals of the subjects' false positives per organ (subjects without the field count as none). */
export function falsePositiveTotals(subjects: readonly SubjectDice[], numOrgans: number): FalsePositiveTotal[] {
  const totals = Array.from({ length: numOrgans }, (): FalsePositiveTotal => ({ slices: 0, areaMm2: 0, subjects: 0 }));
  for (const s of subjects) {
    s.falsePositives?.forEach((fp, k) => {
      const t = totals[k];
      if (!t) return;
      t.slices += fp.slices;
      t.areaMm2 += fp.areaMm2;
      if (fp.slices > 0) t.subjects++;
    });
  }
  return totals;
}
