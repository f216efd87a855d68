// Training curves from a train-log.jsonl (one JSON object per epoch, written by the Trainer):
// the loss and its terms (seg, and with distillation dist, distInter, distIntra) and the
// validation Dice per epoch, as one line chart per arm.
import { existsSync, readFileSync } from 'node:fs';
import type { LineChartData, LineSeries } from './charts.js';

/** The per-epoch values the chart shows, in this order (validation Dice last, dashed). */
export const CURVE_TERMS = ['loss', 'seg', 'dist', 'distInter', 'distIntra', 'valDice'] as const;
export type CurveTerm = (typeof CURVE_TERMS)[number];

export interface EpochRecord {
  epoch: number;
  [value: string]: number | boolean | undefined;
}

/**
 * The epochs of a train-log.jsonl (null when the file is absent). A resumed or restarted
 * training appends epochs again: the last record of each epoch wins. A line that is not JSON
 * (a write cut short by a kill) is skipped.
 */
export function readTrainLog(file: string): EpochRecord[] | null {
  if (!existsSync(file)) return null;
  const byEpoch = new Map<number, EpochRecord>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    const e = (r as EpochRecord | null)?.epoch;
    if (typeof e === 'number' && Number.isInteger(e)) byEpoch.set(e, r as EpochRecord);
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

const LABELS: Record<CurveTerm, string> = {
  loss: 'loss',
  seg: 'L_seg',
  dist: 'L_DIST',
  distInter: 'L_inter',
  distIntra: 'L_intra',
  valDice: 'validation Dice',
};

/** One chart of an arm's epochs: x = epoch (1-based), a series per term present in the log. */
export function trainingCurveData(epochs: readonly EpochRecord[], title: string): LineChartData {
  const series: LineSeries[] = [];
  for (const term of CURVE_TERMS) {
    const points = epochs.flatMap((e) => {
      const v = e[term];
      return typeof v === 'number' && Number.isFinite(v) ? [{ x: e.epoch + 1, y: v }] : [];
    });
    // loss equals seg without distillation: one line is enough
    if (term === 'seg' && !epochs.some((e) => typeof e.dist === 'number')) continue;
    if (points.length) series.push({ name: LABELS[term], points, dashed: term === 'valDice' });
  }
  return { title, xLabel: 'epoch', yLabel: 'loss / Dice', series, xTicks: epochs.length > 10 ? undefined : epochs.map((e) => e.epoch + 1) };
}
