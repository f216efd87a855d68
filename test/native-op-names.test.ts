// The op-name unions of lib/native/op-names.ts against the addon: the same names as its tables,
// and every name of the if-dispatched reductions and in-place ops accepted.
import assert from 'node:assert/strict';
import { native } from '../lib/native/addon.js';
import { BINARY_OPS, INPLACE_OPS, REDUCE_OPS, UNARY_OPS } from '../lib/native/op-names.js';
import { tensor } from '../lib/index.js';

describe('native op names', () => {
  it('the unary and binary unions hold the names of the native tables', () => {
    const names = native.opNames();
    assert.deepEqual([...UNARY_OPS].sort(), [...names.unary].sort());
    assert.deepEqual([...BINARY_OPS].sort(), [...names.binary].sort());
  });

  it('every reduction and in-place name runs; an unknown one is a RangeError', () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    for (const op of REDUCE_OPS) native.reduce(op, (op === 'all' || op === 'any' ? t.gt(0) : t).handle, null, false);
    for (const op of INPLACE_OPS) native.inplace(op, t.handle, op === 'fill_' ? 1 : op === 'zero_' ? undefined : 1);
    assert.throws(() => native.reduce('median' as never, t.handle, null, false), RangeError);
    assert.throws(() => native.inplace('pow_' as never, t.handle, 1), RangeError);
    t.dispose();
  });
});
