// Dice similarity coefficients of label maps, per class, on plain arrays.
//
// Dice_k = 2 |P_k ∩ T_k| / (|P_k| + |T_k|) for class k, where P_k / T_k are the pixels (voxels)
// labelled k in the prediction / truth. A class absent from both is not scored (null: it
// neither rewards nor penalises a model); present in one only, it scores 0.
// Label maps are flat arrays of integer class ids (any ArrayLike: Uint8Array, Int32Array,
// Float32Array holding integers, number[]); their layout does not matter as long as the
// prediction and the truth share it.

import { CLASSES, NUM_CLASSES } from '../data/labels.js';

/** The organ names of the project's label set (class ids 1..6; 0 is background). */
export const ORGANS = CLASSES.slice(1) as readonly (typeof CLASSES)[number][];
export { NUM_CLASSES };

export interface DiceOptions {
  /** Pixels whose truth equals this label are skipped (neither counted nor validated in the prediction). */
  ignoreIndex?: number;
  /** Class ids to score, in this order (default 1..numClasses-1: every class but background 0). */
  classes?: number[];
}

/** Per-class voxel counts: the sufficient statistics of Dice. */
export interface DiceCounts {
  /** |P_k ∩ T_k| for every class id 0..numClasses-1. */
  intersection: Float64Array;
  /** |P_k|. */
  predicted: Float64Array;
  /** |T_k|. */
  truth: Float64Array;
}

