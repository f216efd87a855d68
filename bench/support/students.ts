// The students the train and inference cases measure, their presets, and what each measurement
// starts from: the exported module, one batch and the Python worker.
import type { ModelArch, ModelPreset } from '../../lib/models/export.js';
import { studentBatch } from './batches.js';
import type { Bench } from './context.js';

export const STUDENTS: readonly ModelArch[] = ['deeplabv3', 'swin_unet', 'missformer'];

/** The presets a run covers, and the training batch of each on this device. */
export function studentPresets(bench: Bench): { preset: ModelPreset; batch: number }[] {
  const list: { preset: ModelPreset; batch: number }[] = [{ preset: 'tiny', batch: 4 }];
  if (bench.options.base) list.push({ preset: 'base', batch: bench.options.device.startsWith('cuda') ? 24 : 2 }); // 24: the paper's batch
  return list;
}

/**
 * Repetitions for one student: on the CPU a base step takes seconds, so fewer; otherwise turns
 * of three back-to-back calls (as steps follow each other in training).
 */
export function studentReps(bench: Bench, preset: ModelPreset): { warmup: number; reps: number; burst: number } {
  const { warmup, reps, device } = bench.options;
  if (preset === 'base' && !device.startsWith('cuda')) return { warmup: Math.min(2, warmup), reps: Math.min(5, reps), burst: 1 };
  return { warmup, reps, burst: 3 };
}

/** The exported student, a CPU batch [B, 1, H, W] with labels and a teacher prototype, and the Python worker. */
export async function studentSetup(bench: Bench, arch: ModelArch, preset: ModelPreset, B: number) {
  const exported = await bench.model(arch, preset);
  const [H, W] = exported.metadata.inputSize.slice(-2) as [number, number];
  const batch = studentBatch(B, H, W, 7);
  bench.resetPeaks();
  return { exported, H, W, batch, py: await bench.python(), name: `${arch} ${preset} ${B}x1x${H}x${W}` };
}
