import assert from 'node:assert/strict';
import { TensorDisposedError, keep, memory, ones, scope, tensor, tidy, zeros, type Tensor } from '../../../lib/index.js';
import { tick } from '../../support/helpers.js';

const gc = (globalThis as { gc?: () => void }).gc;

async function collect(): Promise<void> {
  // N-API finalizers run after the GC pass, from the event loop
  for (let i = 0; i < 5; i++) {
    gc?.();
    await tick();
  }
}

describe('tensor memory', () => {
  before(collect);

  it('dispose frees at once and memory() counts each storage once', () => {
    const before = memory();
    const t = zeros([256, 256]);
    const view = t.reshape(-1);
    const during = memory();
    assert.equal(during.tensors - before.tensors, 2);
    assert.equal(during.storages - before.storages, 1, 'a view shares its storage');
    assert.equal(during.bytes - before.bytes, 256 * 256 * 4);
    t.dispose();
    assert.equal(memory().bytes - before.bytes, 256 * 256 * 4, 'the view keeps the storage alive');
    view.dispose();
    view.dispose();
    assert.deepEqual(memory(), before);
  });

  it('Symbol.dispose frees a `using` tensor at the end of its block', () => {
    const before = memory().tensors;
    let escaped: Tensor;
    {
      using t = ones([4]);
      escaped = t;
      assert.equal(memory().tensors, before + 1);
    }
    assert.equal(memory().tensors, before);
    assert.throws(() => escaped.sum(), TensorDisposedError);
  });

  it('scope disposes what was made inside except what it returns', () => {
    const before = memory().tensors;
    const outer = ones([3]);
    const { kept, pair } = scope(() => {
      const a = outer.add(1);
      const b = a.mul(2);
      const c = b.sum();
      return { kept: c, pair: [a.neg(), 5] as const };
    });
    assert.equal(memory().tensors, before + 3, 'outer, kept and pair[0] survive');
    assert.equal(kept.item(), 12);
    assert.deepEqual(pair[0].toList(), [-2, -2, -2]);
    assert.equal(outer.isDisposed, false, 'tensors made outside are untouched');
    outer.dispose();
    kept.dispose();
    pair[0].dispose();
    assert.equal(memory().tensors, before);
  });

  it('nested scopes hand returned tensors to the enclosing scope; keep() exempts', () => {
    const before = memory().tensors;
    let survivor: Tensor | undefined;
    const result = tidy(() => {
      const inner = scope(() => ones([2]).add(1));
      assert.equal(inner.isDisposed, false);
      survivor = keep(zeros([1]));
      inner.mul(3); // made in the outer scope, not returned: disposed
      return inner.sum();
    });
    assert.equal(result.item(), 4);
    assert.equal(memory().tensors, before + 2);
    result.dispose();
    survivor!.dispose();
    assert.equal(memory().tensors, before);
  });

  it('a scope that throws disposes everything it made', () => {
    const before = memory().tensors;
    assert.throws(
      () =>
        scope(() => {
          ones([5]);
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(memory().tensors, before);
  });

  it('async scopes follow their own continuations', async () => {
    const before = memory().tensors;
    let outside: Tensor | undefined;
    const pending = scope(async () => {
      const a = ones([2]);
      await tick();
      const b = a.add(1);
      await tick();
      return b;
    });
    // eslint-disable-next-line prefer-const -- assigned here, while the scope runs, on purpose
    outside = ones([1]); // made concurrently, outside the scope: not collected by it
    const b = await pending;
    assert.equal(outside.isDisposed, false);
    assert.deepEqual(b.toList(), [2, 2]);
    assert.equal(memory().tensors, before + 2);
    b.dispose();
    outside.dispose();
  });

  it('creating and disposing 100k tensors keeps memory() flat', () => {
    const before = memory();
    let peak = 0;
    const base = ones([16]);
    for (let i = 0; i < 100_000; i++) {
      const t = base.add(i);
      const u = tensor(new Float32Array(8));
      peak = Math.max(peak, memory().tensors);
      t.dispose();
      u.dispose();
    }
    base.dispose();
    assert.deepEqual(memory(), before);
    assert.ok(peak <= before.tensors + 3, `peak ${peak} live tensors`);
  });

  it('tensors that are never disposed are reclaimed by the GC', async function () {
    if (!gc) this.skip();
    await collect();
    const before = memory();
    for (let i = 0; i < 20_000; i++) ones([64]).mul(2);
    assert.ok(memory().tensors >= before.tensors + 20_000, 'still alive before collection');
    await collect();
    assert.ok(memory().tensors <= before.tensors + 10, `${memory().tensors - before.tensors} tensors left`);
    assert.ok(memory().bytes <= before.bytes + 10 * 64 * 4);
  });

  it('external memory reporting lets V8 collect large forgotten tensors on its own', async () => {
    // 4 GiB in 1 MiB tensors, never disposed and no explicit gc(): V8 must notice them
    const before = memory().bytes;
    let peak = 0;
    for (let round = 0; round < 64; round++) {
      for (let i = 0; i < 64; i++) zeros([256, 1024]);
      peak = Math.max(peak, memory().bytes - before);
      await tick();
    }
    assert.ok(peak < 2 ** 30, `peak ${(peak / 2 ** 20).toFixed(0)} MiB held`);
  });
});
