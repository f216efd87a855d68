// 3D volumes through the teacher: read in RAS, optionally cut to a z-range (the lumbar crop),
// windowed and resampled to the teacher's spacing, then segmented whole by Gaussian-weighted
// sliding windows of the teacher's input size.
import type { Dataset, VolumeEntry } from '../data/dataset.js';
import { SamplePipeline, type SampleRef } from '../data/sample-pipeline.js';
import { Rng } from '../data/random.js';
import { applyTransforms, resample, window, type Sample } from '../data/transforms.js';
import { diceScores } from '../eval/dice.js';
import { NUM_CLASSES } from '../data/labels.js';
import { slidingWindowInference } from '../infer/sliding-window.js';
import type { ScriptModule } from '../module/script-module.js';
import { tensor } from '../tensor/factories.js';
import { scope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

export function volumePipeline(dataset: Dataset): SamplePipeline {
  return new SamplePipeline({ spatialDims: 3, labelMap: dataset.labelMap.entries(), unmapped: dataset.labelMap.unmapped, transforms: [], cacheBytes: 0 });
}

export function volumeRef(v: VolumeEntry, zRange?: [number, number]): SampleRef {
  const ref: SampleRef = { image: v.image, subject: v.subject, meta: v.phase ? { phase: v.phase } : {} };
  if (v.label) ref.label = v.label;
  if (zRange) ref.zRange = zRange;
  return ref;
}

/** The volume as the teacher sees it: [D, H, W], `huWindow` mapped to [0, 1], at `spacing` ([z, y, x] mm). */
export function prepareVolume(pipeline: SamplePipeline, ref: SampleRef, spacing: readonly number[], huWindow: readonly [number, number]): Sample {
  return applyTransforms([window(huWindow[0], huWindow[1]), resample({ spacing: [...spacing] })], pipeline.base(ref), new Rng(0));
}

/**
 * The slices [start, end) of a resampled axis (m slices) whose centres lie inside the range
 * [start, end) of the original axis (n slices), under the resampling's centre-aligned grid
 * (output slice o sits at input coordinate (o + 0.5) n / m - 0.5). The labels resampled by
 * nearest neighbour take exactly the original slices of the range there.
 */
export function resampledRange(range: { start: number; end: number }, n: number, m: number): { start: number; end: number } {
  const ratio = n / m;
  const clamp = (v: number) => Math.min(m, Math.max(0, v));
  // o is kept where start <= (o + 0.5) * ratio < end; the small offset keeps exact edges inside
  const start = clamp(Math.ceil(range.start / ratio - 0.5 - 1e-9));
  const end = clamp(Math.ceil(range.end / ratio - 0.5 - 1e-9));
  return { start, end: Math.max(start, end) };
}

/** Teacher logits [1, C, D, H, W] of a prepared volume. */
export function volumeLogits(module: ScriptModule, volume: Sample, o: { roi: readonly number[]; overlap: number; signal?: AbortSignal }): Promise<Tensor> {
  const input = tensor(volume.image, [1, 1, ...volume.shape], { device: module.device });
  return slidingWindowInference(module, input, { roiSize: o.roi, overlap: o.overlap, signal: o.signal }).finally(() => input.dispose());
}

/** Per-organ Dice of the teacher on one prepared volume (null where absent from both). */
export async function volumeDice(
  module: ScriptModule,
  volume: Sample,
  o: { roi: readonly number[]; overlap: number; signal?: AbortSignal },
): Promise<(number | null)[]> {
  if (!volume.label) throw new TypeError('volumeDice: the volume has no labels');
  const logits = await volumeLogits(module, volume, o);
  const classes = scope(() => logits.argmax(1).to('uint8').toArray() as Uint8Array);
  logits.dispose();
  return diceScores(classes, volume.label, NUM_CLASSES);
}
