import assert from 'node:assert/strict';
import { arange, cat, interpolate, stack, tensor, zeros } from '../../../lib/index.js';
import { assertClose } from '../../support/helpers.js';

describe('tensor shape, indexing and resampling', () => {
  const m = () => arange(6).reshape(2, 3);

  it('reshape, permute, transpose, flatten, squeeze, expand', () => {
    assert.deepEqual(arange(6).reshape([3, -1]).shape, [3, 2]);
    assert.deepEqual(m().permute(1, 0).toList(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(m().transpose(0, 1).contiguous().flatten().toList(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(zeros([1, 3, 1]).squeeze(0).shape, [3, 1]);
    assert.deepEqual(zeros([3]).unsqueeze(-1).shape, [3, 1]);
    assert.deepEqual(
      tensor([[1], [2]])
        .expand(2, 3)
        .toList(),
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    );
    assert.deepEqual(zeros([2, 3, 4]).flatten(1).shape, [2, 12]);
  });

  it('narrow, select, indexSelect', () => {
    assert.deepEqual(m().narrow(1, 1, 2).toList(), [
      [1, 2],
      [4, 5],
    ]);
    assert.deepEqual(m().select(0, -1).toList(), [3, 4, 5]);
    assert.deepEqual(
      m()
        .indexSelect(1, tensor([2, 0], { dtype: 'int64' }))
        .toList(),
      [
        [2, 0],
        [5, 3],
      ],
    );
  });

  it('Python-style index and indexPut', () => {
    const t = arange(24).reshape(2, 3, 4);
    assert.deepEqual(t.index(1, 2).toList(), [20, 21, 22, 23]);
    assert.deepEqual(t.index('...', 0).toList(), [
      [0, 4, 8],
      [12, 16, 20],
    ]);
    assert.deepEqual(t.index(0, ':', { start: 1, stop: 4, step: 2 }).toList(), [
      [1, 3],
      [5, 7],
      [9, 11],
    ]);
    assert.deepEqual(t.index(null).shape, [1, 2, 3, 4]);
    const v = tensor([5, 1, 7]);
    assert.deepEqual(v.index(v.gt(2)).toList(), [5, 7]);
    assert.deepEqual(v.index(tensor([2, 2, 0], { dtype: 'int64' })).toList(), [7, 7, 5]);
    assert.deepEqual(v.indexPut([v.gt(2)], 0).toList(), [0, 1, 0]);
    assert.deepEqual(v.toList(), [5, 1, 7], 'indexPut leaves the source alone');
    assert.throws(() => t.index(5), { name: 'RangeError' });
  });

  it('cat and stack', () => {
    assert.deepEqual(cat([m(), m()]).shape, [4, 3]);
    assert.deepEqual(cat([m(), m()], 1).toList(), [
      [0, 1, 2, 0, 1, 2],
      [3, 4, 5, 3, 4, 5],
    ]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], 1).toList(), [
      [1, 3],
      [2, 4],
    ]);
    assert.throws(() => cat([zeros([2, 3]), zeros([2, 4])]), { name: 'RangeError', message: /tensors\[1\]/ });
    assert.throws(() => stack([]), { name: 'RangeError', message: /at least one/ });
  });

  it('flip and rot90 as torch does', () => {
    const s = tensor([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(s.flip(0).toList(), [
      [3, 4],
      [1, 2],
    ]);
    assert.deepEqual(s.flip([0, 1]).toList(), [
      [4, 3],
      [2, 1],
    ]);
    assert.deepEqual(s.rot90().toList(), [
      [2, 4],
      [1, 3],
    ]);
    assert.deepEqual(s.rot90(2).toList(), [
      [4, 3],
      [2, 1],
    ]);
    assert.deepEqual(s.rot90(-1).toList(), [
      [3, 1],
      [4, 2],
    ]);
    const img = arange(8).reshape(1, 2, 2, 2);
    assert.deepEqual(img.rot90(1, [2, 3]).index(0, 0).toList(), [
      [1, 3],
      [0, 2],
    ]);
  });

  it('oneHot', () => {
    const labels = tensor([0, 2, 1], { dtype: 'int64' });
    assert.deepEqual(labels.oneHot(3).toList(), [
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    assert.equal(tensor([1], { dtype: 'int32' }).oneHot(2).dtype, 'int64');
    assert.throws(() => labels.oneHot(2), { name: 'RangeError', message: /labels: value 2 is outside \[0, 2\)/ });
    assert.throws(() => tensor([0.5]).oneHot(2), { name: 'TypeError', message: /labels/ });
  });

  describe('interpolate against known values', () => {
    const square = () =>
      tensor([
        [
          [
            [0, 1],
            [2, 3],
          ],
        ],
      ]);

    it('bilinear, align corners', () => {
      const out = interpolate(square(), { size: [3, 3], mode: 'bilinear', alignCorners: true });
      assertClose(out, [
        [
          [
            [0, 0.5, 1],
            [1, 1.5, 2],
            [2, 2.5, 3],
          ],
        ],
      ]);
    });

    it('bilinear, half-pixel centres (the PyTorch default)', () => {
      const out = interpolate(square(), { scaleFactor: 2, mode: 'bilinear' });
      assertClose(out, [
        [
          [
            [0, 0.25, 0.75, 1],
            [0.5, 0.75, 1.25, 1.5],
            [1.5, 1.75, 2.25, 2.5],
            [2, 2.25, 2.75, 3],
          ],
        ],
      ]);
    });

    it('nearest, 2D and on integer label maps', () => {
      const out = interpolate(square(), { size: 4, mode: 'nearest' });
      assert.deepEqual(out.index(0, 0, 0).toList(), [0, 0, 1, 1]);
      const labels = tensor(
        [
          [
            [
              [0, 6],
              [3, 1],
            ],
          ],
        ],
        { dtype: 'int64' },
      );
      const up = interpolate(labels, { scaleFactor: 2 });
      assert.equal(up.dtype, 'int64');
      assert.deepEqual(up.index(0, 0, 3).toList(), [3, 3, 1, 1]);
    });

    it('trilinear and nearest in 3D', () => {
      const cube = arange(8, { dtype: 'float32' }).reshape(1, 1, 2, 2, 2);
      const tri = interpolate(cube, { size: [3, 3, 3], mode: 'linear', alignCorners: true });
      assert.deepEqual(tri.shape, [1, 1, 3, 3, 3]);
      assertClose([tri.index(0, 0, 1, 1, 1).item()], [3.5]);
      assertClose([tri.index(0, 0, 0, 0, 1).item()], [0.5]);
      const near = interpolate(cube, { scaleFactor: [1, 2, 1], mode: 'nearest' });
      assert.deepEqual(near.shape, [1, 1, 2, 4, 2]);
      assert.deepEqual(near.index(0, 0, 1, ':', 0).toList(), [4, 4, 6, 6]);
    });

    it('rejects mismatched modes and ranks', () => {
      assert.throws(() => interpolate(zeros([1, 1, 2, 2, 2]), { size: 3, mode: 'bilinear' }), { name: 'RangeError', message: /mode/ });
      assert.throws(() => interpolate(zeros([2, 2]), { size: 3 }), { name: 'RangeError', message: /input/ });
      assert.throws(() => interpolate(zeros([1, 1, 2, 2]), { mode: 'nearest' }), { name: 'TypeError', message: /size and scaleFactor/ });
    });
  });
});
