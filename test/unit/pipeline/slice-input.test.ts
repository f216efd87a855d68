// The students' slice input: the HU window and the model grid, stretched or spacing-aware
// (student.fieldOfViewMm), the way back from the grid to a slice's own pixels, the config keys
// that set them, and the warnings about the students' splits.
import assert from 'node:assert/strict';
import type { Dataset, ValidationReport } from '../../../lib/data/dataset.js';
import { gridLogitsToSlice } from '../../../lib/data/model-grid.js';
import { Rng } from '../../../lib/data/random.js';
import { applyTransforms, modelGridPlacement, sliceInputTransforms, type SliceInput } from '../../../lib/data/transforms.js';
import { ConfigError } from '../../../lib/pipeline/config-schema.js';
import { resolveConfig, studentInput } from '../../../lib/pipeline/config.js';
import { studentDataWarnings } from '../../../lib/pipeline/data-warnings.js';

/** A slice [H, W] of -1000 HU with a rectangle of 100 HU labelled `k` over rows r0..r1, columns c0..c1. */
function rectSlice(h: number, w: number, box: [number, number, number, number], k = 4): { image: Float32Array; label: Uint8Array } {
  const image = new Float32Array(h * w).fill(-1000);
  const label = new Uint8Array(h * w);
  for (let y = box[0]; y < box[1]; y++)
    for (let x = box[2]; x < box[3]; x++) {
      image[y * w + x] = 100;
      label[y * w + x] = k;
    }
  return { image, label };
}

/** Logits [C, size, size] that are one-hot (x 10) of the label on the grid. */
function oneHotLogits(label: Uint8Array, classes: number, size: number): Float32Array {
  const out = new Float32Array(classes * size * size);
  label.forEach((k, i) => (out[k * size * size + i] = 10));
  return out;
}

function dice(a: Uint8Array, b: Uint8Array, k: number): number {
  let both = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    both += a[i] === k && b[i] === k ? 1 : 0;
    na += a[i] === k ? 1 : 0;
    nb += b[i] === k ? 1 : 0;
  }
  return (2 * both) / (na + nb);
}

