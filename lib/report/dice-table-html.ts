// The report's Dice table laid out per model: one small table per student (rows: its arms,
// columns: the organs and the average), so the page never has to hold every arm of every model
// side by side. Each table scrolls on its own if a narrow window still cannot hold it.
import { escapeXml } from './svg.js';
import { formatP } from './comparison-format.js';
import type { ComparisonTable, TableTest } from './table.js';

function fmt(v: number | null | undefined, decimals: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(decimals);
}

function testTitle(t: TableTest): string {
  return `Wilcoxon signed-rank (${t.method}): statistic ${t.statistic}, W+ ${t.wPlus}, W- ${t.wMinus}, ${t.pairs} paired subjects, p = ${t.pValue}`;
}

/** The tables of every model; cells carry data-model / data-variant / data-column for tests and scripts. */
export function diceTablesHtml(table: ComparisonTable, label: (s: string) => string, decimals: number, alpha: number): string {
  const withP = table.tests !== false && table.variants.some((v) => v !== table.baseline);
  const columns = [...table.organs, 'average'];
  const head = `<tr><th>arm</th>${columns.map((o) => `<th>${escapeXml(o)}</th>`).join('')}<th>n</th>${withP ? '<th>p</th>' : ''}</tr>`;
  return table.rows
    .map((row) => {
      const body = table.variants
        .map((v, i) => {
          const cell = row.cells[i];
          const values = cell ? [...cell.perOrgan, cell.average] : new Array<null>(columns.length).fill(null);
          const sds = cell?.perOrganSd ? [...cell.perOrganSd, cell.averageSd] : null;
          const attrs = (column: string): string => `data-model="${escapeXml(row.model)}" data-variant="${escapeXml(v)}" data-column="${escapeXml(column)}"`;
          const tds = values
            .map((value, c) => {
              const best = row.best[c]!.includes(i);
              const text = fmt(value, decimals) + (sds ? ` ± ${fmt(sds[c], decimals)}` : '');
              return `<td ${attrs(columns[c]!)}${best ? ' class="best"' : ''}>${best ? `<strong>${text}</strong>` : text}</td>`;
            })
            .join('');
          const n = `<td ${attrs('n')}>${cell ? cell.subjects : '–'}</td>`;
          let p = '';
          if (withP) {
            const t = v === table.baseline ? null : (cell?.test ?? null);
            const sig = t !== null && t.pValue < alpha;
            p =
              v === table.baseline
                ? `<td class="muted">ref.</td>`
                : `<td ${attrs('p')}${sig ? ' class="sig"' : ''}${t ? ` title="${escapeXml(testTitle(t))}"` : ''}>${escapeXml(formatP(t?.pValue))}${sig ? '*' : ''}</td>`;
          }
          return `<tr><td class="model">${escapeXml(label(v))}</td>${tds}${n}${p}</tr>`;
        })
        .join('\n');
      return `<h3 class="model-table">${escapeXml(label(row.model))}</h3>
<div class="scroll"><table class="dice" data-model="${escapeXml(row.model)}">
<thead>${head}</thead>
<tbody>
${body}
</tbody></table></div>`;
    })
    .join('\n');
}
