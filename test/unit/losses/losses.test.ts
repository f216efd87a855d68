import assert from 'node:assert/strict';
import { clipGradNorm, losses, tensor, type Tensor } from '../../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

describe('losses', function () {
  let fx: Fixtures;
  before(async function () {
    fx = await fixturesOrSkip(this);
  });

  const asTensors = (c: Fixtures['reference']['losses'][number]) => {
    const logits = tensor(new Float64Array(c.logits), c.shape, { requiresGrad: true });
    const labelShape = [c.shape[0]!, ...c.shape.slice(2)];
    const labels = tensor(BigInt64Array.from(c.labels.map(BigInt)), labelShape);
    const ignored = tensor(BigInt64Array.from(c.ignoredLabels.map(BigInt)), labelShape);
    return { logits, labels, ignored };
  };

  for (const dims of ['2D', '3D']) {
    it(`cross-entropy and soft Dice equal PyTorch in ${dims}, values and gradients`, function () {
      const c = fx.reference.losses[dims === '2D' ? 0 : 1]!;
      const { logits, labels, ignored } = asTensors(c);
      const ce = losses.crossEntropy(logits, labels);
      const dice = losses.dice(logits, labels);
      assert.ok(Math.abs((ce.item() as number) - c.crossEntropy) < 1e-12);
      assert.ok(Math.abs((dice.item() as number) - c.dice) < 1e-12);
      ce.mul(0.4).add(dice.mul(0.6)).backward();
      assert.ok(maxAbsDiff(logits.grad!.toArray() as Float64Array, c.segGrad) < 1e-12);
      const weighted = losses.crossEntropy(logits, ignored, { weight: tensor(new Float64Array(c.classWeights)), ignoreIndex: 255 });
      assert.ok(Math.abs((weighted.item() as number) - c.crossEntropyWeightedIgnore) < 1e-12);
      const linear = losses.dice(logits, labels, { squared: false, smooth: 1, includeBackground: false });
      assert.ok(Math.abs((linear.item() as number) - c.diceLinearNoBackground) < 1e-12);
    });
  }

  it('Dice is near 0 for a confident correct prediction and ignores ignoreIndex pixels', function () {
    const labels = tensor(BigInt64Array.from([0n, 1n, 2n, 1n]), [1, 2, 2]);
    const logits = labels.oneHot(3).permute([0, 3, 1, 2]).to('float32').mul(50);
    assert.ok((losses.dice(logits, labels).item() as number) < 1e-6);
    const withIgnored = tensor(BigInt64Array.from([0n, 1n, 2n, 255n]), [1, 2, 2]);
    assert.ok((losses.dice(logits, withIgnored, { ignoreIndex: 255 }).item() as number) < 1e-6);
  });

  it('labels out of range, wrong shapes and dtypes are typed errors', function () {
    const logits = tensor(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    const bad = tensor(BigInt64Array.from([0n, 1n, 2n, 3n, 0n, 0n, 0n, 0n]), [2, 2, 2]);
    assert.throws(
      () => losses.crossEntropy(logits, bad),
      (e: Error) => e instanceof RangeError && /value 3 is outside \[0, 3\)/.test(e.message),
    );
    assert.throws(() => losses.dice(logits, bad), RangeError);
    assert.throws(
      () => losses.dice(logits, tensor(BigInt64Array.from([0n, 1n]), [1, 2])),
      (e: Error) => e instanceof RangeError && /labels: shape/.test(e.message),
    );
    assert.throws(
      () => losses.crossEntropy(logits, logits.select(1, 0)),
      (e: Error) => e instanceof TypeError && /integer/.test(e.message),
    );
    assert.throws(() => losses.crossEntropy(logits, bad.clamp(0, 2), { weight: tensor([1, 2]) }), /classWeights|weight/);
  });

  it('clipGradNorm scales gradients to the norm and returns the norm before', function () {
    const a = tensor([3, 0], { requiresGrad: true });
    const b = tensor([0, 4], { requiresGrad: true });
    a.mul(a.detach()).sum().add(b.mul(b.detach()).sum()).backward(); // grads = values
    const norm = clipGradNorm([a, b] as Tensor[], 1);
    assert.ok(Math.abs(norm - 5) < 1e-6);
    const g = [...(a.grad!.toArray() as Float32Array), ...(b.grad!.toArray() as Float32Array)];
    assert.ok(maxAbsDiff(g, [0.6, 0, 0, 0.8]) < 1e-6);
  });
});
