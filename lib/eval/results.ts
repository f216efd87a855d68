// Evaluation results of one model variant on a test set, and paired comparisons between two.

import { summarizeDice, subjectMean, type DiceSummary, type SubjectDice } from './dice.js';
import { wilcoxon, type WilcoxonOptions, type WilcoxonResult } from './wilcoxon.js';

/** Per-subject Dice of one model variant (e.g. DeepLabv3 without / with distillation). */
export interface EvaluationResult {
  /** The student architecture, e.g. 'DeepLabv3'. */
  model: string;
  /** How it was trained, e.g. 'none' (no distillation) or 'UNesT all phases'. */
  variant: string;
  /** Organ names; every dice array is aligned with this list. */
  organs: string[];
  perSubject: SubjectDice[];
  /** Number of training subjects (for the low-data curve); absent for full-data runs if not known. */
  trainingSubjects?: number;
  /** The training seed of the student arm, where an experiment repeats arms over several seeds. */
  seed?: number;
}

/** Checks the shape of a result; throws a RangeError / TypeError naming what is wrong. */
export function validateResult(r: EvaluationResult): void {
  if (typeof r.model !== 'string' || typeof r.variant !== 'string') throw new TypeError('result: model and variant must be strings');
  if (r.seed !== undefined && !Number.isInteger(r.seed)) throw new TypeError(`result ${r.model}/${r.variant}: seed must be an integer, got ${String(r.seed)}`);
  if (!Array.isArray(r.organs) || !Array.isArray(r.perSubject)) throw new TypeError(`result ${r.model}/${r.variant}: organs and perSubject must be arrays`);
  const seen = new Set<string>();
  for (const s of r.perSubject) {
    if (seen.has(s.subject)) throw new RangeError(`result ${r.model}/${r.variant}: subject ${s.subject} appears twice`);
    seen.add(s.subject);
    if (s.dice.length !== r.organs.length) {
      throw new RangeError(`result ${r.model}/${r.variant}: subject ${s.subject} has ${s.dice.length} Dice values for ${r.organs.length} organs`);
    }
    for (const v of s.dice) {
      if (v !== null && !(typeof v === 'number' && v >= 0 && v <= 1))
        throw new RangeError(`result ${r.model}/${r.variant}: subject ${s.subject} has Dice ${String(v)} outside [0, 1]`);
    }
    checkSubjectExtras(r, s);
  }
}

/** The optional slice count and false positives of one subject (older results have neither). */
function checkSubjectExtras(r: EvaluationResult, s: SubjectDice): void {
  const at = `result ${r.model}/${r.variant}: subject ${s.subject}`;
  if (s.slices !== undefined && !(Number.isInteger(s.slices) && s.slices >= 1))
    throw new RangeError(`${at} has slices ${String(s.slices)}, not a positive integer`);
  for (const [name, values, max] of [
    ['iou', s.iou, 1],
    ['nsd', s.nsd, 1],
    ['hd95', s.hd95, Infinity],
  ] as const) {
    if (values === undefined) continue;
    if (!Array.isArray(values) || values.length !== r.organs.length)
      throw new RangeError(`${at} has ${name} for ${Array.isArray(values) ? values.length : 'no list of'} organs, not ${r.organs.length}`);
    for (const v of values)
      if (v !== null && !(typeof v === 'number' && v >= 0 && v <= max)) throw new RangeError(`${at} has ${name} ${String(v)} outside [0, ${max}]`);
  }
  if (s.falsePositives === undefined) return;
  if (!Array.isArray(s.falsePositives) || s.falsePositives.length !== r.organs.length) {
    throw new RangeError(
      `${at} has false positives for ${Array.isArray(s.falsePositives) ? s.falsePositives.length : 'no list of'} organs, not ${r.organs.length}`,
    );
  }
  for (const fp of s.falsePositives) {
    const ok = fp !== null && typeof fp === 'object' && Number.isInteger(fp.slices) && fp.slices >= 0 && Number.isFinite(fp.areaMm2) && fp.areaMm2 >= 0;
    if (!ok || (fp.slices === 0 && fp.areaMm2 > 0) || (s.slices !== undefined && fp.slices > s.slices)) {
      throw new RangeError(`${at} has false positives ${JSON.stringify(fp)} (slices: an integer in 0..slices, areaMm2 >= 0, 0 without slices)`);
    }
  }
}

/** Per-organ and overall means of one result. */
export function summarizeResult(r: EvaluationResult): DiceSummary {
  return summarizeDice(r.perSubject, r.organs.length);
}

export interface PairedScores {
  subjects: string[];
  a: number[];
  b: number[];
}

/**
 * Scores of the subjects both results have a value for, in a's order: one organ's Dice
 * (organ = index into organs) or, by default, the per-subject mean over non-null organs.
 */
export function pairedScores(a: EvaluationResult, b: EvaluationResult, organ?: number): PairedScores {
  if (a.organs.length !== b.organs.length || a.organs.some((o, i) => o !== b.organs[i])) {
    throw new RangeError(`organs: ${a.model}/${a.variant} and ${b.model}/${b.variant} are evaluated on different organ lists`);
  }
  if (organ !== undefined && !(Number.isInteger(organ) && organ >= 0 && organ < a.organs.length)) {
    throw new RangeError(`organ: ${organ} is not an index into ${a.organs.length} organs`);
  }
  const score = (s: SubjectDice): number | null => (organ === undefined ? subjectMean(s.dice) : s.dice[organ]);
  const other = new Map(b.perSubject.map((s) => [s.subject, s]));
  const out: PairedScores = { subjects: [], a: [], b: [] };
  for (const s of a.perSubject) {
    const t = other.get(s.subject);
    if (!t) continue;
    const va = score(s);
    const vb = score(t);
    if (va === null || vb === null) continue;
    out.subjects.push(s.subject);
    out.a.push(va);
    out.b.push(vb);
  }
  return out;
}

/**
 * Wilcoxon signed-rank test of `a` against `b` on paired per-subject scores (see pairedScores).
 * Returns null when no subject is shared. wPlus counts subjects where a beats b.
 */
export function compareResults(
  a: EvaluationResult,
  b: EvaluationResult,
  options: WilcoxonOptions & { organ?: number } = {},
): (WilcoxonResult & { pairs: number }) | null {
  const { organ, ...test } = options;
  const p = pairedScores(a, b, organ);
  if (p.subjects.length === 0) return null;
  return { ...wilcoxon(p.a, p.b, test), pairs: p.subjects.length };
}
