// The Dice table as plain text for a terminal: one row per arm (model, variant, training-set
// size), mean Dice per organ and overall (mean ± sd across seeds where there are several),
// and each arm's headline comparison on the subjects' average: a distilled arm against the
// control (else the pretrained student), the control against the pretrained student.
import { summarizeArms } from '../eval/arm-summary.js';
import { AVERAGE, CONTROL_VARIANT, compareArms, type Comparison } from '../eval/comparisons.js';
import type { EvaluationResult } from '../eval/results.js';
import { ciReading, ciText, formatP, headlineSeed, primaryFor, signed } from './comparison-format.js';
import { armLabel, comparisonLabel, type ArmNames } from './labels.js';

const SHORT: Record<string, string> = { spleen: 'spleen', 'right kidney': 'r.kid', 'left kidney': 'l.kid', liver: 'liver', stomach: 'stomach', aorta: 'aorta' };

export interface ConsoleTableOptions extends ArmNames {
  decimals?: number;
  /** The evaluation's comparison rows (default: computed from the results). */
  comparisons?: readonly Comparison[];
}

function layout(header: string[], rows: string[][], left: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export function diceTableText(results: readonly EvaluationResult[], options: ConsoleTableOptions = {}): string {
  if (results.length === 0) return '(no results)\n';
  const dec = options.decimals ?? 3;
  const comparisons = options.comparisons ?? compareArms(results, options);
  const arms = summarizeArms(results);
  const seeds = Math.max(...arms.map((a) => a.seeds.length));
  const fmt = (v: number | null, sd: number | null) =>
    v === null ? '-' : seeds > 1 ? `${v.toFixed(dec)}±${sd === null ? '-' : sd.toFixed(dec)}` : v.toFixed(dec);
  const header = [
    'model',
    'arm',
    'n',
    ...(seeds > 1 ? ['seeds'] : []),
    ...results[0]!.organs.map((o) => SHORT[o] ?? o),
    'mean',
    'vs',
    'diff',
    '95% CI',
    'Holm p',
  ];
  const rows = arms.map((a) => {
    const c = primaryFor(comparisons, a, options.control);
    const arm = `${armLabel(a.variant, options)}${a.trainingSubjects !== undefined ? ` (${a.trainingSubjects} subj.)` : ''}`;
    const test = c ? [armLabel(c.baseline, options), signed(c.meanDiff, dec), ciText(c.ci95, dec), formatP(c.pHolm)] : ['', '', '', ''];
    return [
      a.model,
      arm,
      String(a.subjects),
      ...(seeds > 1 ? [String(a.seeds.length)] : []),
      ...a.perOrgan.map((v, k) => fmt(v, a.perOrganSd[k] ?? null)),
      fmt(a.average, a.averageSd),
      ...test,
    ];
  });
  return layout(header, rows, 2);
}

/**
 * One line per distilled arm's primary comparison (against the control) on the subjects'
 * average, with its CI read plainly: "CI contains 0" is no evidence of a difference.
 */
export function primaryComparisonText(comparisons: readonly Comparison[], options: ArmNames & { decimals?: number } = {}): string {
  const seed = headlineSeed(comparisons);
  const control = options.control;
  const rows = comparisons.filter((c) => c.organ === AVERAGE && c.seed === seed && c.baseline === (control ?? CONTROL_VARIANT));
  if (rows.length === 0) return '(no comparison against the control)\n';
  const dec = options.decimals ?? 3;
  return (
    rows
      .map((c) => {
        const what = `${c.model}${c.trainingSubjects !== undefined ? ` (${c.trainingSubjects} subj.)` : ''}${seed === 'mean' ? ' [seed-averaged]' : ''}: ${comparisonLabel(c, options)}`;
        return `${what}: mean diff ${signed(c.meanDiff, dec)}, 95% CI ${ciText(c.ci95, dec)} (${ciReading(c.ci95)}), Holm p ${formatP(c.pHolm)}, n = ${c.n}`;
      })
      .join('\n') + '\n'
  );
}
