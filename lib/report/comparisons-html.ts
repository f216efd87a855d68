// The report's comparisons section: per comparison group (model, arm vs reference,
// training-set size, seed) the mean difference, its paired bootstrap 95% CI, the Wilcoxon p and
// the Holm-adjusted p per organ and on the average; the primary comparison (distilled vs
// control) first. Where a group has too few subjects for the exact two-sided test to reach
// p < alpha at all (its minimum is 2 / 2^n), the group says so.
import { comparisonRank, type Comparison } from '../eval/comparisons.js';
import { minAttainableP, significanceReachable } from '../eval/holm.js';
import { ciReading, ciText, formatP, headlineSeed, signed } from './comparison-format.js';
import { escapeXml } from './svg.js';

export interface ComparisonsHtmlOptions {
  /** Display name of a variant or model. */
  label: (s: string) => string;
  alpha: number;
  decimals: number;
}

const RANK_NAMES = ['primary: distilled vs control', 'secondary: distilled vs pretrained', 'control vs pretrained'];
const COLUMNS = ['organ', 'n', 'mean diff', '95% CI', 'CI', 'p', 'Holm p'];

/** Rows grouped by everything but the organ, groups in the order of their first row. */
function groups(rows: readonly Comparison[]): Comparison[][] {
  const out = new Map<string, Comparison[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.model, r.variant, r.baseline, r.trainingSubjects ?? null, r.seed]);
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return [...out.values()];
}

/** The plain statement that p < alpha cannot be reached, or '' where it can. */
export function unreachableNote(group: readonly Comparison[], alpha: number): string {
  const n = Math.max(0, ...group.map((r) => r.n));
  if (!significanceReachable(n, alpha)) {
    return `n = ${n} paired subjects: the smallest two-sided exact Wilcoxon p is 2/2^${n} = ${formatP(minAttainableP(n))}, so p < ${alpha} cannot be reached; these p-values cannot show a difference however large it is.`;
  }
  const few = group.filter((r) => !significanceReachable(r.n, alpha));
  return few.length ? `${few.map((r) => `${r.organ} (n = ${r.n})`).join(', ')}: too few paired subjects for p < ${alpha} to be reachable (minimum 2/2^n).` : '';
}

function groupHtml(group: Comparison[], o: ComparisonsHtmlOptions, control: string | undefined): string {
  const g = group[0]!;
  const seed = g.seed === 'mean' ? 'seed-averaged scores' : `seed ${g.seed}`;
  const size = g.trainingSubjects !== undefined ? `, ${g.trainingSubjects} training subjects` : '';
  const title = `${o.label(g.model)}: ${o.label(g.variant)} vs ${o.label(g.baseline)} (${RANK_NAMES[comparisonRank(g, control)]}; ${seed}${size})`;
  const span = COLUMNS.length;
  const rows = group.map((r) => {
    const attrs = (column: string) =>
      `data-model="${escapeXml(r.model)}" data-variant="${escapeXml(r.variant)}" data-baseline="${escapeXml(r.baseline)}" data-seed="${r.seed}" data-organ="${escapeXml(r.organ)}" data-column="${column}"`;
    const sig = r.pHolm !== null && r.pHolm < o.alpha;
    const cells: [string, string][] = [
      ['n', String(r.n)],
      ['meanDiff', signed(r.meanDiff, o.decimals)],
      ['ci95', ciText(r.ci95, o.decimals)],
      ['reading', ciReading(r.ci95)],
      ['p', formatP(r.p)],
      ['pHolm', `${formatP(r.pHolm)}${sig ? '*' : ''}`],
    ];
    return `<tr><td class="model">${escapeXml(r.organ)}</td>${cells.map(([c, v]) => `<td ${attrs(c)}${c === 'pHolm' && sig ? ' class="sig"' : ''}>${escapeXml(v)}</td>`).join('')}</tr>`;
  });
  const note = unreachableNote(group, o.alpha);
  return [
    `<tr class="group"><th colspan="${span}" style="text-align:left">${escapeXml(title)}</th></tr>`,
    ...rows,
    ...(note ? [`<tr class="note"><td colspan="${span}" class="note" style="text-align:left">${escapeXml(note)}</td></tr>`] : []),
  ].join('\n');
}

function tableHtml(rows: readonly Comparison[], o: ComparisonsHtmlOptions, control: string | undefined): string {
  const sorted = groups(rows).sort((a, b) => comparisonRank(a[0]!, control) - comparisonRank(b[0]!, control));
  return `<div class="scroll"><table class="comparisons">
<thead><tr>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead>
<tbody>
${sorted.map((g) => groupHtml(g, o, control)).join('\n')}
</tbody></table></div>`;
}

/** The section, or '' without comparisons. With several seeds the seed-averaged rows lead and each seed's rows follow, folded. */
export function comparisonsHtml(comparisons: readonly Comparison[], o: ComparisonsHtmlOptions, control?: string): string {
  if (comparisons.length === 0) return '';
  const seed = headlineSeed(comparisons);
  const lead = comparisons.filter((c) => c.seed === seed);
  const rest = comparisons.filter((c) => c.seed !== seed);
  const intro = `<p>mean diff: mean over the paired test subjects of (arm − reference) Dice. 95% CI: percentile bootstrap of that mean, subjects resampled with replacement. p: two-sided Wilcoxon signed-rank test (paired by subject); Holm p: adjusted over the 6 organs and the average of the same comparison; * Holm p &lt; ${o.alpha}. The primary test of distillation is against the control (the same further epochs with L_seg alone); against the pretrained student it is secondary, since extra epochs alone can raise Dice. A CI containing 0 or a Holm p above ${o.alpha} means these data do not show a difference, not that the arms are equal.${seed === 'mean' ? ' Seed-averaged rows pair each subject’s Dice averaged over the seeds; their CI resamples subjects, not seeds.' : ''}</p>`;
  const perSeed = rest.length ? `<details><summary>Each seed on its own</summary>\n${tableHtml(rest, o, control)}\n</details>` : '';
  return `<h2 id="comparisons">Comparisons</h2>\n${intro}\n${tableHtml(lead, o, control)}\n${perSeed}`;
}
