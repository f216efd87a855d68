import assert from 'node:assert/strict';
import { ExplicitZRange, KidneyRangeCrop, type CropVolume } from '../../../lib/data/body-part.js';
import { SliceScoreCrop, smoothScores } from '../../../lib/infer/body-part-regressor.js';
import * as nifti from '../../../lib/data/nifti.js';
import { CASE_A, CASE_B, requireRealCt } from '../../support/data-fixtures.js';
import { fixturesOrSkip } from '../../support/python.js';

async function volume(files: { ct: string; seg: string }): Promise<CropVolume> {
  const [ct, seg] = await Promise.all([nifti.read(files.ct), nifti.read(files.seg)]);
  return { shape: ct.shape, spacing: ct.spacing, affine: ct.affine, image: ct.data, label: seg.data, file: files.ct };
}

describe('data: lumbar crop', () => {
  it('kidney range on case A: z = 66..104 widened by the margin; none in case B', async function () {
    requireRealCt(this);
    const a = await volume(CASE_A);
    assert.deepEqual(await new KidneyRangeCrop({ marginMm: 0 }).zRange(a), { start: 66, end: 105 });
    assert.deepEqual(await new KidneyRangeCrop().zRange(a), { start: 63, end: 108 }, '10 mm = 3 slices of 3 mm each side');
    assert.deepEqual(await new KidneyRangeCrop({ marginMm: 1000 }).zRange(a), { start: 0, end: 112 });
    const b = await volume(CASE_B);
    assert.equal(await new KidneyRangeCrop().zRange(b), null);
    assert.deepEqual(await new KidneyRangeCrop({ whenAbsent: 'whole' }).zRange(b), { start: 0, end: 20 });
  });

  it('explicit ranges in slices or in world mm', async () => {
    const v: CropVolume = {
      shape: [4, 4, 10],
      spacing: [1, 1, 2],
      affine: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, -100],
        [0, 0, 0, 1],
      ],
    };
    assert.deepEqual(await new ExplicitZRange({ start: 2, end: 5 }).zRange(v), { start: 2, end: 5 });
    assert.deepEqual(await new ExplicitZRange({ start: -3, end: 50 }).zRange(v), { start: 0, end: 10 });
    assert.deepEqual(await new ExplicitZRange({ start: -96, end: -90, unit: 'mm' }).zRange(v), { start: 2, end: 6 });
    assert.equal(await new ExplicitZRange({ start: 20, end: 30 }).zRange(v), null);
    assert.throws(() => new ExplicitZRange({ start: 3, end: 3 }), RangeError);
    await assert.rejects(new KidneyRangeCrop().zRange(v), /needs the label volume/);
  });

  it('slice-score smoothing: a least-squares line or a running median', () => {
    const noisy = [0, 1, 2, 30, 4, 5, 6];
    const line = smoothScores(noisy, 'linear');
    assert.ok(
      line.every((v, i, arr) => i === 0 || v > arr[i - 1]),
      'monotone',
    );
    assert.deepEqual(smoothScores(noisy, 'median'), [1, 2, 2, 4, 5, 6, 5]);
    assert.deepEqual(smoothScores(noisy, 'none'), noisy);
  });

  it('slice-score crop: a TorchScript regressor scores every slice; the kept range is where the score lies within [lower, upper]', async function () {
    const { dir } = await fixturesOrSkip(this);
    // 40 slices of 12 x 10 voxels; slice k is uniform at -1000 + 50 k HU, so with the default
    // window [-1000, 1500] -> [-1, 1] the stand-in regressor (10 x mean) scores k / 2.5 - 10 + noise-free
    const [nx, ny, nz] = [12, 10, 40];
    const image = new Float32Array(nx * ny * nz);
    for (let k = 0; k < nz; k++) image.fill(-1000 + 50 * k, k * nx * ny, (k + 1) * nx * ny);
    const vol: CropVolume = {
      shape: [nx, ny, nz],
      spacing: [1, 1, 2.5],
      affine: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2.5, 0],
        [0, 0, 0, 1],
      ],
      image,
      file: 'ramp',
    };
    const crop = new SliceScoreCrop({ module: `${dir}/mean_score.pt`, lower: -4, upper: 2, inputSize: 16, batchSize: 7 });
    const scores = await crop.scores(vol);
    assert.equal(scores.length, nz);
    scores.forEach((s, k) => assert.ok(Math.abs(s - (k / 2.5 - 10)) < 1e-4, `slice ${k}: ${s}`));
    // k / 2.5 - 10 in [-4, 2] <=> k in [15, 30]
    assert.deepEqual(await crop.zRange(vol), { start: 15, end: 31 });
    const none = new SliceScoreCrop({ module: crop.module, lower: 50, upper: 60 });
    assert.equal(await none.zRange(vol), null);
    assert.throws(() => new SliceScoreCrop({ module: crop.module, lower: 2, upper: 1 }), RangeError);
    await assert.rejects(crop.scores({ ...vol, image: undefined }), /needs the image/);
  });
});
