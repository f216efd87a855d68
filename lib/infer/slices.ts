// Single slices through a 2D student: the samples of some subjects at the model's size (for
// validation during training) and predictions brought back to each slice's own resolution
// (for evaluate and predict), both in the RAS order the loader uses ([H, W] = [Y, X]).
import type { Dataset } from '../data/dataset.js';
import { SamplePipeline, type SampleRef } from '../data/sample-pipeline.js';
import { Rng } from '../data/random.js';
import { entriesOf } from '../data/splits.js';
import { gridLogitsToSlice } from '../data/model-grid.js';
import { applyTransforms, asSliceInput, sliceInputTransforms, type SliceInput } from '../data/transforms.js';
import { subjectMean, type SubjectDice } from '../eval/dice.js';
import { scoreSubjects, type ScoringPolicy } from '../eval/subject-scores.js';
import { logitsOf } from '../module/ivalue.js';
import type { ScriptModule } from '../module/script-module.js';
import { interpolate, tensor } from '../tensor/factories.js';
import { scope } from '../tensor/scope.js';
import { NUM_CLASSES } from '../data/labels.js';

/** The sample references of the slices of these subjects, in subject order. */
export function sliceRefs(dataset: Dataset, subjects: Iterable<string>): SampleRef[] {
  return entriesOf(dataset.slices, subjects).map((e): SampleRef => {
    const meta: Record<string, string> = e.level ? { level: e.level } : {};
    return e.label ? { image: e.image, label: e.label, subject: e.subject, meta } : { image: e.image, subject: e.subject, meta };
  });
}

export function slicePipeline(dataset: Dataset): SamplePipeline {
  return new SamplePipeline({ spatialDims: 2, labelMap: dataset.labelMap.entries(), unmapped: dataset.labelMap.unmapped, transforms: [] });
}

/** One slice as read (HU, class ids) and as the model sees it (windowed, on the size x size grid). */
export interface PreparedSlice {
  ref: SampleRef;
  /** Native [H, W] = [Y, X], RAS. */
  shape: [number, number];
  /** Native in-plane pixel spacing in mm, [H, W] = [Y, X]. */
  spacing: [number, number];
  hu: Float32Array;
  label: Uint8Array | null;
  input: Float32Array;
}

export function prepareSlices(pipeline: SamplePipeline, refs: readonly SampleRef[], input: SliceInput | number): PreparedSlice[] {
  const toModel = sliceInputTransforms(asSliceInput(input));
  return refs.map((ref) => {
    const base = pipeline.base(ref);
    const input = applyTransforms(toModel, { ...base, label: null }, new Rng(0)).image;
    return { ref, shape: base.shape as [number, number], spacing: base.spacing as [number, number], hu: base.image, label: base.label, input };
  });
}

/**
 * Class ids per slice at its native resolution: the module's logits on the model grid,
 * bilinearly resized to the slice (or read back through the field-of-view placement), then
 * argmax. Forward passes run off the JS thread.
 */
export async function segmentSlices(
  module: ScriptModule,
  slices: readonly PreparedSlice[],
  inputOrSize: SliceInput | number,
  batchSize = 16,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const input = asSliceInput(inputOrSize);
  const { size } = input;
  const out: Uint8Array[] = [];
  for (let b0 = 0; b0 < slices.length; b0 += batchSize) {
    signal?.throwIfAborted();
    const part = slices.slice(b0, b0 + batchSize);
    const x = new Float32Array(part.length * size * size);
    part.forEach((s, i) => x.set(s.input, i * size * size));
    const batch = tensor(x, [part.length, 1, size, size], { device: module.device });
    const output = await module.forwardAsync(batch);
    batch.dispose();
    const logits = logitsOf(output);
    scope(() => {
      part.forEach((s, i) => {
        const one = logits.narrow(0, i, 1);
        if (input.fieldOfViewMm !== undefined) {
          const classes = one.shape[1]!;
          out.push(gridLogitsToSlice(one.to('float32').contiguous().cpu().toArray() as Float32Array, classes, input, s.shape, s.spacing));
          return;
        }
        const resized = s.shape[0] === size && s.shape[1] === size ? one : interpolate(one, { size: s.shape, mode: 'bilinear' });
        out.push(resized.argmax(1).to('uint8').toArray() as Uint8Array);
      });
    });
    if (logits !== output) disposeOutput(output);
    logits.dispose();
  }
  return out;
}

function disposeOutput(output: unknown): void {
  if (output && typeof output === 'object') for (const v of Object.values(output)) (v as { dispose?: () => void })?.dispose?.();
}

/** Dice of organs 1..6 per subject, its slices pooled under the policy (see lib/eval/subject-scores). */
export function subjectDice(slices: readonly PreparedSlice[], predictions: readonly Uint8Array[], policy: ScoringPolicy = 'present'): SubjectDice[] {
  if (predictions.length !== slices.length) throw new RangeError(`predictions: ${predictions.length} for ${slices.length} slices`);
  const scored = slices.map((s, i) => {
    if (!s.label) throw new TypeError(`${s.ref.image}: no label to score against`);
    return { subject: s.ref.subject, prediction: predictions[i]!, truth: s.label, pixelAreaMm2: s.spacing[0] * s.spacing[1] };
  });
  return scoreSubjects(scored, { policy, numClasses: NUM_CLASSES });
}

/** Per-subject Dice of a module on prepared slices (the validation during training, pooled like the test). */
export async function sliceDice(
  module: ScriptModule,
  slices: readonly PreparedSlice[],
  input: SliceInput | number,
  signal?: AbortSignal,
  policy: ScoringPolicy = 'present',
): Promise<SubjectDice[]> {
  return subjectDice(slices, await segmentSlices(module, slices, input, 16, signal), policy);
}

/** The mean over subjects of each subject's mean organ Dice (the validation metric). */
export function meanSubjectDice(scores: readonly SubjectDice[]): number {
  const means = scores.map((s) => subjectMean(s.dice)).filter((v): v is number => v !== null);
  return means.length ? means.reduce((a, b) => a + b, 0) / means.length : 0;
}
