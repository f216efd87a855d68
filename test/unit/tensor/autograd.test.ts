import assert from 'node:assert/strict';
import { enableGrad, isGradEnabled, noGrad, ones, tensor, zeros } from '../../../lib/index.js';
import { assertClose } from '../../support/helpers.js';

describe('autograd', () => {
  it('gradients of a small expression equal the analytic ones', () => {
    // f(x, w) = sum(sigmoid(w x) * x^2)  =>  df/dx_i = s_i x_i^2 w (1 - s_i) + 2 s_i x_i,
    //                                         df/dw = sum(s_i (1 - s_i) x_i^3)
    const xs = [0.5, -1, 2];
    const wv = 0.7;
    const x = tensor(xs, { dtype: 'float64', requiresGrad: true });
    const w = tensor(wv, { dtype: 'float64', requiresGrad: true });
    const f = x.mul(w).sigmoid().mul(x.square()).sum();
    f.backward();
    const s = xs.map((v) => 1 / (1 + Math.exp(-wv * v)));
    assertClose(
      x.grad!,
      xs.map((v, i) => s[i] * (1 - s[i]) * wv * v * v + 2 * s[i] * v),
      1e-12,
    );
    assertClose([w.grad!.item()], [xs.reduce((acc, v, i) => acc + s[i] * (1 - s[i]) * v ** 3, 0)], 1e-12);
  });

  it('matmul and softmax gradients', () => {
    // d/dA sum(A @ B) = ones @ B^T
    const A = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const B = tensor([
      [1, -1],
      [2, 0.5],
    ]);
    A.matmul(B).sum().backward();
    assertClose(A.grad!, [
      [0, 2.5],
      [0, 2.5],
    ]);
    // the softmax outputs sum to one, so the gradient of their sum is zero
    const z = tensor([[0.3, -1, 2]], { requiresGrad: true });
    z.softmax(1).sum().backward();
    assertClose(z.grad!, [[0, 0, 0]], 1e-7);
  });

  it('accumulates, retains the graph on request, and resets with zeroGrad', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.deepEqual(x.grad!.toList(), [6, 6]);
    x.zeroGrad();
    assert.equal(x.grad, null);
    const v = x.mul(2);
    v.backward(tensor([1, 10]));
    assert.deepEqual(x.grad!.toList(), [2, 20]);
  });

  it('requiresGrad, isLeaf and detach', () => {
    const x = zeros([2]);
    assert.equal(x.requiresGrad, false);
    x.requiresGrad = true;
    assert.equal(x.requiresGrad, true);
    const y = x.add(1);
    assert.equal(y.isLeaf, false);
    assert.equal(y.detach().requiresGrad, false);
    assert.throws(
      () => {
        y.requiresGrad = false;
      },
      { name: 'TypeError', message: /leaf/ },
    );
    assert.throws(() => tensor([1], { dtype: 'int64', requiresGrad: true }), { name: 'TypeError', message: /requiresGrad/ });
  });

  it('noGrad stops recording and restores the mode', () => {
    const x = ones([2], { requiresGrad: true });
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      assert.equal(enableGrad(() => x.mul(2)).requiresGrad, true);
      return x.mul(2);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    assert.throws(
      () =>
        noGrad(() => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(isGradEnabled(), true, 'restored after a throw');
    assert.throws(() => noGrad(async () => 1), { name: 'TypeError', message: /synchronous/ });
    assert.equal(isGradEnabled(), true);
  });
});
