// The evaluation report: one self-contained HTML file (inline CSS and SVG, PNGs as data: URIs,
// no scripts, nothing fetched) and, from writeReport, the same figures as .png and .svg files
// plus the numbers as report.json, table.csv and dice_per_subject.csv beside it.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { csv } from '../util/csv.js';
import { summarizeResult, type EvaluationResult } from '../eval/results.js';
import { boxPlotScene, lineChartScene, type BoxPlotData, type LineChartData, type Scene } from './charts.js';
import { sceneToSvg, escapeXml } from './svg.js';
import { sceneToPng } from './png.js';
import { overlayFigureScene, type OverlayFigureData } from './overlay.js';
import { buildTable, type ComparisonTable, type TableOptions, type TableTest } from './table.js';
import type { Comparison } from '../eval/comparisons.js';
import { formatP } from './comparison-format.js';
import { comparisonsHtml } from './comparisons-html.js';

export { formatP } from './comparison-format.js';
import { falsePositivesHtml } from './false-positives.js';
import { diceTablesHtml } from './dice-table-html.js';
import { boundaryTableHtml } from './boundary-html.js';

export interface Figure<T> {
  /** File stem and HTML anchor (default: derived from the title). */
  id?: string;
  /** A sentence under the figure. */
  caption?: string;
  data: T;
}

export interface ReportData {
  title: string;
  /** A prebuilt table, or the per-subject results to build it from (with tableOptions). */
  table: ComparisonTable | readonly EvaluationResult[];
  tableOptions?: TableOptions;
  /** The evaluation's comparison rows (arm vs reference, CI, p, Holm p): shown as their own table and written to report.json. */
  comparisons?: readonly Comparison[];
  /** Per-subject results written to report.json / dice_per_subject.csv (default: `table` when it is results). */
  results?: readonly EvaluationResult[];
  /** Box plots per organ (Fig. 3a style), bare or wrapped with an id / caption. */
  boxPlots?: (Figure<BoxPlotData> | BoxPlotData)[];
  /** The low-data curve (Fig. 3b style). */
  lowData?: Figure<LineChartData> | LineChartData;
  /** Loss terms and validation Dice per epoch, one chart per arm (see training-curves.ts). */
  trainingCurves?: (Figure<LineChartData> | LineChartData)[];
  /** The NSD tolerance of the results' boundary metrics, in mm (default 2). */
  toleranceMm?: number;
  /** Slices with truth and predictions (Fig. 4 style). */
  overlays?: (Figure<OverlayFigureData> | OverlayFigureData)[];
  notes?: string | string[];
  /** Provenance (any JSON-serialisable object, e.g. a pipeline stage manifest): models, teacher, datasets, split, seeds, versions; shown and written to report.json. */
  manifest?: object;
  /** Display names of variants and models, e.g. armLabels(...) from labels.ts: { none: 'pretrained' }. */
  labels?: Record<string, string>;
  /** Significance level for the star next to p-values (default 0.05). */
  alpha?: number;
  /** Decimals of Dice in the HTML table (default 3). */
  decimals?: number;
  /** ISO time shown in the report (default: now). */
  generatedAt?: string;
  /** Pixels per SVG unit of the PNG charts (default 2). */
  pngScale?: number;
}

export interface RenderedFigure {
  id: string;
  kind: 'boxplot' | 'lowdata' | 'overlay' | 'training';
  title: string;
  caption?: string;
  svg: () => string;
  png: () => Uint8Array;
}

export interface BuiltReport {
  html: string;
  json: ReportJson;
  tableCsv: string;
  subjectsCsv: string | null;
  figures: RenderedFigure[];
}