describe('slice input: HU window and model grid', () => {
  it('the window maps [low, high] to [0, 1]; without fieldOfViewMm the slice is stretched to the grid', () => {
    const { image, label } = rectSlice(40, 20, [10, 30, 5, 15]);
    const out = applyTransforms(sliceInputTransforms({ size: 32, window: [-1000, 100] }), { image, label, shape: [40, 20], spacing: [1, 2] }, new Rng(0));
    assert.deepEqual(out.shape, [32, 32]);
    assert.equal(Math.min(...out.image), 0);
    assert.equal(Math.max(...out.image), 1);
    // stretched: the rectangle covers the middle half of both axes whatever the spacing
    assert.equal(out.label![16 * 32 + 16], 4);
    assert.equal(out.label![16 * 32 + 4], 0);
  });

  it('with fieldOfViewMm an organ keeps its size in grid pixels across pixel spacings; air outside the image', () => {
    // the same 60 x 40 mm organ on a 0.5 mm and a 1 mm scanner, with different fields of view
    const fine = rectSlice(400, 400, [70, 190, 100, 180]); // 200 x 200 mm at 0.5 mm
    const coarse = rectSlice(300, 300, [40, 100, 60, 100]); // 300 x 300 mm at 1 mm
    const input: SliceInput = { size: 64, fieldOfViewMm: 320 };
    const a = applyTransforms(sliceInputTransforms(input), { image: fine.image, label: fine.label, shape: [400, 400], spacing: [0.5, 0.5] }, new Rng(0));
    const b = applyTransforms(sliceInputTransforms(input), { image: coarse.image, label: coarse.label, shape: [300, 300], spacing: [1, 1] }, new Rng(0));
    const area = (l: Uint8Array) => l.reduce((n, v) => n + (v === 4 ? 1 : 0), 0);
    // 60 x 40 mm at 5 mm per grid pixel: 12 x 8 = 96 pixels in both
    assert.ok(Math.abs(area(a.label!) - 96) <= 16, `fine ${area(a.label!)}`);
    assert.ok(Math.abs(area(b.label!) - 96) <= 16, `coarse ${area(b.label!)}`);
    // 200 mm of image in a 320 mm grid: the border is padding (0 after the window)
    assert.deepEqual(a.shape, [64, 64]);
    assert.equal(a.image[0], 0);
    assert.deepEqual(modelGridPlacement(input, [400, 400], [0.5, 0.5]), { resampled: [40, 40], start: [-12, -12] });
    // stretching instead would make them differ by the ratio of the fields of view (2.25x)
    const sa = applyTransforms(
      sliceInputTransforms({ size: 64 }),
      { image: fine.image, label: fine.label, shape: [400, 400], spacing: [0.5, 0.5] },
      new Rng(0),
    );
    const sb = applyTransforms(
      sliceInputTransforms({ size: 64 }),
      { image: coarse.image, label: coarse.label, shape: [300, 300], spacing: [1, 1] },
      new Rng(0),
    );
    assert.ok(area(sa.label!) / area(sb.label!) > 2);
  });

  it('gridLogitsToSlice brings grid logits back onto the slice (a crop, a pad and anisotropic pixels)', () => {
    for (const [shape, spacing, box, fov] of [
      [[120, 80], [0.8, 1.2], [30, 90, 20, 60], 90],
      [[60, 100], [1.5, 0.7], [10, 50, 30, 80], 200],
    ] as [[number, number], [number, number], [number, number, number, number], number][]) {
      const s = rectSlice(shape[0], shape[1], box);
      const input: SliceInput = { size: 48, fieldOfViewMm: fov };
      const grid = applyTransforms(sliceInputTransforms(input), { image: s.image, label: s.label, shape, spacing }, new Rng(0));
      const back = gridLogitsToSlice(oneHotLogits(grid.label!, 7, 48), 7, input, shape, spacing);
      assert.equal(back.length, shape[0] * shape[1]);
      const d = dice(back, s.label, 4);
      assert.ok(d > 0.93, `Dice of the round trip ${d.toFixed(3)} for shape ${shape} spacing ${spacing} fov ${fov}`);
    }
    // a grid smaller than the slice: pixels off the grid are background
    const s = rectSlice(100, 100, [0, 100, 0, 100]);
    const input: SliceInput = { size: 16, fieldOfViewMm: 50 };
    const back = gridLogitsToSlice(oneHotLogits(new Uint8Array(256).fill(4), 7, 16), 7, input, [100, 100], [1, 1]);
    assert.equal(back[0], 0);
    assert.equal(back[50 * 100 + 50], 4);
    assert.equal(dice(back, s.label, 4) < 0.5, true);
    assert.throws(() => gridLogitsToSlice(new Float32Array(10), 7, input, [100, 100], [1, 1]), /expected 7 x 16 x 16/);
  });

  it('config: hu.window and student.fieldOfViewMm are checked and reach studentInput', () => {
    const c = resolveConfig({ dataset: 'd', runDir: 'r', hu: { window: [-100, 300] }, student: { size: 96, fieldOfViewMm: 350 } }, '/');
    assert.deepEqual(studentInput(c), { size: 96, window: [-100, 300], fieldOfViewMm: 350 });
    assert.deepEqual(studentInput(resolveConfig({ dataset: 'd', runDir: 'r', student: { size: 96 } }, '/')), { size: 96, window: [-175, 250] });
    assert.throws(
      () => resolveConfig({ dataset: 'd', runDir: 'r', hu: { window: [300, -100] } }, '/'),
      (e: unknown) => e instanceof ConfigError && /hu\.window: expected \[low, high\]/.test(e.message),
    );
    assert.throws(() => resolveConfig({ dataset: 'd', runDir: 'r', hu: { window: [1] as unknown as [number, number] } }, '/'), ConfigError);
    assert.throws(
      () => resolveConfig({ dataset: 'd', runDir: 'r', student: { fieldOfViewMm: 0 } }, '/'),
      (e: unknown) => e instanceof ConfigError && /student\.fieldOfViewMm/.test(e.message),
    );
  });
});

describe('students: split warnings', () => {
  /** n slice subjects s0.., one slice each; class counts per slice from `counts(i)`. */
  function fake(n: number, counts: (i: number) => number[]): { dataset: Dataset; report: ValidationReport } {
    const slices = Array.from({ length: n }, (_, i) => ({ subject: `s${i}`, image: `/d/s${i}.nii.gz`, label: `/d/s${i}_seg.nii.gz` }));
    const dataset = { file: '/d/dataset.json', root: '/d', volumes: [], slices } as unknown as Dataset;
    const report: ValidationReport = {
      problems: [],
      volumes: [],
      slices: slices.map((s, i) => ({ subject: s.subject, shape: [8, 8, 1], spacing: [1, 1, 1], counts: counts(i) })),
    };
    return { dataset, report };
  }

  it('a class the training slices never show, a validation split of one or none, a test split too small to test on', () => {
    const { dataset, report } = fake(5, () => [10, 1, 0, 1, 1, 1, 1]);
    const c = resolveConfig({ dataset: '/d', runDir: 'r', split: { train: 3, val: 1, test: 1 } }, '/');
    const w = studentDataWarnings(c, dataset, report);
    assert.equal(w.length, 3, w.join('\n'));
    assert.match(w[0]!, /never show right kidney \(2\)/);
    assert.match(w[1]!, /one validation subject \(s\d\)/);
    assert.match(w[2]!, /leaves 1 test subject: no confidence interval/);
    const none = studentDataWarnings(resolveConfig({ dataset: '/d', runDir: 'r', split: { train: 3, val: 0, test: 2 } }, '/'), dataset, report);
    assert.match(none.join('\n'), /no validation subject: the students keep their last epoch/);
    // enough of each and every class seen: nothing to say
    const many = fake(20, () => [10, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(studentDataWarnings(resolveConfig({ dataset: '/d', runDir: 'r' }, '/'), many.dataset, many.report), []);
  });
});
