// The report's boundary table: per model and arm, the mean HD95 (mm) and the mean normalised
// surface Dice per organ over the subjects where each is defined (lib/eval/surface.ts). Shown
// only for results that carry them (evaluations made before these metrics have none).
import type { EvaluationResult } from '../eval/results.js';
import { escapeXml } from './svg.js';

function meanOf(values: (number | null | undefined)[]): { mean: number | null; n: number } {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return { mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null, n: v.length };
}

export function boundaryTableHtml(results: readonly EvaluationResult[], options: { label: (s: string) => string; toleranceMm?: number }): string {
  const shown = results.filter((r) => r.perSubject.some((s) => s.hd95 || s.nsd));
  if (shown.length === 0) return '';
  const organs = shown[0]!.organs;
  const rows = shown.map((r) => {
    const cells = organs.map((_, k) => {
      const hd = meanOf(r.perSubject.map((s) => s.hd95?.[k]));
      const nsd = meanOf(r.perSubject.map((s) => s.nsd?.[k]));
      const missing = r.perSubject.filter((s) => s.dice[k] !== null && (s.hd95?.[k] ?? null) === null).length;
      const hdText = hd.mean === null ? '–' : hd.mean.toFixed(1);
      return `<td data-model="${escapeXml(r.model)}" data-variant="${escapeXml(r.variant)}" data-column="${escapeXml(organs[k]!)}" title="HD95 over ${hd.n} subjects (${missing} missing: an empty mask); NSD over ${nsd.n}">${hdText}${missing ? `<sup>${missing}</sup>` : ''} / ${nsd.mean === null ? '–' : nsd.mean.toFixed(3)}</td>`;
    });
    const seed = r.seed !== undefined ? ` [seed ${r.seed}]` : '';
    return `<tr><td class="model">${escapeXml(options.label(r.model))}</td><td class="model">${escapeXml(options.label(r.variant))}${seed}</td>${cells.join('')}</tr>`;
  });
  const tol = options.toleranceMm ?? 2;
  return `<h2 id="boundary">Boundary metrics per organ</h2>
<p class="muted">Each cell: mean HD95 in mm / mean normalised surface Dice at ${tol} mm, over the subjects where each is defined. A superscript counts the subjects whose HD95 is missing because the prediction (or the truth) of that organ is empty on a scored slice; their NSD counts those surface points as misses.</p>
<div class="scroll"><table class="boundary"><thead><tr><th>Model</th><th>Arm</th>${organs.map((o) => `<th>${escapeXml(o)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}
