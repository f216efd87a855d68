// Fig. 4 of the report: a few evaluated slices with the truth and each model's prediction drawn
// over the CT, the checkpoints of results.json re-run on just those slices.
import type { Dataset } from '../../data/dataset.js';
import type { SliceInput } from '../../data/transforms.js';
import { diceScores, NUM_CLASSES, subjectMean } from '../../eval/dice.js';
import type { OverlayFigureData } from '../../report/overlay.js';
import type { Figure } from '../../report/html.js';
import type { Device } from '../../tensor/dtype.js';
import type { ModelToEvaluate } from '../results-file.js';
import { loadModel } from '../models.js';
import { prepareSlices, segmentSlices, slicePipeline, sliceRefs, type PreparedSlice } from '../../infer/slices.js';

export interface OverlayOptions {
  dataset: Dataset;
  subjects: readonly string[];
  /** The models shown: one figure per slice and student, a panel per variant, in this order. */
  models: readonly ModelToEvaluate[];
  count: number;
  input: SliceInput;
  device: Device;
  /** Panel caption of a variant, e.g. 'distilled (unest)' (kept short: it sits above one panel). */
  caption: (variant: string) => string;
  signal?: AbortSignal;
}

/** The `count` labelled slices of these subjects that show the most organs (the first ones on ties). */
function pickSlices(dataset: Dataset, subjects: readonly string[], count: number, input: SliceInput): PreparedSlice[] {
  const pipeline = slicePipeline(dataset);
  const ranked = sliceRefs(dataset, subjects)
    .filter((r) => r.label)
    .map((ref, i) => ({ ref, i, organs: [...new Set(pipeline.base(ref).label)].filter((k) => k > 0).length }))
    .sort((a, b) => b.organs - a.organs || a.i - b.i)
    .slice(0, count);
  return prepareSlices(
    pipeline,
    ranked.map((r) => r.ref),
    input,
  );
}

export async function overlayFigures(o: OverlayOptions): Promise<Figure<OverlayFigureData>[]> {
  if (o.count <= 0 || o.models.length === 0) return [];
  const slices = pickSlices(o.dataset, o.subjects, o.count, o.input);
  const predictions: Uint8Array[][] = [];
  for (const m of o.models) {
    o.signal?.throwIfAborted();
    using module = (await loadModel(m.checkpoint, o.device)).eval();
    predictions.push(await segmentSlices(module, slices, o.input, 16, o.signal));
  }
  const students = [...new Set(o.models.map((m) => m.model))];
  return slices.flatMap((s, i) => {
    const [height, width] = s.shape;
    const level = s.ref.meta?.level;
    const where = `${s.ref.subject}${level ? ` (level ${level})` : ''}`;
    const dice = (p: Uint8Array) => subjectMean(diceScores(p, s.label!, NUM_CLASSES))?.toFixed(3) ?? '-';
    return students.map((student): Figure<OverlayFigureData> => ({
      id: `overlay-${student}-${s.ref.subject}`,
      caption: `${student} on ${where}: truth and predictions; Dice is the mean over the organs in this slice.`,
      data: {
        title: `${student}, ${where}`,
        image: s.hu,
        width,
        height,
        window: o.input.window ? [o.input.window[0], o.input.window[1]] : 'hu',
        // RAS rows and columns: mirror both for the radiological view (patient's right on the left, anterior up)
        flipX: true,
        flipY: true,
        panels: [
          { title: 'CT' },
          { title: 'truth', labels: s.label },
          ...o.models.flatMap((m, k) =>
            m.model === student ? [{ title: `${o.caption(m.variant)}: ${dice(predictions[k]![i]!)}`, labels: predictions[k]![i]! }] : [],
          ),
        ],
      },
    }));
  });
}
