// The preprocessing a student checkpoint or a prototype was made with, read back so that the
// next step uses the same one (predict) or refuses a mismatch (distill): pretrain and distill
// record studentInput(config) in their checkpoints' settings, the prototype stage hu.window in
// its provenance.
import type { SliceInput } from '../data/transforms.js';
import { readCheckpointInfo } from '../train/checkpoint.js';

function isWindow(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[1] > v[0];
}

/** A training checkpoint's recorded slice input; null for a TorchScript file or a checkpoint of an earlier version. */
export async function recordedSliceInput(file: string): Promise<SliceInput | null> {
  if (!/\.ckpt$/i.test(file)) return null;
  const extra = (await readCheckpointInfo(file)).extra as { config?: { config?: { input?: unknown } } } | null;
  const input = extra?.config?.config?.input as Partial<SliceInput> | undefined;
  if (!input || typeof input.size !== 'number' || !isWindow(input.window)) return null;
  return typeof input.fieldOfViewMm === 'number'
    ? { size: input.size, window: input.window, fieldOfViewMm: input.fieldOfViewMm }
    : { size: input.size, window: input.window };
}

/** The HU window in a prototype file's provenance, or null where it records none (files of earlier versions). */
export function recordedPrototypeWindow(provenance: Record<string, unknown>): [number, number] | null {
  return isWindow(provenance.huWindow) ? provenance.huWindow : null;
}

export function sameWindow(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
