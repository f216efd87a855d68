// report: the evaluation as one HTML page with its figures beside it: the Table-1-style table
// (each student without and with distillation by each teacher, Wilcoxon p against no
// distillation), box plots per organ, the low-data curve when given, and overlays of the
// predictions on a few test slices.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { boxPlotFromResults, lowDataFromResults } from '../../report/table.js';
import { writeReport, type ReportData } from '../../report/html.js';
import type { PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, type StageOptions } from '../context.js';
import { BASELINE, readEvaluation, type EvaluationFile } from '../evaluation.js';
import { runLayout } from '../layout.js';
import { fileStamp, MANIFEST, runStage } from '../manifest.js';
import { overlayFigures } from './report-overlays.js';

export interface ReportOptions extends StageOptions {
  /** results.json of evaluate. */
  evaluation: string;
  /** results.json of a low-data evaluation (results with trainingSubjects) for the curve. */
  lowData?: string;
  /** Default: the run's report folder (config given), else 'report' beside the evaluation's folder. */
  out?: string;
  /** Slices shown with predictions (default 3; 0: none, and no checkpoint is needed). */
  overlays?: number;
  title?: string;
  /** The dataset of the overlay slices (default: the config's, else the one results.json names). */
  dataset?: string;
}

export interface ReportOutcome {
  dir: string;
  /** index.html. */
  html: string;
  reused: boolean;
}

export const REPORT_HTML = 'index.html';

type Keyed = { model: string; variant: string; trainingSubjects?: number };

/** Per model and variant the full-data entry (without trainingSubjects, else the most subjects): what the table shows. */
function fullData<T extends Keyed>(items: readonly T[]): T[] {
  const best = new Map<string, T>();
  for (const it of items) {
    const key = JSON.stringify([it.model, it.variant]);
    const had = best.get(key);
    if (!had || (it.trainingSubjects ?? Infinity) > (had.trainingSubjects ?? Infinity)) best.set(key, it);
  }
  return [...best.values()];
}

function variantLabels(results: readonly Keyed[]): Record<string, string> {
  const labels: Record<string, string> = { [BASELINE]: 'no distillation' };
  for (const r of results) if (r.variant !== BASELINE) labels[r.variant] = `distilled (${r.variant})`;
  return labels;
}

/** The evaluate stage's manifest beside results.json, for provenance (null when absent). */
function evaluateManifest(file: string): unknown {
  const m = path.join(path.dirname(file), MANIFEST);
  return existsSync(m) ? (JSON.parse(readFileSync(m, 'utf8')) as unknown) : null;
}

export async function report(config: PipelineConfig | null, o: ReportOptions): Promise<ReportOutcome> {
  const log = o.log ?? defaultLog;
  const overlays = o.overlays ?? 3;
  if (!(Number.isInteger(overlays) && overlays >= 0)) throw new ConfigError([`overlays: expected a count >= 0, got ${overlays}`], 'report');
  const evaluation = readEvaluation(o.evaluation);
  const lowData = o.lowData ? readEvaluation(o.lowData, 'low-data evaluation') : null;
  const shown = fullData(evaluation.models);
  const missing = overlays > 0 ? shown.filter((m) => !existsSync(m.checkpoint)).map((m) => `${m.checkpoint}: checkpoint of ${m.model} / ${m.variant} not found (needed for the overlays; --overlays 0 leaves them out)`) : [];
  if (missing.length) throw new ConfigError(missing, 'report');
  const datasetLocation = o.dataset ?? config?.dataset ?? evaluation.dataset;
  const dataset = overlays > 0 ? await openDataset(datasetLocation) : null;
  const dir = path.resolve(o.out ?? (config ? runLayout(config.runDir).report() : path.join(path.dirname(path.dirname(path.resolve(o.evaluation))), 'report')));
  const title = o.title ?? 'Single-slice segmentation with and without 3D-to-2D distillation';

  const { reused } = await runStage({
    stage: 'report',
    dir,
    config: { title, overlays, dataset: datasetLocation },
    inputs: { evaluation: fileStamp(path.resolve(o.evaluation)), lowData: o.lowData ? fileStamp(path.resolve(o.lowData)) : null },
    seed: config?.seed ?? 0,
    force: o.force,
    reuse: () => undefined,
    work: async () => {
      if (config) applyRuntime(config);
      const labels = variantLabels(evaluation.results);
      const figures = dataset
        ? await overlayFigures({
            dataset,
            subjects: evaluation.subjects,
            models: shown,
            count: overlays,
            size: evaluation.size,
            device: config?.device ?? 'cpu',
            caption: (variant) => labels[variant] ?? variant,
            signal: o.signal,
          })
        : [];
      const data: ReportData = {
        title,
        table: evaluation.results,
        labels,
        boxPlots: [...new Set(evaluation.results.map((r) => r.model))].map((model) => ({
          id: `boxplot-${model}`,
          caption: `Dice per organ of ${model} over the ${evaluation.split} subjects, without and with distillation.`,
          data: boxPlotFromResults(fullData(evaluation.results), model, { names: labels, title: `${model}: Dice per organ` }),
        })),
        lowData: lowData ? { id: 'lowdata', caption: 'Mean Dice over the test subjects against the number of training subjects.', data: lowDataFromResults(lowData.results, { names: labels }) } : undefined,
        overlays: figures,
        notes: notes(evaluation, lowData),
        manifest: { evaluation: path.resolve(o.evaluation), lowData: o.lowData ? path.resolve(o.lowData) : null, dataset: evaluation.dataset, split: evaluation.split, subjects: evaluation.subjects.length, size: evaluation.size, models: evaluation.models, evaluate: evaluateManifest(o.evaluation) },
      };
      const written = await writeReport(dir, data, { htmlFile: REPORT_HTML });
      return { outputs: { html: REPORT_HTML }, metrics: { files: written.files.length, overlays: figures.length }, result: undefined };
    },
  });
  log(reused ? `report: finished earlier (${dir}), reused` : `report: wrote ${path.join(dir, REPORT_HTML)}`);
  return { dir, html: path.join(dir, REPORT_HTML), reused };
}

function notes(evaluation: EvaluationFile, lowData: EvaluationFile | null): string[] {
  const out = [`${evaluation.subjects.length} ${evaluation.split} subjects; predictions at ${evaluation.size} x ${evaluation.size}, scored at each slice's own resolution.`];
  if (evaluation.results.some((r) => r.trainingSubjects !== undefined)) out.push('The table and box plots show each model with its largest training set.');
  if (lowData && !lowData.results.some((r) => r.trainingSubjects !== undefined)) out.push('The low-data evaluation has no training-subject counts, so no curve is drawn.');
  return out;
}
