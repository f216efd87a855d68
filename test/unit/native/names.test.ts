// The name unions of lib/native/names.ts against the addon: the same names as its tables,
// and every name of the if-dispatched reductions and in-place ops accepted.
import assert from 'node:assert/strict';
import { native } from '../../../lib/native/addon.js';
import { BINARY_OPS, DTYPES, INPLACE_OPS, OPTIMIZER_KINDS, REDUCE_OPS, UNARY_OPS } from '../../../lib/native/names.js';
import { tensor } from '../../../lib/index.js';

describe('native names', () => {
  it('the unary and binary unions hold the names of the native tables', () => {
    const names = native.opNames();
    assert.deepEqual([...UNARY_OPS].sort(), [...names.unary].sort());
    assert.deepEqual([...BINARY_OPS].sort(), [...names.binary].sort());
    assert.deepEqual([...DTYPES].sort(), [...names.dtypes].sort());
  });

  it('every optimizer kind is built; another is a RangeError naming the kinds', () => {
    const p = tensor([1, 2], [2]);
    p.requiresGrad = true;
    for (const kind of OPTIMIZER_KINDS) {
      const options =
        kind === 'sgd'
          ? { kind, lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }
          : { kind, lr: 0.1, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 0, amsgrad: false };
      new native.OptimizerHandle([p.handle], options).step();
    }
    assert.throws(() => new native.OptimizerHandle([p.handle], { kind: 'lamb', lr: 0.1 } as never), /expected 'sgd', 'adam' or 'adamw'/);
    p.dispose();
  });

  it('option bags need every field: the addon keeps no defaults of its own', () => {
    const p = tensor([1, 2], [2]);
    p.requiresGrad = true;
    assert.throws(() => new native.OptimizerHandle([p.handle], { kind: 'sgd', lr: 0.1 } as never), /options\.weightDecay: expected a number/);
    const logits = tensor([0, 1, 1, 0], [1, 2, 2, 1]);
    const labels = tensor([0, 1], [1, 2, 1], { dtype: 'int64' });
    assert.throws(() => native.dice(logits.handle, labels.handle, { smooth: 1e-5 } as never), /options\.squared: expected a boolean/);
    assert.throws(
      () => native.protoDistLoss(logits.handle, labels.handle, tensor([1, 0, 0, 1], [2, 2]).handle, { tau: 1 } as never, false),
      /options\.channels: expected a string/,
    );
    for (const t of [p, logits, labels]) t.dispose();
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