function resolveClasses(numClasses: number, classes: number[] | undefined): number[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses: expected a positive integer, got ${numClasses}`);
  if (classes === undefined) return Array.from({ length: numClasses - 1 }, (_, i) => i + 1);
  if (!Array.isArray(classes)) throw new TypeError('options.classes: expected an array of class ids');
  for (const k of classes) {
    if (!Number.isInteger(k) || k < 0 || k >= numClasses) throw new RangeError(`options.classes: class ${k} is outside [0, ${numClasses})`);
  }
  return classes.slice();
}

function emptyCounts(numClasses: number): DiceCounts {
  return { intersection: new Float64Array(numClasses), predicted: new Float64Array(numClasses), truth: new Float64Array(numClasses) };
}

/** Adds the per-class counts of one prediction / truth pair into `counts`. */
function accumulate(counts: DiceCounts, prediction: ArrayLike<number>, truth: ArrayLike<number>, numClasses: number, ignoreIndex: number | undefined): void {
  if (prediction == null || truth == null || typeof prediction.length !== 'number' || typeof truth.length !== 'number') {
    throw new TypeError('prediction, truth: expected arrays of class ids');
  }
  if (prediction.length !== truth.length) {
    throw new RangeError(`truth: length ${truth.length} does not match the prediction (length ${prediction.length})`);
  }
  const { intersection, predicted, truth: truthCount } = counts;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (ignoreIndex !== undefined && t === ignoreIndex) continue;
    const p = prediction[i];
    // integer ids in range (the comparisons also reject NaN)
    if (!(t >= 0 && t < numClasses && Math.floor(t) === t)) throw new RangeError(`truth: element ${i} is ${t}, not a class id in [0, ${numClasses})`);
    if (!(p >= 0 && p < numClasses && Math.floor(p) === p)) throw new RangeError(`prediction: element ${i} is ${p}, not a class id in [0, ${numClasses})`);
    predicted[p]++;
    truthCount[t]++;
    if (p === t) intersection[p]++;
  }
}

/** The per-class counts of one prediction / truth pair (indexed by class id; validates both). */
export function diceCounts(prediction: ArrayLike<number>, truth: ArrayLike<number>, numClasses: number, ignoreIndex?: number): DiceCounts {
  const counts = emptyCounts(numClasses);
  accumulate(counts, prediction, truth, numClasses, ignoreIndex);
  return counts;
}

/** Dice per class in `classes` from summed counts (null where the class is absent from both). */
export function diceFromCounts(counts: DiceCounts, classes: readonly number[]): (number | null)[] {
  return classes.map((k) => {
    const denominator = counts.predicted[k] + counts.truth[k];
    return denominator === 0 ? null : (2 * counts.intersection[k]) / denominator;
  });
}

/**
 * Dice per class of one prediction against its truth: an array aligned with `options.classes`
 * (default classes 1..numClasses-1, so entry 0 is class 1). null where the class is absent
 * from both. Throws a RangeError for mismatched lengths or labels outside [0, numClasses).
 */
export function diceScores(prediction: ArrayLike<number>, truth: ArrayLike<number>, numClasses: number, options: DiceOptions = {}): (number | null)[] {
  const classes = resolveClasses(numClasses, options.classes);
  const counts = emptyCounts(numClasses);
  accumulate(counts, prediction, truth, numClasses, options.ignoreIndex);
  return diceFromCounts(counts, classes);
}

/**
 * Dice of one subject built from several slices (or chunks of a volume): add() each
 * prediction / truth pair, result() gives Dice from the summed intersections and sizes, the
 * same as diceScores on all slices concatenated (not the mean of per-slice Dice).
 */
export class DiceAccumulator {
  readonly numClasses: number;
  readonly classes: readonly number[];
  readonly ignoreIndex: number | undefined;
  private counts: DiceCounts;
  private slices = 0;

  constructor(numClasses: number, options: DiceOptions = {}) {
    this.classes = resolveClasses(numClasses, options.classes);
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex;
    this.counts = emptyCounts(numClasses);
  }

  /** Adds one prediction / truth pair; returns this for chaining. */
  add(prediction: ArrayLike<number>, truth: ArrayLike<number>): this {
    // validate into a scratch copy first, so a bad slice leaves the totals untouched
    const scratch = emptyCounts(this.numClasses);
    accumulate(scratch, prediction, truth, this.numClasses, this.ignoreIndex);
    for (let k = 0; k < this.numClasses; k++) {
      this.counts.intersection[k] += scratch.intersection[k];
      this.counts.predicted[k] += scratch.predicted[k];
      this.counts.truth[k] += scratch.truth[k];
    }
    this.slices++;
    return this;
  }

  /** Number of add() calls since construction or reset(). */
  get count(): number {
    return this.slices;
  }

  /** Copies of the accumulated per-class counts (indexed by class id). */
  totals(): DiceCounts {
    return {
      intersection: this.counts.intersection.slice(),
      predicted: this.counts.predicted.slice(),
      truth: this.counts.truth.slice(),
    };
  }

  /** Dice per scored class from the summed counts (null for a class absent from everything added). */
  result(): (number | null)[] {
    return diceFromCounts(this.counts, this.classes as number[]);
  }

  reset(): void {
    this.counts = emptyCounts(this.numClasses);
    this.slices = 0;
  }
}

/** Slices where an organ was predicted but the truth lacks it, and the predicted area there. */
export interface FalsePositives {
  slices: number;
  /** Predicted pixels on those slices times each slice's pixel area (native in-plane spacing). */
  areaMm2: number;
}

/** Dice of one subject, per organ (aligned with the organ list of its evaluation). */
export interface SubjectDice {
  subject: string;
  dice: (number | null)[];
  /** Per organ (aligned with dice): predictions on the subject's slices whose truth lacks the organ. */
  falsePositives?: FalsePositives[];
  /** How many slices of the subject were scored. */
  slices?: number;
  /** Per organ (aligned with dice), pooled like it: IoU, HD95 in mm and the normalised surface Dice (lib/eval/surface.ts); null where undefined. */
  iou?: (number | null)[];
  hd95?: (number | null)[];
  nsd?: (number | null)[];
}

export interface DiceSummary {
  /** Mean per organ over the subjects that have a value (null if none has). */
  perOrgan: (number | null)[];
  /** Sample standard deviation per organ (null with fewer than 2 values). */
  perOrganStd: (number | null)[];
  /** Number of subjects with a value, per organ. */
  perOrganCount: number[];
  /** Per subject, the mean over its non-null organs (null if all are null). */
  perSubject: { subject: string; mean: number | null }[];
  /** Mean over subjects of the per-subject means (subjects without any organ are left out). */
  overall: number | null;
  /** Sample standard deviation of the per-subject means. */
  overallStd: number | null;
  /** Mean of the per-organ means (weights every organ equally; differs from `overall` when organs are missing in some subjects). */
  meanOfOrgans: number | null;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleStd(values: number[]): number | null {
  if (values.length < 2) return null;
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

/** Mean of the non-null entries of one subject's Dice (null when all are null). */
export function subjectMean(dice: readonly (number | null)[]): number | null {
  return mean(dice.filter((v): v is number => v !== null));
}

/**
 * Per-organ and overall summaries of per-subject Dice. `numOrgans` defaults to the longest
 * dice array; shorter arrays count as null for the missing organs.
 */
export function summarizeDice(subjects: readonly SubjectDice[], numOrgans?: number): DiceSummary {
  const organs = numOrgans ?? subjects.reduce((m, s) => Math.max(m, s.dice.length), 0);
  const columns: number[][] = Array.from({ length: organs }, () => []);
  const perSubject: { subject: string; mean: number | null }[] = [];
  for (const s of subjects) {
    for (let k = 0; k < organs; k++) {
      const v = s.dice[k];
      if (v !== null && v !== undefined) {
        if (!Number.isFinite(v)) throw new RangeError(`dice: subject ${s.subject}, organ ${k} is ${v}`);
        columns[k].push(v);
      }
    }
    perSubject.push({ subject: s.subject, mean: subjectMean(s.dice.slice(0, organs)) });
  }
  const perOrgan = columns.map(mean);
  const subjectMeans = perSubject.map((s) => s.mean).filter((v): v is number => v !== null);
  return {
    perOrgan,
    perOrganStd: columns.map(sampleStd),
    perOrganCount: columns.map((c) => c.length),
    perSubject,
    overall: mean(subjectMeans),
    overallStd: sampleStd(subjectMeans),
    meanOfOrgans: mean(perOrgan.filter((v): v is number => v !== null)),
  };
}
