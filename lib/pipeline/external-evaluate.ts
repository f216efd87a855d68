// evaluate --pred DIR --ref DIR: scores label files made by anything (another slice-distill run,
// nnU-Net 2D, TotalSegmentator after mapping to the seven class ids) against reference labels,
// matched by file name. Per organ and file (one file = one subject): Dice, IoU, HD95 and the
// normalised surface Dice in mm from the reference's spacing; with two or more prediction
// folders, each is compared with the first, paired by subject, as the pipeline compares arms
// (bootstrap CI, Wilcoxon, Holm), on Dice and on NSD. With --images, organ measurements
// (area, HU) of the reference and of every prediction go to measurements.csv.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { affinesClose } from '../data/geometry.js';
import * as nifti from '../data/nifti.js';
import { diceScores, NUM_CLASSES, ORGANS } from '../eval/dice.js';
import { compareArms, type Comparison } from '../eval/comparisons.js';
import { organStats } from '../eval/organ-stats.js';
import { summarizeResult, type EvaluationResult } from '../eval/results.js';
import { iouFromDice } from '../eval/subject-boundary.js';
import { boundaryScoresPerClass, DEFAULT_TOLERANCE_MM, type Grid } from '../eval/surface.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { csv } from '../util/csv.js';
import { ConfigError } from './config-schema.js';
import { defaultLog } from './context.js';

export const EXTERNAL_FORMAT = 'slice-distill-external-evaluation/1';
/** The model name every result carries, so that the folders pair up as arms of one model. */
const MODEL = 'predictions';
const CLASS_IDS = ORGANS.map((_, i) => i + 1);

export interface ExternalEvaluateOptions {
  /** Folders of predicted label files; the first is the reference arm of the comparisons. */
  pred: string[];
  /** Folder of reference label files (class ids 0..6). */
  ref: string;
  /** Folder of the CT images (HU), for measurements.csv. */
  images?: string;
  out: string;
  /** NSD tolerance in mm (default 2). */
  toleranceMm?: number;
  /** Names of the prediction folders (default: their folder names). */
  names?: string[];
  log?: (line: string) => void;
}

export interface ExternalEvaluation {
  format: typeof EXTERNAL_FORMAT;
  reference: string;
  images: string | null;
  predictions: { name: string; dir: string }[];
  toleranceMm: number;
  organs: string[];
  subjects: string[];
  /** One per prediction folder (variant = its name); perSubject carries dice, iou, hd95 and nsd. */
  results: EvaluationResult[];
  /** Each folder against the first: on Dice (metric 'dice') and on NSD (metric 'nsd'). */
  comparisons: (Comparison & { metric: 'dice' | 'nsd' })[];
}

const NIFTI = /\.nii(\.gz)?$/i;

/** The key a file is matched by: its name without .nii[.gz], a trailing _seg (predict's outputs) or _0000 (nnU-Net's channel). */
export function matchKey(file: string): string {
  return path
    .basename(file)
    .replace(NIFTI, '')
    .replace(/_(seg|0000)$/i, '');
}

function listFolder(dir: string, what: string, problems: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    problems.push(`${dir}: ${what} folder not found`);
    return out;
  }
  for (const f of readdirSync(dir)
    .filter((n) => NIFTI.test(n))
    .sort()) {
    const key = matchKey(f);
    const had = out.get(key);
    if (had) problems.push(`${path.join(dir, f)} and ${had} both match '${key}'`);
    else out.set(key, path.join(dir, f));
  }
  if (out.size === 0) problems.push(`${dir}: no .nii or .nii.gz files in this ${what} folder`);
  return out;
}

function unmatched(a: Map<string, string>, b: Map<string, string>, aWhat: string, bWhat: string): string[] {
  const missing = [...a.keys()].filter((k) => !b.has(k)).map((k) => path.basename(a.get(k)!));
  return missing.length ? [`${missing.length} file(s) in ${aWhat} without a match in ${bWhat}: ${missing.join(', ')}`] : [];
}

/** The grid of a file: 2D (X, Y) for one slice, 3D otherwise; spacing in mm. */
function gridOf(image: nifti.NiftiImage): Grid {
  const [nx, ny, nz] = image.shape;
  return nz === 1 ? { shape: [nx, ny], spacing: [image.spacing[0], image.spacing[1]] } : { shape: [nx, ny, nz], spacing: [...image.spacing] };
}

