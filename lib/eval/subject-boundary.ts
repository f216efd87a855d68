// Per-subject IoU, HD95 and normalised surface Dice, the slices of a subject pooled under the
// same policy as its Dice (lib/eval/subject-scores.ts): under 'present' an organ's surfaces are
// pooled over the slices whose truth holds it, under 'union' over every slice.
import type { SubjectDice } from './dice.js';
import type { ScoringPolicy } from './subject-scores.js';
import { classMask, DEFAULT_TOLERANCE_MM, SurfaceAccumulator, type Grid } from './surface.js';

export interface BoundarySlice {
  subject: string;
  prediction: ArrayLike<number>;
  truth: ArrayLike<number>;
  grid: Grid;
}

export interface SubjectBoundary {
  subject: string;
  hd95: (number | null)[];
  nsd: (number | null)[];
}

/** HD95 (mm) and NSD per subject and class (in `classes` order); subjects in order of first appearance. */
export function subjectBoundaryScores(
  slices: Iterable<BoundarySlice>,
  classes: readonly number[],
  options: { policy?: ScoringPolicy; toleranceMm?: number } = {},
): SubjectBoundary[] {
  const policy = options.policy ?? 'present';
  const tolerance = options.toleranceMm ?? DEFAULT_TOLERANCE_MM;
  const bySubject = new Map<string, SurfaceAccumulator[]>();
  for (const s of slices) {
    let acc = bySubject.get(s.subject);
    if (!acc) bySubject.set(s.subject, (acc = classes.map(() => new SurfaceAccumulator(tolerance))));
    classes.forEach((k, i) => {
      const truth = classMask(s.truth, k);
      if (policy === 'present' && !truth.includes(1)) return; // a false positive there is counted apart
      acc![i]!.add(classMask(s.prediction, k), truth, s.grid);
    });
  }
  return [...bySubject].map(([subject, acc]) => {
    const r = acc.map((a) => a.result());
    return { subject, hd95: r.map((x) => x.hd95), nsd: r.map((x) => x.nsd) };
  });
}

/** IoU from Dice of the same pooled counts: IoU = D / (2 - D). */
export function iouFromDice(d: number | null): number | null {
  return d === null ? null : d / (2 - d);
}

/** The subjects' Dice with IoU, HD95 and NSD attached (matched by subject). */
export function withBoundary(scores: readonly SubjectDice[], boundary: readonly SubjectBoundary[]): SubjectDice[] {
  const by = new Map(boundary.map((b) => [b.subject, b]));
  return scores.map((s) => {
    const b = by.get(s.subject);
    return { ...s, iou: s.dice.map(iouFromDice), hd95: b?.hd95 ?? s.dice.map(() => null), nsd: b?.nsd ?? s.dice.map(() => null) };
  });
}
