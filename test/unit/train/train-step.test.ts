import assert from 'node:assert/strict';
import path from 'node:path';
import { ScriptModule, type Tensor, cat, manualSeed, noGrad, ops, optim, tensor, trainStep, trainStepSync } from '../../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';
import { fixedBatch } from '../../support/training.js';

describe('trainStep', function () {
  let fx: Fixtures;
  let batch: { input: Tensor; labels: Tensor };
  const load = () => ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));

  before(async function () {
    fx = await fixturesOrSkip(this);
    batch = fixedBatch(fx.dir);
  });

  it('50 async Adam steps on a fixed batch at least halve the loss', async function () {
    manualSeed(3);
    const module = load().train();
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels });
      assert.ok(r.stepped);
      assert.ok(Math.abs(r.loss - (0.4 * r.crossEntropy + 0.6 * r.dice)) < 1e-6);
      losses.push(r.loss);
    }
    assert.ok(losses[49]! <= losses[0]! / 2, `loss ${losses[0]} -> ${losses[49]}`);
  });

  it('the async and sync paths compute the same step', async function () {
    const results: number[][] = [];
    for (const useAsync of [true, false]) {
      manualSeed(5);
      const module = load().train();
      const optimizer = new optim.SGD(module.parameters(), { lr: 0.05, momentum: 0.9 });
      const spec = { module, optimizer, inputs: [batch.input], target: batch.labels, clipGradNorm: 1.0 };
      const r = useAsync ? await trainStep(spec) : trainStepSync(spec);
      assert.ok(r.gradNorm! > 0);
      results.push([r.loss, ...(cat(module.parameters().map((p) => p.flatten())).toArray() as Float32Array)]);
    }
    assert.equal(maxAbsDiff(results[0]!, results[1]!), 0);
  });

  it('gradient accumulation over two halves equals one full-batch step (cross-entropy)', async function () {
    const params: Float32Array[] = [];
    const halves = [batch.input.narrow(0, 0, 2), batch.input.narrow(0, 2, 2)];
    const targets = [batch.labels.narrow(0, 0, 2), batch.labels.narrow(0, 2, 2)];
    const loss = { crossEntropy: {} };
    for (const accumulate of [false, true]) {
      const module = load().eval();
      const optimizer = new optim.SGD(module.parameters(), { lr: 0.1 });
      if (!accumulate) {
        await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels, loss });
      } else {
        await trainStep({ module, optimizer, inputs: halves[0]!, target: targets[0]!, loss, lossScale: 0.5, step: false });
        await trainStep({ module, optimizer, inputs: halves[1]!, target: targets[1]!, loss, lossScale: 0.5, zeroGrad: false });
      }
      params.push(cat(module.parameters().map((p) => p.flatten())).toArray() as Float32Array);
    }
    assert.ok(maxAbsDiff(params[0]!, params[1]!) < 1e-6);
  });

  it('keeps the event loop free while the sync path blocks it', async function () {
    const module = load().train();
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.01 });
    const input = tensor(new Float32Array(32 * 256 * 256).fill(0.5), [32, 1, 256, 256]);
    const target = tensor(new BigInt64Array(32 * 256 * 256), [32, 256, 256]);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    try {
      await new Promise((r) => setTimeout(r, 10));
      let t0 = performance.now();
      ticks = 0;
      trainStepSync({ module, optimizer, inputs: input, target });
      const syncTicks = ticks;
      const syncMs = performance.now() - t0;
      t0 = performance.now();
      ticks = 0;
      await trainStep({ module, optimizer, inputs: input, target });
      const asyncMs = performance.now() - t0;
      const asyncTicks = ticks;
      assert.equal(syncTicks, 0);
      assert.ok(syncMs > 100, `the step should take a while (took ${syncMs.toFixed(0)} ms)`);
      assert.ok(asyncTicks >= 10, `${asyncTicks} ticks during a ${asyncMs.toFixed(0)} ms async step`);
    } finally {
      clearInterval(timer);
    }
  });

  it('serialises calls on one device and refuses sync use of a busy module', async function () {
    const module = load().train();
    const optimizer = new optim.Adam(module.parameters());
    // large enough that the first step is still running when the checks below happen
    const input = tensor(new Float32Array(16 * 128 * 128).fill(0.25), [16, 1, 128, 128]);
    const target = tensor(new BigInt64Array(16 * 128 * 128), [16, 128, 128]);
    const steps = [1, 2, 3].map(() => trainStep({ module, optimizer, inputs: input, target }));
    await new Promise((r) => setImmediate(r));
    assert.throws(
      () => module.forward(batch.input),
      (e: Error) => e.name === 'TorchError' && /busy/.test(e.message),
    );
    assert.throws(() => optimizer.step(), /busy/);
    const results = await Promise.all(steps);
    assert.equal(results.length, 3);
    module.forward(batch.input); // idle again
  });

  it('errors in the worker come back typed; the module stays usable', async function () {
    const module = load();
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.1 });
    const bad = batch.labels.add(5);
    await assert.rejects(
      trainStep({ module, optimizer, inputs: batch.input, target: bad }),
      (e: Error) => e instanceof RangeError && /outside \[0, 3\)/.test(e.message),
    );
    const wrongChannels = tensor(new Float32Array(4 * 2 * 12 * 12), [4, 2, 12, 12]);
    await assert.rejects(trainStep({ module, optimizer, inputs: wrongChannels, target: batch.labels }), (e: Error) => e.name === 'TorchError');
    await assert.rejects(trainStep({ module, optimizer, inputs: [], target: batch.labels }), RangeError);
    await assert.rejects(trainStep({ module, optimizer, inputs: batch.input, target: batch.labels, loss: {} }), /every term has weight 0/);
    const ok = await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels });
    assert.ok(Number.isFinite(ok.loss));
  });

  it('adds beta * L_DIST against a teacher prototype, as the ops compute it', async function () {
    const module = load().eval();
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.01 });
    const teacher = tensor(
      Float32Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 4 : -1)),
      [3, 3],
    );
    const expected = noGrad(() => ops.protoDistLoss(module.forwardTensor(batch.input), batch.labels, teacher, { tau: 2 }).item() as number);
    const r = await trainStep({
      module,
      optimizer,
      inputs: batch.input,
      target: batch.labels,
      loss: { crossEntropy: { weight: 0.4 }, dice: { weight: 0.6 }, dist: { weight: 0.5, teacherPrototype: teacher, tau: 2 } },
    });
    assert.ok(Math.abs(r.dist - expected) < 1e-6);
    assert.ok(Math.abs(r.loss - (0.4 * r.crossEntropy + 0.6 * r.dice + 0.5 * r.dist)) < 1e-6);
    await assert.rejects(
      trainStep({ module, optimizer, inputs: batch.input, target: batch.labels, loss: { dist: { teacherPrototype: tensor([1, 2]) } } }),
      (e: Error) => e instanceof RangeError && /teacherPrototype/.test(e.message),
    );
  });

  it('amp on the CPU is a no-op with one notice', async function () {
    const module = load();
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.1 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels, amp: true });
      const r = await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels, amp: true });
      await new Promise((r) => setImmediate(r));
      assert.equal(r.ampScale, undefined);
      assert.equal(warnings.filter((w) => /amp/.test(w)).length, 1);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
