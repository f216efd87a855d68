// The Dice table as plain text for a terminal: one row per model and variant, mean Dice per
// organ and overall, and the Wilcoxon p-value of each distilled variant against its model's
// baseline variant ('none' unless given) on per-subject means.
import { compareResults, summarizeResult, type EvaluationResult } from '../eval/results.js';

const SHORT: Record<string, string> = { spleen: 'spleen', 'right kidney': 'r.kid', 'left kidney': 'l.kid', liver: 'liver', stomach: 'stomach', aorta: 'aorta' };

export function diceTableText(results: readonly EvaluationResult[], options: { baseline?: string; decimals?: number } = {}): string {
  if (results.length === 0) return '(no results)\n';
  const baseline = options.baseline ?? 'none';
  const dec = options.decimals ?? 3;
  const organs = results[0]!.organs;
  const header = ['model', 'variant', 'n', ...organs.map((o) => SHORT[o] ?? o), 'mean', `p vs ${baseline}`];
  const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(dec));
  const rows = results.map((r) => {
    const s = summarizeResult(r);
    const base = results.find((b) => b.model === r.model && b.variant === baseline && b.trainingSubjects === r.trainingSubjects);
    const test = base && base !== r ? compareResults(r, base) : null;
    const variant = r.trainingSubjects !== undefined ? `${r.variant} (${r.trainingSubjects} subj.)` : r.variant;
    return [r.model, variant, String(r.perSubject.length), ...s.perOrgan.map(fmt), fmt(s.overall), test ? test.pValue.toPrecision(2) : ''];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
