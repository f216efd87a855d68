import assert from 'node:assert/strict';
import path from 'node:path';
import { DisposedError, ScriptModule, TorchError, type Tensor, optim, randn, trainStep, zeros } from '../../../lib/index.js';
import { fixturesOrSkip, type Fixtures } from '../../support/python.js';
import { fixedBatch } from '../../support/training.js';

describe('disposing modules and optimizers', function () {
  let fx: Fixtures;
  let batch: { input: Tensor; labels: Tensor };
  const load = () => ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
  const isDisposed = (e: unknown) => e instanceof DisposedError && /disposed/.test((e as Error).message);

  before(async function () {
    fx = await fixturesOrSkip(this);
    batch = fixedBatch(fx.dir);
  });

  it('a disposed module refuses every use with a DisposedError; dispose is idempotent', async () => {
    const m = load();
    const weight = m.parameters()[0]!;
    const before = weight.toArray();
    m.dispose();
    m.dispose();
    assert.equal(m.isDisposed, true);
    assert.throws(() => m.forward(batch.input), isDisposed);
    assert.throws(() => m.parameters(), isDisposed);
    assert.throws(() => m.train(), isDisposed);
    assert.throws(() => m.isTraining, isDisposed);
    assert.throws(() => m.methodNames(), isDisposed);
    await assert.rejects(m.forwardAsync(batch.input), isDisposed);
    assert.deepEqual(weight.toArray(), before, 'a tensor taken from it stays valid');
  });

  it('`using` frees a module at the end of its block', () => {
    let escaped: ScriptModule;
    {
      using m = load();
      escaped = m;
      assert.equal(m.isDisposed, false);
    }
    assert.equal(escaped.isDisposed, true);
  });

  it('a call queued but not started when the module is disposed rejects with a DisposedError', async () => {
    const m = load().eval();
    const queued = m.forwardAsync(batch.input);
    m.dispose();
    await assert.rejects(queued, isDisposed);
  });

  it('a training step queued but not started when its module is disposed rejects with a DisposedError', async () => {
    const m = load().train();
    const o = new optim.SGD(m.parameters(), { lr: 0.01 });
    const queued = trainStep({ module: m, optimizer: o, inputs: batch.input, target: batch.labels });
    m.dispose(); // before the queue starts it: the native check refuses it, typed
    await assert.rejects(queued, isDisposed);
    o.dispose();
  });

  it('refuses while an async call runs on the module; disposes once it is done', async () => {
    const m = load().eval();
    const large = randn([64, 1, 256, 256]); // long enough to be still running a turn later
    const running = m.forwardAsync(large);
    await new Promise((r) => setImmediate(r));
    assert.throws(
      () => m.dispose(),
      (e: unknown) => e instanceof TorchError && e.kind === 'BusyError',
    );
    ((await running) as Tensor).dispose();
    m.dispose();
    assert.equal(m.isDisposed, true);
    large.dispose();
  });

  it('a disposed optimizer refuses steps, its state and a training step; during a step dispose is refused', async () => {
    const m = load().train();
    const o = new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    const [x, y] = [randn([64, 1, 128, 128]), zeros([64, 128, 128], { dtype: 'int64' })];
    const step = trainStep({ module: m, optimizer: o, inputs: x, target: y });
    await new Promise((r) => setImmediate(r));
    assert.throws(
      () => o.dispose(),
      (e: unknown) => e instanceof TorchError && e.kind === 'BusyError',
    );
    await step;
    [x, y].forEach((t) => t.dispose());
    o.dispose();
    o.dispose();
    assert.equal(o.isDisposed, true);
    assert.throws(() => o.step(), isDisposed);
    assert.throws(() => o.stateDict(), isDisposed);
    assert.throws(() => o.lr, isDisposed);
    const refused = trainStep({ module: m, optimizer: o, inputs: batch.input, target: batch.labels }); // a promise, not a throw
    await assert.rejects(refused, isDisposed);
    const again = new optim.SGD(m.parameters(), { lr: 0.01 });
    const r = await trainStep({ module: m, optimizer: again, inputs: batch.input, target: batch.labels });
    assert.ok(Number.isFinite(r.loss), 'the module trains on with a new optimizer');
  });
});
