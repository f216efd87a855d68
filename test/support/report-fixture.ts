// A report made from a hand-written results.json (three students, three arms, two seeds, with
// boundary metrics) and train-log.jsonl files beside the checkpoints it names: what the report
// tests read back and screenshot. No model runs (overlays 0).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ORGANS } from '../../lib/eval/dice.js';
import type { EvaluationResult } from '../../lib/eval/results.js';
import { compareVariants, EVALUATION_FORMAT, type EvaluationFile, type ModelToEvaluate } from '../../lib/pipeline/results-file.js';
import { report } from '../../lib/pipeline/stages/report.js';

export const MODELS = ['DeepLabv3', 'Swin-Unet', 'MISSFormer'];
export const VARIANTS = ['none', 'continued', 'unest'];
const FOLDER: Record<string, string> = { none: 'pretrain', continued: 'distill-continued', unest: 'distill-unest' };

export interface ReportFixture {
  dir: string;
  html: string;
  evaluation: EvaluationFile;
  /** train-log.jsonl records per checkpoint. */
  logs: Map<string, Record<string, number | boolean>[]>;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

export async function makeReport(root: string): Promise<ReportFixture> {
  const r = rng(7);
  const subjects = Array.from({ length: 8 }, (_, i) => `s${i}`);
  const models: ModelToEvaluate[] = [];
  const results: EvaluationResult[] = [];
  const logs = new Map<string, Record<string, number | boolean>[]>();
  MODELS.forEach((model, mi) => {
    VARIANTS.forEach((variant, vi) => {
      for (const seed of [0, 1]) {
        const dir = path.join(root, 'run', 'students', `${model.toLowerCase()}-s${seed}`, FOLDER[variant]!);
        mkdirSync(dir, { recursive: true });
        const checkpoint = path.join(dir, 'best.ckpt');
        models.push({ model, variant, checkpoint, seed });
        const base = 0.55 + 0.08 * mi + 0.03 * vi;
        results.push({
          model,
          variant,
          seed,
          organs: [...ORGANS],
          perSubject: subjects.map((subject) => {
            const dice = ORGANS.map((_, k) => (k === 1 && subject === 's0' ? null : Math.min(1, Math.max(0, base + 0.1 * (r() - 0.5) - 0.02 * k))));
            return {
              subject,
              dice,
              iou: dice.map((d) => (d === null ? null : d / (2 - d))),
              hd95: dice.map((d) => (d === null ? null : 3 + 10 * (1 - d))),
              nsd: dice.map((d) => (d === null ? null : Math.min(1, d + 0.05))),
              slices: 1,
            };
          }),
        });
        const distilled = variant === 'unest';
        const epochs = Array.from({ length: 6 }, (_, epoch) => {
          const seg = 1.2 * Math.exp(-epoch / 3) + 0.1 * r();
          const rec: Record<string, number | boolean> = { epoch, loss: seg, lr: 0.01, seconds: 1, seg, valDice: base - 0.3 * Math.exp(-epoch / 2), best: true };
          if (distilled)
            Object.assign(rec, {
              dist: 0.4 - 0.03 * epoch,
              distInter: 0.25 - 0.02 * epoch,
              distIntra: 0.15 - 0.01 * epoch,
              loss: seg + 0.5 * (0.4 - 0.03 * epoch),
            });
          return rec;
        });
        logs.set(checkpoint, epochs);
        writeFileSync(path.join(dir, 'train-log.jsonl'), epochs.map((e) => JSON.stringify(e)).join('\n') + '\n');
      }
    });
  });
  const evaluation: EvaluationFile = {
    format: EVALUATION_FORMAT,
    dataset: path.join(root, 'data', 'dataset.json'),
    split: 'test',
    subjects,
    size: 64,
    organs: [...ORGANS],
    models,
    results,
    comparisons: compareVariants(results, 0),
  };
  const evalDir = path.join(root, 'run', 'evaluate');
  mkdirSync(evalDir, { recursive: true });
  const file = path.join(evalDir, 'results.json');
  writeFileSync(file, JSON.stringify({ ...evaluation, policy: 'present', toleranceMm: 2 }));
  const out = await report(null, { evaluation: file, overlays: 0, out: path.join(root, 'report'), log: () => {} });
  return { dir: out.dir, html: out.html, evaluation, logs };
}