async function readLabels(file: string, ref?: nifti.NiftiImage, refFile?: string): Promise<nifti.NiftiImage> {
  const img = await nifti.read(file);
  if (ref) {
    if (img.shape.some((v, i) => v !== ref.shape[i]))
      throw new ConfigError([`${file}: shape [${img.shape.join(', ')}] differs from ${refFile}'s [${ref.shape.join(', ')}]`], 'evaluate');
    if (!affinesClose(img.affine, ref.affine))
      throw new ConfigError([`${file}: its geometry (affine) differs from ${refFile}'s; resample it onto the reference grid first`], 'evaluate');
  }
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i]!;
    if (!(v >= 0 && v < NUM_CLASSES && Math.floor(v) === v))
      throw new ConfigError([`${file}: voxel ${i} holds ${v}, not a class id 0..${NUM_CLASSES - 1} (map the labels to the seven classes first)`], 'evaluate');
  }
  return img;
}

function names(o: ExternalEvaluateOptions): string[] {
  const given = o.names ?? o.pred.map((d) => path.basename(path.resolve(d)));
  // equal folder names (a/preds, b/preds) fall back to the paths as given
  return new Set(given).size === given.length ? given : o.pred.slice();
}

export async function evaluateFolders(o: ExternalEvaluateOptions): Promise<{ file: string; evaluation: ExternalEvaluation }> {
  const log = o.log ?? defaultLog;
  const tolerance = o.toleranceMm ?? DEFAULT_TOLERANCE_MM;
  const problems: string[] = [];
  if (o.pred.length === 0) problems.push('--pred: give at least one folder of predictions');
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) problems.push(`tolerance: expected mm >= 0, got ${tolerance}`);
  const arms = names(o);
  const ref = listFolder(o.ref, 'reference', problems);
  const preds = o.pred.map((d) => listFolder(d, 'prediction', problems));
  const images = o.images ? listFolder(o.images, 'image', problems) : null;
  if (ref.size) {
    preds.forEach((p, i) => {
      if (p.size === 0) return;
      problems.push(...unmatched(p, ref, o.pred[i]!, o.ref), ...unmatched(ref, p, o.ref, o.pred[i]!));
    });
    if (images?.size) problems.push(...unmatched(ref, images, o.ref, o.images!));
  }
  if (problems.length) throw new ConfigError(problems, 'evaluate');

  const subjects = [...ref.keys()];
  const results: EvaluationResult[] = arms.map((name) => ({ model: MODEL, variant: name, organs: [...ORGANS], perSubject: [] }));
  const measurements: unknown[][] = [['subject', 'labels', 'slice', 'z_mm', 'organ', 'pixels', 'area_mm2', 'mean_hu', 'sd_hu', 'median_hu', 'iqr_hu']];
  for (const key of subjects) {
    const refFile = ref.get(key)!;
    const truth = await readLabels(refFile);
    const grid = gridOf(truth);
    const image = images ? await nifti.read(images.get(key)!) : null;
    if (image && image.shape.some((v, i) => v !== truth.shape[i]))
      throw new ConfigError([`${images!.get(key)}: shape [${image.shape.join(', ')}] differs from ${refFile}'s [${truth.shape.join(', ')}]`], 'evaluate');
    const measure = (labels: ArrayLike<number>, source: string): void => {
      if (!image) return;
      for (const s of organStats(image, labels))
        measurements.push([key, source, s.slice, s.zMm, s.organ, s.pixels, s.areaMm2, s.meanHu, s.sdHu, s.medianHu, s.iqrHu]);
    };
    measure(truth.data, 'reference');
    for (let a = 0; a < arms.length; a++) {
      const predFile = preds[a]!.get(key)!;
      const pred = await readLabels(predFile, truth, refFile);
      const dice = diceScores(pred.data, truth.data, NUM_CLASSES);
      const boundary = boundaryScoresPerClass(pred.data, truth.data, grid, CLASS_IDS, tolerance);
      results[a]!.perSubject.push({
        subject: key,
        dice,
        iou: dice.map(iouFromDice),
        hd95: boundary.map((b) => b.hd95),
        nsd: boundary.map((b) => b.nsd),
        slices: truth.shape[2],
      });
      measure(pred.data, arms[a]!);
    }
  }
  const compare = (metric: 'dice' | 'nsd') => {
    if (results.length < 2) return [];
    // every folder against the first; no control arm here (a name no folder can have)
    const scored =
      metric === 'dice'
        ? results
        : results.map((r) => ({ ...r, perSubject: r.perSubject.map((s) => ({ subject: s.subject, dice: s.nsd ?? s.dice.map(() => null) })) }));
    return compareArms(scored, { baseline: arms[0], control: '\0no control' }).map((c) => ({ metric, ...c }));
  };
  const evaluation: ExternalEvaluation = {
    format: EXTERNAL_FORMAT,
    reference: path.resolve(o.ref),
    images: o.images ? path.resolve(o.images) : null,
    predictions: arms.map((name, i) => ({ name, dir: path.resolve(o.pred[i]!) })),
    toleranceMm: tolerance,
    organs: [...ORGANS],
    subjects,
    results,
    comparisons: [...compare('dice'), ...compare('nsd')],
  };
  await mkdir(o.out, { recursive: true });
  const file = path.join(o.out, 'results.json');
  await writeFileAtomic(file, JSON.stringify(evaluation, null, 1) + '\n');
  await writeFileAtomic(path.join(o.out, 'metrics.csv'), metricsCsv(results));
  await writeFileAtomic(path.join(o.out, 'summary.csv'), externalSummaryCsv(results));
  await writeFileAtomic(path.join(o.out, 'comparisons.csv'), externalComparisonsCsv(evaluation.comparisons));
  if (images) await writeFileAtomic(path.join(o.out, 'measurements.csv'), csv(measurements));
  for (const r of results) log(`evaluate: ${r.variant}: mean Dice ${summarizeResult(r).overall?.toFixed(4) ?? '-'} on ${r.perSubject.length} files`);
  return { file, evaluation };
}

