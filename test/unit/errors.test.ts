import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TensorDisposedError, TorchError, arange, ones, tensor, zeros, interpolate } from '../../lib/index.js';
import { REPO_ROOT } from '../support/paths.js';

describe('errors', () => {
  it('argument errors are TypeError / RangeError naming the argument', () => {
    assert.throws(() => zeros([2], { dtype: 'float8' as never }), { name: 'TypeError', message: /^dtype: unknown dtype 'float8'/ });
    assert.throws(() => zeros([2], { device: 'gpu:0' as never }), { name: 'TypeError', message: /^device: 'gpu:0' is not a device/ });
    assert.throws(() => zeros([2], { device: 'cuda:0' }), { name: 'RangeError', message: /^device: .*no CUDA device/ });
    assert.throws(() => ones([2, 3]).add(ones([4])), { name: 'RangeError', message: /^add: other has shape \[4\]/ });
    assert.throws(() => ones([2, 3]).matmul(ones([2, 3])), { name: 'RangeError', message: /^matmul: other has shape \[2, 3\]/ });
    assert.throws(() => ones([2]).matmul(ones([2], { dtype: 'float64' })), { name: 'TypeError', message: /matmul: other is float64/ });
    assert.throws(() => ones([2, 3]).sum(2), { name: 'RangeError', message: /^dim: dimension 2 is out of range/ });
    assert.throws(() => ones([2, 3]).reshape(4, 2), { name: 'RangeError', message: /^shape: \[4, 2\] is invalid/ });
    assert.throws(() => ones([2, 3]).permute(0, 0), { name: 'RangeError', message: /^dims:/ });
    assert.throws(() => ones([2, 3]).narrow(1, 2, 5), { name: 'RangeError', message: /^narrow:/ });
    assert.throws(() => ones([2, 3]).select(0, 2), { name: 'RangeError', message: /^index: 2 is out of range/ });
    assert.throws(() => arange(3).mean(), { name: 'TypeError', message: /^mean: needs a floating-point tensor, got int64/ });
    assert.throws(() => arange(3).softmax(0), { name: 'TypeError', message: /softmax/ });
    assert.throws(() => ones([2]).transpose('a' as never, 0), { name: 'TypeError', message: /^dim0: expected an integer/ });
    assert.throws(() => interpolate(arange(4).reshape(1, 1, 2, 2), { size: 3, mode: 'bilinear' }), { name: 'TypeError' });
  });

  it('failures deep inside LibTorch are TorchErrors without a C++ backtrace', () => {
    // the autograd engine refuses a graph that records nothing
    const err = (() => {
      try {
        zeros([2]).sum().backward();
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof TorchError, `got ${String(err)}`);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TorchError');
    assert.match(err.message, /does not require grad/);
    assert.doesNotMatch(err.message, /Exception raised from|frame #/);
    // a kernel-level failure: a backward through a non-scalar without a gradient
    const x = ones([3], { requiresGrad: true });
    assert.throws(
      () => x.mul(2).backward(),
      (e: unknown) => e instanceof TorchError && /scalar outputs/.test(e.message),
    );
    // LibTorch's own index check keeps its class in `kind`
    assert.throws(
      () => ones([2]).indexSelect(0, tensor([5], { dtype: 'int64' })),
      (e: unknown) => e instanceof TorchError && e.kind === 'IndexError',
    );
  });

  it('a disposed tensor throws TensorDisposedError, in TS and in native argument checks', () => {
    const t = ones([2]);
    const u = ones([2]);
    t.dispose();
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), TensorDisposedError);
    assert.throws(() => u.add(t), TensorDisposedError);
    assert.equal(String(t), 'Tensor(disposed)');
  });

  it('the process survives thousands of failures', () => {
    for (let i = 0; i < 2000; i++) {
      assert.throws(() => ones([2, 3]).matmul(ones([2, 3])));
      assert.throws(() => zeros([1]).sum().backward(), TorchError);
    }
    assert.equal(ones([2]).add(1).sum().item(), 4);
  });

  it('bad input from plain JavaScript never aborts a process', () => {
    // untyped callers can pass anything; each call must throw, never crash
    const script = `
      import * as sd from ${JSON.stringify(path.join(REPO_ROOT, 'lib', 'index.ts'))};
      const bad = [undefined, null, NaN, Infinity, -1, 2 ** 60, 'x', {}, [], [[1]], () => 1, Symbol('s'), 10n ** 30n];
      let thrown = 0;
      const t = sd.ones([2, 2]);
      for (const v of bad) {
        for (const f of [
          () => sd.zeros(v), () => sd.tensor(v), () => t.add(v), () => t.reshape(v), () => t.sum(v),
          () => t.to(v), () => t.index(v), () => sd.cat(v), () => sd.interpolate(t, v), () => t.oneHot(v),
          () => sd.manualSeed(v), () => sd.setNumThreads(v), () => t.narrow(v, v, v), () => t.rot90(v, v),
        ]) {
          try { f(); } catch (e) { if (!(e instanceof Error)) throw new Error('non-Error thrown'); thrown++; }
        }
      }
      console.log('survived', thrown);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /survived \d+/);
  });
});
