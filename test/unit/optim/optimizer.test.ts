import assert from 'node:assert/strict';
import path from 'node:path';
import { ScriptModule, type Tensor, cat, losses, optim, scope, tensor } from '../../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

describe('optimizers', function () {
  let fx: Fixtures;
  let input: Tensor;
  let labels: Tensor;

  before(async function () {
    fx = await fixturesOrSkip(this);
    input = tensor(new Float32Array(fx.reference.input.data), fx.reference.input.shape);
    const [b, , h, w] = fx.reference.input.shape as [number, number, number, number];
    labels = tensor(BigInt64Array.from(fx.reference.labels.map(BigInt)), [b, h, w]);
  });

  const cases: [keyof Fixtures['reference']['optimizers'], (p: Tensor[]) => optim.Optimizer][] = [
    ['sgd', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
    ['sgdPlain', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1 })],
    ['adam', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 1e-4 })],
    ['adamw', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.05 })],
  ];

  for (const [name, make] of cases) {
    it(`${name} matches torch.optim step for step (< 1e-6)`, function () {
      const model = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt')).eval();
      const params = model.parameters();
      const opt = make(params);
      const expected = fx.reference.optimizers[name];
      expected.params.forEach((want, step) => {
        scope(() => {
          opt.zeroGrad();
          const loss = losses.crossEntropy(model.forwardTensor(input), labels);
          loss.backward();
          opt.step();
          assert.ok(Math.abs((loss.item() as number) - expected.losses[step]!) < 1e-6, `loss at step ${step}`);
          const flat = cat(params.map((p) => p.detach().flatten()));
          const diff = maxAbsDiff(flat.toArray() as Float32Array, want);
          assert.ok(diff < 1e-6, `${name} step ${step}: max abs diff ${diff}`);
        });
      });
    });
  }

  it('state dict restores exactly: a resumed optimizer continues as the original', function () {
    const run = (resumeAt: number | null): number[] => {
      const model = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt')).eval();
      let opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        if (i === resumeAt) {
          const state = opt.stateDict();
          assert.equal(state.state[0]!.step, i);
          opt = new optim.Adam(model.parameters(), { lr: 0.5 });
          opt.loadStateDict(state);
          assert.equal(opt.lr, 0.01);
        }
        scope(() => {
          opt.zeroGrad();
          const loss = losses.crossEntropy(model.forwardTensor(input), labels);
          loss.backward();
          opt.step();
          out.push(loss.item() as number);
        });
      }
      return out;
    };
    assert.deepEqual(run(3), run(null));
  });

  it('learning rate is settable; bad options and states are typed errors', function () {
    const model = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    opt.lr = 0.025;
    assert.equal(opt.lr, 0.025);
    assert.throws(() => (opt.lr = -1), RangeError);
    assert.throws(() => new optim.SGD([], { lr: 0.1 }), RangeError);
    assert.throws(() => new optim.SGD(model.parameters(), { lr: 0.1, nesterov: true }), /nesterov/);
    assert.throws(() => new optim.Adam(model.parameters(), { betas: [0.9] as unknown as [number, number] }), RangeError);
    assert.throws(
      () => new optim.SGD([tensor([1, 2])], { lr: 0.1 }),
      (e: Error) => e instanceof TypeError && /params\[0\]/.test(e.message),
    );
    const adamState = new optim.Adam(model.parameters()).stateDict();
    assert.throws(
      () => opt.loadStateDict(adamState),
      (e: Error) => e instanceof TypeError && /'adam'/.test(e.message),
    );
  });
});

describe('schedules', function () {
  it('poly decays with power 0.9 to zero', function () {
    const lr = optim.schedules.poly({ baseLr: 0.05, total: 100 });
    assert.equal(lr(0), 0.05);
    assert.ok(Math.abs(lr(50) - 0.05 * Math.pow(0.5, 0.9)) < 1e-15);
    assert.equal(lr(100), 0);
    assert.equal(lr(150), 0);
  });

  it('cosine with linear warmup', function () {
    const lr = optim.schedules.cosineWithWarmup({ baseLr: 1e-4, total: 110, warmup: 10 });
    assert.equal(lr(0), 0);
    assert.ok(Math.abs(lr(5) - 0.5e-4) < 1e-18);
    assert.ok(Math.abs(lr(10) - 1e-4) < 1e-18);
    assert.ok(Math.abs(lr(60) - 0.5e-4) < 1e-15);
    assert.ok(Math.abs(lr(110)) < 1e-18);
    assert.throws(() => optim.schedules.cosineWithWarmup({ baseLr: 1, total: 10, warmup: 10 }), RangeError);
  });

  it('step decay', function () {
    const lr = optim.schedules.step({ baseLr: 1, stepSize: 10, gamma: 0.5 });
    assert.deepEqual([0, 9, 10, 25].map(lr), [1, 1, 0.5, 0.25]);
  });
});