/** metrics.csv: one row per prediction folder, file and organ. */
export function metricsCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [['predictions', 'subject', 'organ', 'dice', 'iou', 'hd95_mm', 'nsd']];
  for (const r of results)
    for (const s of r.perSubject) r.organs.forEach((o, k) => rows.push([r.variant, s.subject, o, s.dice[k], s.iou?.[k], s.hd95?.[k], s.nsd?.[k]]));
  return csv(rows);
}

function mean(v: number[]): number | null {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** summary.csv: per folder and organ the means over files; HD95's missing values (an empty mask) are counted, not averaged. */
export function externalSummaryCsv(results: readonly EvaluationResult[]): string {
  const rows: unknown[][] = [
    ['predictions', 'organ', 'n_dice', 'mean_dice', 'mean_iou', 'n_hd95', 'hd95_missing', 'mean_hd95_mm', 'median_hd95_mm', 'mean_nsd'],
  ];
  for (const r of results) {
    r.organs.forEach((o, k) => {
      const take = (f: (s: EvaluationResult['perSubject'][number]) => (number | null)[] | undefined) => r.perSubject.map((s) => f(s)?.[k] ?? null);
      const dice = take((s) => s.dice).filter((v): v is number => v !== null);
      const iou = take((s) => s.iou).filter((v): v is number => v !== null);
      const nsd = take((s) => s.nsd).filter((v): v is number => v !== null);
      const hdAll = take((s) => s.hd95);
      const hd = hdAll.filter((v): v is number => v !== null);
      // missing where the organ was scored (Dice defined) but HD95 is not
      const missing = r.perSubject.filter((s) => s.dice[k] !== null && (s.hd95?.[k] ?? null) === null).length;
      rows.push([r.variant, o, dice.length, mean(dice), mean(iou), hd.length, missing, mean(hd), median(hd), mean(nsd)]);
    });
  }
  return csv(rows);
}

export function externalComparisonsCsv(comparisons: ExternalEvaluation['comparisons']): string {
  const rows: unknown[][] = [['metric', 'predictions', 'baseline', 'organ', 'n', 'mean_diff', 'ci95_lo', 'ci95_hi', 'statistic', 'p', 'p_holm', 'method']];
  for (const c of comparisons)
    rows.push([c.metric, c.variant, c.baseline, c.organ, c.n, c.meanDiff, c.ci95?.[0], c.ci95?.[1], c.statistic, c.p, c.pHolm, c.method]);
  return csv(rows);
}
