// The report's false-positive section: per model / variant and organ, the test slices where the
// organ was predicted but the truth lacks it, and the predicted area there (kept out of Dice
// under the 'present' scoring policy, so shown beside it).
import type { EvaluationResult } from '../eval/results.js';
import { falsePositiveTotals } from '../eval/subject-scores.js';
import { escapeXml } from './svg.js';

export interface FalsePositivesHtmlOptions {
  /** Display names of models and variants. */
  label?: (name: string) => string;
  /** The scoring policy of results.json, named in the caption when given. */
  policy?: string;
}

/** An <h2> and a table, or '' when no result carries false positives (results from before they were recorded). */
export function falsePositivesHtml(results: readonly EvaluationResult[], options: FalsePositivesHtmlOptions = {}): string {
  const label = options.label ?? ((s: string) => s);
  const scored = results.filter((r) => r.perSubject.some((s) => s.falsePositives !== undefined));
  if (scored.length === 0) return '';
  const organs = scored[0]!.organs;
  const withCounts = scored.some((r) => r.trainingSubjects !== undefined);
  const withSeeds = scored.some((r) => r.seed !== undefined);
  const head = organs.map((o) => `<th>${escapeXml(o)}</th>`).join('');
  const rows = scored.map((r) => {
    const totals = falsePositiveTotals(r.perSubject, organs.length);
    const slices = r.perSubject.reduce((n, s) => n + (s.slices ?? 0), 0);
    const cells = totals
      .map((t, k) => {
        const seed = r.seed !== undefined ? ` data-seed="${r.seed}"` : '';
        const attrs = `data-model="${escapeXml(r.model)}" data-variant="${escapeXml(r.variant)}"${seed} data-organ="${escapeXml(organs[k]!)}"`;
        const title = `${t.subjects} of ${r.perSubject.length} subjects`;
        return `<td ${attrs} title="${escapeXml(title)}">${t.slices} / ${t.areaMm2.toFixed(1)}</td>`;
      })
      .join('');
    const count = (withCounts ? `<td>${r.trainingSubjects ?? '–'}</td>` : '') + (withSeeds ? `<td>${r.seed ?? '–'}</td>` : '');
    return `<tr><td class="model">${escapeXml(label(r.model))}</td><td class="model">${escapeXml(label(r.variant))}</td>${count}<td>${slices || '–'}</td>${cells}</tr>`;
  });
  const policy =
    options.policy === 'present'
      ? ' They are not part of the Dice values above (policy: present).'
      : options.policy === 'union'
        ? ' They are also inside the Dice values above (policy: union).'
        : '';
  return `<h2 id="false-positives">False positives per organ</h2>
<p class="muted">Per cell: test slices where the organ was predicted but the truth lacks it / predicted area on those slices in mm² (native pixel spacing), summed over the test subjects.${escapeXml(policy)}</p>
<div class="scroll"><table class="false-positives"><thead><tr><th>Model</th><th>Variant</th>${withCounts ? '<th>Training subjects</th>' : ''}${withSeeds ? '<th>Seed</th>' : ''}<th>Slices scored</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}
