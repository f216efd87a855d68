import assert from 'node:assert/strict';
import { arange, matmul, ones, tensor, where, zeros } from '../../../lib/index.js';
import { assertClose } from '../../support/helpers.js';

describe('tensor math', () => {
  const a = () =>
    tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);

  it('broadcasts arithmetic against hand-computed values', () => {
    const row = tensor([10, 20, 30]);
    const col = tensor([[1], [2]]);
    assert.deepEqual(a().add(row).toList(), [
      [11, 22, 33],
      [14, 25, 36],
    ]);
    assert.deepEqual(a().sub(col).toList(), [
      [0, 1, 2],
      [2, 3, 4],
    ]);
    assert.deepEqual(a().mul(col).toList(), [
      [1, 2, 3],
      [8, 10, 12],
    ]);
    assert.deepEqual(a().div(2).toList(), [
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    assert.deepEqual(a().add(row, 2).toList(), [
      [21, 42, 63],
      [24, 45, 66],
    ]);
    assert.deepEqual(col.add(row).shape, [2, 3]);
    assert.deepEqual(a().pow(2).toList(), [
      [1, 4, 9],
      [16, 25, 36],
    ]);
    assert.deepEqual(a().remainder(4).toList(), [
      [1, 2, 3],
      [0, 1, 2],
    ]);
    assert.deepEqual(
      a()
        .maximum(tensor([3, 3, 3]))
        .toList(),
      [
        [3, 3, 3],
        [4, 5, 6],
      ],
    );
  });

  it('promotes types as PyTorch does', () => {
    const i = tensor([1, 2, 3], { dtype: 'int64' });
    assert.equal(i.add(1).dtype, 'int64', 'an integral scalar keeps int64');
    assert.equal(i.add(0.5).dtype, 'float32', 'a float scalar gives the default float');
    assert.equal(i.div(2).dtype, 'float32', 'true division');
    assert.deepEqual(i.floorDivide(2).toList(), [0, 1, 1]);
    assert.equal(tensor([1], { dtype: 'float64' }).add(tensor([1])).dtype, 'float64');
  });

  it('unary functions', () => {
    assertClose(tensor([0, 1]).exp(), [1, Math.E], 1e-6);
    assertClose(tensor([1, 4]).sqrt(), [1, 2]);
    assertClose(tensor([0]).sigmoid(), [0.5]);
    assert.deepEqual(tensor([-1.5, 2]).abs().toList(), [1.5, 2]);
    assert.deepEqual(tensor([-1.5, 2]).relu().toList(), [0, 2]);
    assert.deepEqual(tensor([-1.5, 2.5]).floor().toList(), [-2, 2]);
    assert.deepEqual(tensor([-3, 0.5, 3]).clamp(-1, 1).toList(), [-1, 0.5, 1]);
    assert.deepEqual(tensor([-3, 0.5, 3]).clamp(0).toList(), [0, 0.5, 3]);
  });

  it('matmul against hand-computed products', () => {
    const m = a();
    const v = tensor([1, 0, -1]);
    assert.deepEqual(m.matmul(v).toList(), [-2, -2]);
    const n = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    assert.deepEqual(matmul(m, n).toList(), [
      [4, 5],
      [10, 11],
    ]);
    const batch = ones([4, 2, 3]).matmul(ones([3, 5]));
    assert.deepEqual(batch.shape, [4, 2, 5]);
    assert.equal(batch.sum().item(), 4 * 2 * 5 * 3);
  });

  it('reductions over all and over dims', () => {
    const m = a();
    assert.equal(m.sum().item(), 21);
    assert.deepEqual(m.sum(0).toList(), [5, 7, 9]);
    assert.deepEqual(m.sum(1, true).toList(), [[6], [15]]);
    assert.deepEqual(m.sum([0, 1]).toList(), 21);
    assert.deepEqual(m.mean(1).toList(), [2, 5]);
    assert.equal(m.max().item(), 6);
    assert.equal(m.min().item(), 1);
    const { values, indices } = m.max(1);
    assert.deepEqual(values.toList(), [3, 6]);
    assert.deepEqual(indices.toList(), [2, 2]);
    assert.equal(indices.dtype, 'int64');
    assert.equal(m.argmax().item(), 5);
    assert.deepEqual(m.argmin(0).toList(), [0, 0, 0]);
    assertClose(tensor([1, 2, 3, 4]).std(), [Math.sqrt(5 / 3)], 1e-6);
    assert.equal(tensor([1, 2, 3]).prod().item(), 6);
    assert.equal(tensor([true, false]).any().item(), 1);
    assert.equal(tensor([true, false]).all().item(), 0);
    assertClose(tensor([0, 0]).logsumexp(), [Math.log(2)]);
  });

  it('softmax and logSoftmax', () => {
    const s = tensor([[1, 2, 3]]).softmax(1);
    const e = [1, 2, 3].map(Math.exp);
    const z = e.reduce((x, y) => x + y);
    assertClose(s, [e.map((x) => x / z)], 1e-6);
    assertClose(tensor([[1, 2, 3]]).logSoftmax(-1), [e.map((x) => Math.log(x / z))], 1e-5);
  });

  it('comparisons, logic and where', () => {
    const x = tensor([1, 2, 3]);
    assert.deepEqual(x.gt(1).toList(), [0, 1, 1]);
    assert.equal(x.gt(1).dtype, 'bool');
    assert.deepEqual(x.eq(tensor([1, 0, 3])).toList(), [1, 0, 1]);
    assert.deepEqual(x.le(2).logicalAnd(x.ge(2)).toList(), [0, 1, 0]);
    assert.deepEqual(x.lt(2).logicalNot().toList(), [0, 1, 1]);
    assert.deepEqual(where(x.gt(1), x, zeros([3])).toList(), [0, 2, 3]);
    assert.deepEqual(where(x.gt(1), 1, -1).toList(), [-1, 1, 1]);
    assert.deepEqual(arange(3).ne(1).toList(), [1, 0, 1]);
  });
});

describe('in-place ops', () => {
  it('update the storage that views share', () => {
    const t = tensor([1, 2, 3, 4]);
    const view = t.reshape(2, 2);
    t.add_(1)
      .mul_(2)
      .sub_(tensor([1, 1, 1, 1]), 2);
    assert.deepEqual(view.toList(), [
      [2, 4],
      [6, 8],
    ]);
    view.div_(2);
    assert.deepEqual(t.toList(), [1, 2, 3, 4]);
    t.copy_(tensor([9, 8, 7, 6], { dtype: 'float64' }));
    assert.deepEqual(view.toList(), [
      [9, 8],
      [7, 6],
    ]);
    t.fill_(5);
    assert.equal(t.sum().item(), 20);
    assert.equal(t.zero_().sum().item(), 0);
  });

  it('refuse what cannot keep the shape, and leaves that require grad', () => {
    assert.throws(() => tensor([1, 2]).add_(ones([3, 2])), { name: 'RangeError', message: /add_/ });
    const leaf = ones([2], { requiresGrad: true });
    assert.throws(() => leaf.mul_(2), /leaf Variable that requires grad/);
  });
});
