// evaluate: Dice per organ and subject of student checkpoints on the test split, at each
// slice's native resolution (predictions at the model size, resized back), means per organ
// and overall, and the paired comparisons of the arms (distilled vs control and vs pretrained,
// control vs pretrained: mean difference, bootstrap CI, Wilcoxon p, Holm p). Writes
// results.json, dice.csv, summary.csv and comparisons.csv. A subject's
// slices are pooled under config.evaluation.policy; false positives go to false-positives.csv.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dataset } from '../../data/dataset.js';
import type { SampleRef } from '../../data/sample-pipeline.js';
import { ORGANS } from '../../eval/dice.js';
import { falsePositiveTotals, type ScoringPolicy } from '../../eval/subject-scores.js';
import { summarizeResult, type EvaluationResult } from '../../eval/results.js';
import { diceTableText } from '../../report/console-table.js';
import { progressSink } from '../../train/progress.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { SliceInput } from '../../data/transforms.js';
import { studentInput, type PipelineConfig } from '../config.js';
import { ConfigError } from '../config-schema.js';
import { applyRuntime, defaultLog, openDataset, sliceSplit, type StageOptions } from '../context.js';
import {
  COMPARISONS_FILE,
  EVALUATION_FORMAT,
  RESULTS_FILE,
  compareVariants,
  comparisonsCsv,
  diceCsv,
  summaryCsv,
  type Comparison,
  type EvaluationFile,
  type ModelToEvaluate,
} from '../results-file.js';
import { runLayout } from '../layout.js';
import { fileStamp, runStage } from '../manifest.js';
import { loadModel } from '../models.js';
import { falsePositivesCsv, withFalsePositiveTotals } from '../false-positives.js';
import { subjectBoundaryScores, withBoundary } from '../../eval/subject-boundary.js';
import { DEFAULT_TOLERANCE_MM } from '../../eval/surface.js';
import { boundaryCsv } from '../boundary-csv.js';
import { prepareSlices, segmentSlices, slicePipeline, sliceRefs, subjectDice, type PreparedSlice } from '../../infer/slices.js';

export type { ModelToEvaluate, Comparison } from '../results-file.js';

export interface EvaluateOptions extends StageOptions {
  /** The folder inside the run (default 'evaluate'). */
  name?: string;
  /** Which split to score (default 'test'). */
  subjects?: 'test' | 'val';
  /** Normalised surface Dice tolerance in mm (default 2). */
  toleranceMm?: number;
}

export interface EvaluateOutcome {
  dir: string;
  /** results.json. */
  file: string;
  results: EvaluationResult[];
  comparisons: Comparison[];
  reused: boolean;
}

function modelLabel(m: Pick<ModelToEvaluate, 'model' | 'variant' | 'trainingSubjects' | 'seed'>): string {
  return `${m.model} / ${m.variant}${m.trainingSubjects !== undefined ? ` (${m.trainingSubjects} subjects)` : ''}${m.seed !== undefined ? ` [seed ${m.seed}]` : ''}`;
}

/** Every problem with the model list, at once. */
function checkModels(models: readonly ModelToEvaluate[]): string[] {
  if (models.length === 0) return ['no checkpoints to evaluate'];
  const seen = new Set<string>();
  return models.flatMap((m) => {
    const problems: string[] = [];
    if (!m.model || !m.variant) problems.push(`${m.checkpoint}: model and variant names are needed`);
    if (!existsSync(m.checkpoint)) problems.push(`${m.checkpoint}: checkpoint not found (${modelLabel(m)})`);
    const key = JSON.stringify([m.model, m.variant, m.trainingSubjects ?? null, m.seed ?? null]);
    if (seen.has(key)) problems.push(`${modelLabel(m)} is listed twice`);
    seen.add(key);
    return problems;
  });
}

/** The labelled slices at the model size, read once for all models; without the HU copy (pictures only), so a large test set stays small. */
function scoringSlices(dataset: Dataset, refs: readonly SampleRef[], input: SliceInput): PreparedSlice[] {
  const pipeline = slicePipeline(dataset);
  const out: PreparedSlice[] = [];
  for (let i = 0; i < refs.length; i += 64) out.push(...prepareSlices(pipeline, refs.slice(i, i + 64), input).map((s) => ({ ...s, hu: new Float32Array(0) })));
  return out;
}

/** results.json with the scoring policy its Dice values were pooled under. */
type ScoredEvaluationFile = EvaluationFile & { policy: ScoringPolicy; toleranceMm: number };

async function scoreModel(
  m: ModelToEvaluate,
  slices: readonly PreparedSlice[],
  config: Pick<PipelineConfig, 'device' | 'student' | 'hu' | 'evaluation'>,
  toleranceMm: number,
  signal?: AbortSignal,
): Promise<EvaluationResult> {
  let predictions: Uint8Array[];
  {
    using module = (await loadModel(m.checkpoint, config.device)).eval(); // one arm after another: freed at once
    predictions = await segmentSlices(module, slices, studentInput(config), 16, signal);
  }
  const policy = config.evaluation.policy;
  // slices are [H, W] = [Y, X] row-major: x is the fast axis
  const boundary = subjectBoundaryScores(
    slices.map((s, i) => ({
      subject: s.ref.subject,
      prediction: predictions[i]!,
      truth: s.label!,
      grid: { shape: [s.shape[1], s.shape[0]], spacing: [s.spacing[1], s.spacing[0]] },
    })),
    ORGANS.map((_, k) => k + 1),
    { policy, toleranceMm },
  );
  const r: EvaluationResult = {
    model: m.model,
    variant: m.variant,
    organs: [...ORGANS],
    perSubject: withBoundary(subjectDice(slices, predictions, policy), boundary),
  };
  if (m.trainingSubjects !== undefined) r.trainingSubjects = m.trainingSubjects;
  return r;
}

