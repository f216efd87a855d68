// report: the evaluation as one HTML page with its figures beside it: the Table-1-style table
// (each student pretrained, its L_seg-only control and distilled by each teacher; mean ± sd
// across seeds where there are several), the comparisons (distilled vs control first: mean
// difference, bootstrap CI, Wilcoxon and Holm p), box plots per organ, the low-data curve
// (the control's too) when given, and overlays of the predictions on a few test slices.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { boxPlotFromResults, lowDataFromResults } from '../../report/table.js';
import { writeReport, type ReportData } from '../../report/html.js';
import type { PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, type StageOptions } from '../context.js';
import { armLabels } from '../../report/labels.js';
import { readEvaluation, type EvaluationFile } from '../results-file.js';
import { runLayout } from '../layout.js';
import { fileStamp, MANIFEST, runStage } from '../manifest.js';
import { overlayFigures } from './report-overlays.js';
import { trainLogOf, trainingFigures } from './report-training.js';

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

type Keyed = { model: string; variant: string; trainingSubjects?: number; seed?: number };

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

/** Per model and variant every seed of its full-data entry. */
function fullDataSeeds<T extends Keyed>(items: readonly T[]): T[] {
  const shown = fullData(items);
  return items.filter((it) => shown.some((s) => s.model === it.model && s.variant === it.variant && s.trainingSubjects === it.trainingSubjects));
}

function variantLabels(results: readonly Keyed[]): Record<string, string> {
  return armLabels(new Set(results.map((r) => r.variant)));
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
  const missing =
    overlays > 0
      ? shown
          .filter((m) => !existsSync(m.checkpoint))
          .map((m) => `${m.checkpoint}: checkpoint of ${m.model} / ${m.variant} not found (needed for the overlays; --overlays 0 leaves them out)`)
      : [];
  if (missing.length) throw new ConfigError(missing, 'report');
  const datasetLocation = o.dataset ?? config?.dataset ?? evaluation.dataset;
  const dataset = overlays > 0 ? await openDataset(datasetLocation) : null;
  const dir = path.resolve(o.out ?? (config ? runLayout(config.runDir).report() : path.join(path.dirname(path.dirname(path.resolve(o.evaluation))), 'report')));
  const title = o.title ?? 'Single-slice segmentation with and without 3D-to-2D distillation';

  const { reused } = await runStage({
    stage: 'report',
    dir,
    config: { title, overlays, dataset: datasetLocation },
    inputs: {
      evaluation: fileStamp(path.resolve(o.evaluation)),
      lowData: o.lowData ? fileStamp(path.resolve(o.lowData)) : null,
      trainLogs: shown
        .map(trainLogOf)
        .filter((f) => existsSync(f))
        .map(fileStamp),
    },
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
            input: evaluation.input ?? { size: evaluation.size },
            device: config?.device ?? 'cpu',
            caption: (variant) => labels[variant] ?? variant,
            signal: o.signal,
          })
        : [];
      const data: ReportData = {
        title,
        // the tests are the comparison rows (with CIs and Holm), not the table's own p columns
        table: evaluation.results,
        tableOptions: { tests: false },
        comparisons: evaluation.comparisons,
        labels,
        boxPlots: [...new Set(evaluation.results.map((r) => r.model))].map((model) => ({
          id: `boxplot-${model}`,
          caption: `Dice per organ of ${model} over the ${evaluation.split} subjects, per arm${seedCount(evaluation) > 1 ? ' (each subject averaged over the seeds)' : ''}.`,
          data: boxPlotFromResults(fullDataSeeds(evaluation.results), model, { names: labels, title: `${model}: Dice per organ` }),
        })),
        lowData: lowData
          ? {
              id: 'lowdata',
              caption: `Mean Dice over the test subjects against the number of training subjects, per arm${seedCount(lowData) > 1 ? ' (mean over the seeds)' : ''}.`,
              data: lowDataFromResults(lowData.results, { names: labels }),
            }
          : undefined,
        overlays: figures,
        trainingCurves: trainingFigures(shown, (v) => labels[v] ?? v),
        toleranceMm: (evaluation as { toleranceMm?: number }).toleranceMm,
        notes: notes(evaluation, lowData),
        manifest: {
          evaluation: path.resolve(o.evaluation),
          lowData: o.lowData ? path.resolve(o.lowData) : null,
          dataset: evaluation.dataset,
          split: evaluation.split,
          subjects: evaluation.subjects.length,
          size: evaluation.size,
          models: evaluation.models,
          evaluate: evaluateManifest(o.evaluation),
        },
      };
      const written = await writeReport(dir, data, { htmlFile: REPORT_HTML });
      return { outputs: { html: REPORT_HTML }, metrics: { files: written.files.length, overlays: figures.length }, result: undefined };
    },
  });
  log(reused ? `report: finished earlier (${dir}), reused` : `report: wrote ${path.join(dir, REPORT_HTML)}`);
  return { dir, html: path.join(dir, REPORT_HTML), reused };
}

function seedCount(evaluation: EvaluationFile): number {
  return new Set(evaluation.results.map((r) => r.seed ?? null)).size;
}

function notes(evaluation: EvaluationFile, lowData: EvaluationFile | null): string[] {
  const out = [
    `${evaluation.subjects.length} ${evaluation.split} subjects; predictions at ${evaluation.size} x ${evaluation.size}, scored at each slice's own resolution.`,
  ];
  const seeds = seedCount(evaluation);
  if (seeds > 1)
    out.push(
      `Every student arm was trained with ${seeds} seeds (the splits fixed); tables show mean ± sd across seeds, comparisons are per seed and on the seed-averaged subject scores.`,
    );
  if (evaluation.results.some((r) => r.trainingSubjects !== undefined)) out.push('The table and box plots show each model with its largest training set.');
  if (lowData && !lowData.results.some((r) => r.trainingSubjects !== undefined))
    out.push('The low-data evaluation has no training-subject counts, so no curve is drawn.');
  return out;
}