export interface ReportJson {
  format: 'slice-distill-report/1';
  title: string;
  generatedAt: string;
  manifest: Record<string, unknown>;
  notes: string[];
  alpha: number;
  table: ComparisonTable;
  comparisons: Comparison[];
  results: ResultJson[];
  lowData: LineChartData | null;
  /** The training curves' data (per arm: loss terms and validation Dice per epoch). */
  trainingCurves: LineChartData[];
  figures: { id: string; kind: string; title: string; files: string[] }[];
}

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1400px; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; text-align: center; }
td.model { text-align: left; font-weight: bold; }
td.best { background: #eef6ee; }
td.sig { color: #0a6b2e; }
.scroll { overflow-x: auto; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
figure img, figure svg { max-width: 100%; height: auto; }
#training { clear: both; } figure[id^="training-"] { display: inline-block; vertical-align: top; margin-right: 1em; max-width: 580px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; } dt { font-weight: bold; } dd { margin: 0; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 0.85em; }
.muted { color: #777; }
`;

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'figure'
  );
}

function uniqueIds(): (wanted: string) => string {
  const used = new Set<string>();
  return (wanted) => {
    let id = slug(wanted);
    for (let k = 2; used.has(id); k++) id = `${slug(wanted)}-${k}`;
    used.add(id);
    return id;
  };
}

function testTitle(t: TableTest): string {
  return `Wilcoxon signed-rank (${t.method}): statistic ${t.statistic}, W+ ${t.wPlus}, W- ${t.wMinus}, ${t.pairs} paired subjects, p = ${t.pValue}`;
}

/** One result in report.json: its summary and the per-subject Dice. */
export interface ResultJson {
  model: string;
  variant: string;
  trainingSubjects: number | null;
  seed: number | null;
  organs: string[];
  subjects: number;
  perOrgan: (number | null)[];
  perOrganStd: (number | null)[];
  perOrganCount: number[];
  overall: number | null;
  overallStd: number | null;
  meanOfOrgans: number | null;
  perSubject: { subject: string; dice: (number | null)[]; mean: number | null }[];
}

function resultJson(r: EvaluationResult): ResultJson {
  const s = summarizeResult(r);
  return {
    model: r.model,
    variant: r.variant,
    trainingSubjects: r.trainingSubjects ?? null,
    seed: r.seed ?? null,
    organs: r.organs,
    subjects: r.perSubject.length,
    perOrgan: s.perOrgan,
    perOrganStd: s.perOrganStd,
    perOrganCount: s.perOrganCount,
    overall: s.overall,
    overallStd: s.overallStd,
    meanOfOrgans: s.meanOfOrgans,
    perSubject: r.perSubject.map((p, i) => ({ subject: p.subject, dice: p.dice, mean: s.perSubject[i].mean })),
  };
}

function organPTableHtml(table: ComparisonTable, label: (s: string) => string, alpha: number): string {
  if (table.tests === false) return '';
  const rows: string[] = [];
  for (const row of table.rows) {
    table.variants.forEach((v, i) => {
      const cell = row.cells[i];
      if (!cell || v === table.baseline) return;
      const tests = [...cell.organTests, cell.test];
      const tds = tests
        .map((t) => {
          const sig = t !== null && t.pValue < alpha;
          return `<td${sig ? ' class="sig"' : ''}${t ? ` title="${escapeXml(testTitle(t))}"` : ''}>${escapeXml(formatP(t?.pValue))}${sig ? '*' : ''}</td>`;
        })
        .join('');
      rows.push(`<tr><td class="model">${escapeXml(label(row.model))}</td><td class="model">${escapeXml(label(v))}</td>${tds}</tr>`);
    });
  }
  if (rows.length === 0) return '';
  return `<h3>Wilcoxon signed-rank p-values per organ, each variant against ${escapeXml(label(table.baseline))}</h3>
<div class="scroll"><table class="pvalues"><thead><tr><th>Model</th><th>Variant</th>${[...table.organs, 'average'].map((o) => `<th>${escapeXml(o)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function manifestHtml(manifest: object): string {
  const entries = Object.entries(manifest);
  if (entries.length === 0) return '<p class="muted">No manifest given.</p>';
  const scalar = entries.filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  const dl = scalar.length ? `<dl>${scalar.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(String(v))}</dd>`).join('')}</dl>` : '';
  return `${dl}<details><summary>Full manifest (JSON)</summary><pre>${escapeXml(JSON.stringify(manifest, null, 2))}</pre></details>`;
}

function notesHtml(notes: string[]): string {
  if (notes.length === 0) return '';
  return `<h2 id="notes">Notes</h2><ul>${notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>`;
}

function figureHtml(f: RenderedFigure): string {
  const body = f.kind === 'overlay' ? `<img alt="${escapeXml(f.title)}" src="data:image/png;base64,${Buffer.from(f.png()).toString('base64')}">` : f.svg();
  return `<figure id="${f.id}">${body}${f.caption ? `<figcaption>${escapeXml(f.caption)}</figcaption>` : ''}</figure>`;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = make();
      done = true;
    }
    return value as T;
  };
}

function asFigure<T extends object>(f: Figure<T> | T): Figure<T> {
  return 'data' in f ? (f as Figure<T>) : { data: f as T };
}

function isTable(t: ReportData['table']): t is ComparisonTable {
  return !Array.isArray(t) && typeof t === 'object' && t !== null && 'rows' in t;
}

/** Lays out everything once: the HTML, the JSON / CSV contents and the figures (PNGs made on demand). */
export function buildReport(data: ReportData): BuiltReport {
  if (typeof data.title !== 'string') throw new TypeError('title: expected a string');
  const alpha = data.alpha ?? 0.05;
  const decimals = data.decimals ?? 3;
  const scale = data.pngScale ?? 2;
  const label = (s: string): string => data.labels?.[s] ?? s;
  const table = isTable(data.table) ? data.table : buildTable(data.table as readonly EvaluationResult[], data.tableOptions);
  const results = data.results ?? (isTable(data.table) ? [] : (data.table as readonly EvaluationResult[]));
  const notes = data.notes === undefined ? [] : Array.isArray(data.notes) ? data.notes : [data.notes];
  const manifest = (data.manifest ?? {}) as Record<string, unknown>;
  const generatedAt = data.generatedAt ?? new Date().toISOString();

  const id = uniqueIds();
  const figures: RenderedFigure[] = [];
  const chart = (kind: 'boxplot' | 'lowdata' | 'training', f: Figure<BoxPlotData> | Figure<LineChartData>, scene: () => Scene): void => {
    const s = lazy(scene);
    figures.push({
      id: id(f.id ?? `${kind}-${f.data.title}`),
      kind,
      title: f.data.title,
      caption: f.caption,
      svg: lazy(() => sceneToSvg(s())),
      png: lazy(() => sceneToPng(s(), { scale })),
    });
  };
  for (const f of (data.boxPlots ?? []).map(asFigure)) chart('boxplot', f, () => boxPlotScene(f.data));
  const lowData = data.lowData ? asFigure(data.lowData) : null;
  if (lowData) chart('lowdata', lowData, () => lineChartScene(lowData.data));
  for (const f of (data.trainingCurves ?? []).map(asFigure)) chart('training', f, () => lineChartScene(f.data, { width: 560, height: 340 }));
  (data.overlays ?? []).map(asFigure).forEach((f, i) => {
    const title = f.data.title ?? `Overlay ${i + 1}`;
    const scene = lazy(() => overlayFigureScene(f.data));
    figures.push({
      id: id(f.id ?? `overlay-${title}`),
      kind: 'overlay',
      title,
      caption: f.caption,
      png: lazy(() => sceneToPng(scene(), { scale: 1 })),
      svg: lazy(() => sceneToSvg(scene())),
    });
  });

  const json: ReportJson = {
    format: 'slice-distill-report/1',
    title: data.title,
    generatedAt,
    manifest,
    notes,
    alpha,
    table,
    comparisons: [...(data.comparisons ?? [])],
    results: results.map(resultJson),
    lowData: lowData?.data ?? null,
    trainingCurves: (data.trainingCurves ?? []).map((f) => asFigure(f).data),
    figures: figures.map((f) => ({ id: f.id, kind: f.kind, title: f.title, files: [`${f.id}.png`, `${f.id}.svg`] })),
  };

  const tableRows: unknown[][] = [['model', 'variant', ...table.organs, 'average', 'subjects', 'p_vs_baseline', 'test_method', 'pairs', 'seeds', 'average_sd']];
  for (const row of table.rows) {
    row.cells.forEach((c) => {
      if (!c) return;
      tableRows.push([
        row.model,
        c.variant,
        ...c.perOrgan,
        c.average,
        c.subjects,
        c.test?.pValue ?? null,
        c.test?.method ?? null,
        c.test?.pairs ?? null,
        c.seeds,
        c.averageSd,
      ]);
    });
  }
  const tableCsv = csv(tableRows);
  let subjectsCsv: string | null = null;
  if (results.length) {
    const organs = results[0].organs;
    const rows: unknown[][] = [['model', 'variant', 'training_subjects', 'seed', 'subject', ...organs, 'mean']];
    for (const r of results) {
      const s = summarizeResult(r);
      r.perSubject.forEach((p, i) => rows.push([r.model, r.variant, r.trainingSubjects ?? null, r.seed ?? null, p.subject, ...p.dice, s.perSubject[i].mean]));
    }
    subjectsCsv = csv(rows);
  }

  const section = (kind: RenderedFigure['kind'], heading: string): string => {
    const fs = figures.filter((f) => f.kind === kind);
    return fs.length ? `<h2 id="${kind}">${heading}</h2>\n${fs.map(figureHtml).join('\n')}` : '';
  };
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="slice-distill">
<title>${escapeXml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeXml(data.title)}</h1>
<p class="muted">Generated ${escapeXml(generatedAt)}. Dice similarity coefficient per organ on the test subjects; an organ absent from both prediction and truth is not counted. Average: mean over subjects of each subject's mean over its organs. Bold: the best value of the row per column.${table.rows.some((r) => r.cells.some((c) => c && c.seeds > 1)) ? ' Arms trained with several seeds: mean ± sd across seeds of each seed’s mean.' : ''}${table.tests !== false ? ` p: two-sided Wilcoxon signed-rank test of the per-subject averages against ${escapeXml(label(table.baseline))} (paired by subject); * p &lt; ${alpha}.` : ''}</p>
<h2 id="table">Dice per organ</h2>
${diceTablesHtml(table, label, decimals, alpha)}
${organPTableHtml(table, label, alpha)}
${comparisonsHtml(data.comparisons ?? [], { label, alpha, decimals })}
${boundaryTableHtml(results, { label, toleranceMm: data.toleranceMm })}
${falsePositivesHtml(results, { label })}
${section('boxplot', 'Dice distributions per organ')}
${section('lowdata', 'Low-data regime')}
${section('training', 'Training curves')}
${section('overlay', 'Predictions on slices')}
${notesHtml(notes)}
<h2 id="manifest">Manifest</h2>
${manifestHtml(manifest)}
</body>
</html>
`;
  return { html, json, tableCsv, subjectsCsv, figures };
}

/** The report as one self-contained HTML string. */
export function renderReport(data: ReportData): string {
  return buildReport(data).html;
}

/**
 * Writes report.html (or `options.htmlFile`, e.g. index.html), report.json, table.csv,
 * dice_per_subject.csv (when per-subject results are known) and every figure as <id>.png and
 * <id>.svg into `dir` (created if needed). Each file is written atomically. Returns the paths written.
 */
export async function writeReport(dir: string, data: ReportData, options: { htmlFile?: string } = {}): Promise<{ dir: string; files: string[] }> {
  const built = buildReport(data);
  await mkdir(dir, { recursive: true });
  const files: [string, string | Uint8Array][] = [
    [options.htmlFile ?? 'report.html', built.html],
    ['report.json', JSON.stringify(built.json, null, 2) + '\n'],
    ['table.csv', built.tableCsv],
  ];
  if (built.subjectsCsv !== null) files.push(['dice_per_subject.csv', built.subjectsCsv]);
  for (const f of built.figures) {
    files.push([`${f.id}.png`, f.png()]);
    files.push([`${f.id}.svg`, f.svg()]);
  }
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = path.join(dir, name);
    await writeFileAtomic(file, content);
    written.push(file);
  }
  return { dir, files: written };
}