export async function evaluate(config: PipelineConfig, models: ModelToEvaluate[], options: EvaluateOptions = {}): Promise<EvaluateOutcome> {
  const log = options.log ?? defaultLog;
  const which = options.subjects ?? 'test';
  models = models.map((m) => ({ ...m, checkpoint: path.resolve(m.checkpoint) }));
  const problems = checkModels(models);
  const dataset = await openDataset(config.dataset);
  const subjects = sliceSplit(config, dataset)[which];
  const all = sliceRefs(dataset, subjects);
  const refs = all.filter((r) => r.label);
  if (refs.length === 0)
    problems.push(`${dataset.file}: no labelled slices in the ${which} split (${subjects.length} subjects, split ${JSON.stringify(config.split)})`);
  if (problems.length) throw new ConfigError(problems, 'evaluate');
  if (refs.length < all.length) log(`evaluate: ${all.length - refs.length} ${which} slices without labels are left out`);
  const scored = [...new Set(refs.map((r) => r.subject))];
  const policy = config.evaluation.policy;
  const toleranceMm = options.toleranceMm ?? DEFAULT_TOLERANCE_MM;

  const dir = runLayout(config.runDir).evaluate(options.name);
  const file = path.join(dir, RESULTS_FILE);
  const { result, reused } = await runStage({
    stage: 'evaluate',
    dir,
    config: {
      dataset: config.dataset,
      split: config.split,
      seed: config.seed,
      size: config.student.size,
      input: studentInput(config),
      subjects: which,
      policy,
      toleranceMm,
      format: EVALUATION_FORMAT,
    },
    // a re-trained checkpoint (new size or time) is scored again
    inputs: { dataset: fileStamp(dataset.file), slices: refs.map((r) => r.image), models: models.map((m) => ({ ...m, checkpoint: fileStamp(m.checkpoint) })) },
    seed: config.seed,
    force: options.force,
    reuse: () => JSON.parse(readFileSync(file, 'utf8')) as ScoredEvaluationFile,
    work: async () => {
      applyRuntime(config);
      const slices = scoringSlices(dataset, refs, studentInput(config));
      const sink = progressSink(options.progress);
      const results: EvaluationResult[] = [];
      try {
        for (const m of models) {
          options.signal?.throwIfAborted();
          sink.update({ stage: 'evaluate', unit: 'model', done: results.length, total: models.length, message: modelLabel(m) });
          const r = await scoreModel(m, slices, config, toleranceMm, options.signal);
          if (m.seed !== undefined) r.seed = m.seed; // the seeds of one arm stay apart
          log(`evaluate: ${modelLabel(m)}: mean Dice ${summarizeResult(r).overall?.toFixed(4) ?? '-'} on ${r.perSubject.length} subjects`);
          results.push(r);
        }
        sink.update({ stage: 'evaluate', unit: 'model', done: results.length, total: models.length });
      } finally {
        sink.done();
      }
      const comparisons = compareVariants(results, config.seed);
      const out: ScoredEvaluationFile = {
        format: EVALUATION_FORMAT,
        dataset: dataset.file,
        split: which,
        subjects: scored,
        size: config.student.size,
        input: studentInput(config),
        policy,
        toleranceMm,
        organs: [...ORGANS],
        models,
        results,
        comparisons,
      };
      await writeFileAtomic(file, JSON.stringify(out, null, 1) + '\n');
      await writeFileAtomic(path.join(dir, 'dice.csv'), diceCsv(results));
      await writeFileAtomic(path.join(dir, 'summary.csv'), withFalsePositiveTotals(summaryCsv(results), results));
      await writeFileAtomic(path.join(dir, 'false-positives.csv'), falsePositivesCsv(results));
      await writeFileAtomic(path.join(dir, COMPARISONS_FILE), comparisonsCsv(comparisons));
      await writeFileAtomic(path.join(dir, 'metrics.csv'), boundaryCsv(results));
      const meanDice = Object.fromEntries(results.map((r) => [modelLabel(r), summarizeResult(r).overall]));
      const falsePositiveSlices = Object.fromEntries(
        results.map((r) => [modelLabel(r), falsePositiveTotals(r.perSubject, ORGANS.length).map((t) => t.slices)]),
      );
      return {
        outputs: {
          results: RESULTS_FILE,
          dice: 'dice.csv',
          summary: 'summary.csv',
          comparisons: COMPARISONS_FILE,
          falsePositives: 'false-positives.csv',
          metrics: 'metrics.csv',
        },
        metrics: { subjects: scored.length, slices: refs.length, policy, meanDice, falsePositiveSlices },
        result: out,
      };
    },
  });
  log(reused ? `evaluate: finished earlier (${dir}), reused` : `evaluate: wrote ${dir}`);
  log(diceTableText(result.results, { comparisons: result.comparisons }));
  return { dir, file, results: result.results, comparisons: result.comparisons, reused };
}
