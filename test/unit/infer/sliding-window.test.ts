// Sliding-window inference over volumes (lib/infer/sliding-window.ts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { ScriptModule, noGrad, randn } from '../../../lib/index.js';
import { slidingWindowInference, windowStarts } from '../../../lib/infer/sliding-window.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

describe('sliding-window inference', function () {
  let fx: Fixtures;
  before(async function () {
    fx = await fixturesOrSkip(this);
  });

  it('window starts cover the axis, ending flush', function () {
    assert.deepEqual(windowStarts(10, 4, 0.5), [0, 2, 4, 6]);
    assert.deepEqual(windowStarts(3, 4, 0.5), [0]);
    assert.deepEqual(windowStarts(9, 4, 0.25), [0, 3, 5]);
  });

  it('equals the whole-volume forward for a pointwise model, padding small volumes', async function () {
    const m = ScriptModule.loadSync(path.join(fx.dir, 'pointwise3d.pt'));
    for (const shape of [
      [1, 1, 9, 10, 11],
      [2, 1, 3, 5, 4],
    ]) {
      const x = randn(shape);
      const whole = noGrad(() => m.forwardTensor(x));
      const windowed = await slidingWindowInference(m, x, { roiSize: [4, 6, 4], overlap: 0.5, batchSize: 2 });
      assert.deepEqual(windowed.shape, whole.shape);
      assert.ok(maxAbsDiff(windowed.toArray() as Float32Array, whole.toArray() as Float32Array) < 1e-5);
    }
  });

  it('can be aborted and rejects a wrong window rank', async function () {
    const m = ScriptModule.loadSync(path.join(fx.dir, 'pointwise3d.pt'));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(slidingWindowInference(m, randn([1, 1, 8, 8, 8]), { roiSize: [4, 4, 4], signal: controller.signal }), /abort/i);
    await assert.rejects(slidingWindowInference(m, randn([1, 1, 8, 8, 8]), { roiSize: [4, 4] }), RangeError);
  });
});
