import assert from 'node:assert/strict';
import { arange, DTYPES, empty, full, ones, rand, randn, tensor, zeros, zerosLike, manualSeed, type DType } from '../../../lib/index.js';
import { assertClose } from '../../support/helpers.js';

describe('tensor data', () => {
  describe('round trips for every dtype', () => {
    const cases: [DType, ArrayLike<number | bigint>, string][] = [
      ['float32', new Float32Array([1.5, -2.25, 3e-8, 1e30]), 'Float32Array'],
      ['float64', new Float64Array([1.5, -2.25, Math.PI, 1e300]), 'Float64Array'],
      ['int32', new Int32Array([1, -2, 2147483647, -2147483648]), 'Int32Array'],
      ['int16', new Int16Array([1, -2, 32767, -32768]), 'Int16Array'],
      ['int8', new Int8Array([1, -2, 127, -128]), 'Int8Array'],
      ['uint8', new Uint8Array([0, 1, 200, 255]), 'Uint8Array'],
      ['int64', new BigInt64Array([1n, -2n, 9007199254740993n, -(2n ** 63n)]), 'BigInt64Array'],
    ];
    for (const [dtype, data, arrayName] of cases) {
      it(`${dtype} from ${arrayName}`, () => {
        const t = tensor(data as never, [2, 2]);
        assert.equal(t.dtype, dtype);
        assert.deepEqual(t.shape, [2, 2]);
        const back = t.toArray();
        assert.equal(back.constructor.name, arrayName);
        assert.deepEqual(Array.from(back as ArrayLike<number | bigint>), Array.from(data));
      });
    }

    it('bool from a Uint8Array and from booleans', () => {
      const a = tensor(new Uint8Array([0, 1, 7, 0]), { dtype: 'bool' });
      assert.equal(a.dtype, 'bool');
      assert.deepEqual(Array.from(a.toArray() as Uint8Array), [0, 1, 1, 0]);
      const b = tensor([
        [true, false],
        [false, true],
      ]);
      assert.equal(b.dtype, 'bool');
      assert.deepEqual(b.toList(), [
        [1, 0],
        [0, 1],
      ]);
    });

    it('float16 and bfloat16 come back as Float32Array', () => {
      for (const dtype of ['float16', 'bfloat16'] as const) {
        const t = tensor([0.5, -2, 4], { dtype });
        assert.equal(t.dtype, dtype);
        const back = t.toArray();
        assert.ok(back instanceof Float32Array);
        assert.deepEqual(Array.from(back), [0.5, -2, 4]);
      }
    });

    it('int64 values beyond 2^53 survive as BigInt', () => {
      const big = 2n ** 62n + 1n;
      const t = tensor(new BigInt64Array([big]));
      assert.equal((t.toArray() as BigInt64Array)[0], big);
      assert.throws(() => t.item(), RangeError);
    });

    it('every dtype converts to every other', () => {
      const source = tensor([0, 1, 2, 3]);
      for (const dtype of DTYPES) {
        const t = source.to(dtype);
        assert.equal(t.dtype, dtype);
        const expected = dtype === 'bool' ? [0, 1, 1, 1] : [0, 1, 2, 3];
        assert.deepEqual(t.toList(), expected, dtype);
      }
    });
  });

  it('infers shapes of nested arrays and rejects ragged ones', () => {
    const t = tensor([[[1, 2, 3]], [[4, 5, 6]]]);
    assert.deepEqual(t.shape, [2, 1, 3]);
    assert.equal(t.dtype, 'float32');
    assert.throws(() => tensor([[1, 2], [3]]), { name: 'RangeError', message: /ragged/ });
    assert.throws(() => tensor([1, true] as never), { name: 'TypeError', message: /mixes/ });
  });

  it('keeps float64 precision when asked', () => {
    const t = tensor([0.1, 1 / 3], { dtype: 'float64' });
    assert.deepEqual(Array.from(t.toArray() as Float64Array), [0.1, 1 / 3]);
  });

  it('makes scalars with item()', () => {
    assert.equal(tensor(2.5).item(), 2.5);
    assert.deepEqual(tensor(2.5).shape, []);
    assert.equal(tensor(true).item(), 1);
    assert.throws(() => tensor([1, 2]).item(), { name: 'RangeError', message: /one element/ });
  });

  it('reshapes flat data by the given shape and checks the count', () => {
    assert.deepEqual(tensor(new Float32Array(6), [2, 3]).shape, [2, 3]);
    assert.throws(() => tensor(new Float32Array(5), [2, 3]), { name: 'RangeError', message: /shape: \[2, 3\] holds 6 elements but data has 5/ });
  });

  it('copies typed-array views at their offset', () => {
    const buffer = new Float32Array([9, 9, 1, 2, 3, 9]);
    const t = tensor(buffer.subarray(2, 5));
    assert.deepEqual(t.toList(), [1, 2, 3]);
    buffer[2] = 100;
    assert.deepEqual(t.toList(), [1, 2, 3], 'the data is copied');
  });

  it('factories', () => {
    assert.deepEqual(zeros([2, 2]).toList(), [
      [0, 0],
      [0, 0],
    ]);
    assert.deepEqual(ones([3], { dtype: 'int32' }).toList(), [1, 1, 1]);
    assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2], 7).toList(), [7, 7]);
    assert.equal(full([2], true).dtype, 'bool');
    assert.deepEqual(empty([4, 0]).shape, [4, 0]);
    assert.deepEqual(arange(4).toList(), [0, 1, 2, 3]);
    assert.equal(arange(4).dtype, 'int64');
    assertClose(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
    assert.equal(arange(0, 1, 0.25).dtype, 'float32');
    assert.deepEqual(zerosLike(ones([2], { dtype: 'float64' })).dtype, 'float64');
    assert.throws(() => arange(0, 4, 0), { name: 'RangeError', message: /step/ });
    assert.throws(() => zeros([2, -1]), { name: 'RangeError', message: /shape\[1\]/ });
  });

  it('random factories follow manualSeed', () => {
    manualSeed(7);
    const a = randn([5]).toList();
    const u = rand([1000]);
    manualSeed(7);
    assert.deepEqual(randn([5]).toList(), a);
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    const m = u.mean().item();
    assert.ok(m > 0.4 && m < 0.6, `uniform mean ${m}`);
  });

  it('metadata and device moves', () => {
    const t = zeros([2, 3, 4]);
    assert.equal(t.ndim, 3);
    assert.equal(t.numel, 24);
    assert.equal(t.size(-1), 4);
    assert.equal(t.device, 'cpu');
    const c = t.to({ device: 'cpu', dtype: 'float64', copy: true });
    assert.equal(c.dtype, 'float64');
    assert.equal(String(t), 'Tensor(float32 [2, 3, 4] cpu)');
  });
});
