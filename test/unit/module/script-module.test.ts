import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ModuleLoadError,
  ScriptModule,
  type Tensor,
  buildInfo,
  getNumThreads,
  manualSeed,
  noGrad,
  randn,
  scope,
  setNumThreads,
  tensor,
  threadCounts,
} from '../../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

describe('ScriptModule', function () {
  let fx: Fixtures;
  let input: Tensor;
  const convnet = () => path.join(fx.dir, 'convnet.pt');

  before(async function () {
    fx = await fixturesOrSkip(this);
    input = tensor(new Float32Array(fx.reference.input.data), fx.reference.input.shape);
  });

  it('loads async and sync, with metadata and method names', async function () {
    const m = await ScriptModule.load(convnet());
    assert.equal(m.device, 'cpu');
    assert.deepEqual(m.metadata, { arch: 'convnet', classes: 3, spatialDims: 2, inChannels: 1 });
    assert.ok(m.methodNames().includes('forward'));
    const s = ScriptModule.loadSync(convnet());
    assert.equal(s.parameterCount(), m.parameterCount());
    assert.equal(m.parameterCount(), 6 * 9 + 6 + 6 + 6 + 3 * 6 + 3);
    assert.equal(m.isTraced, false);
  });

  it('forward equals PyTorch in eval mode', async function () {
    const m = await ScriptModule.load(convnet());
    m.eval();
    assert.equal(m.isTraining, false);
    const out = noGrad(() => m.forwardTensor(input));
    assert.deepEqual(out.shape, [4, 3, 12, 12]);
    assert.ok(maxAbsDiff(out.toArray() as Float32Array, fx.reference.eval) < 1e-5);
  });

  it('forward equals PyTorch in train mode (batch statistics, the same dropout mask)', async function () {
    const m = await ScriptModule.load(convnet());
    m.train();
    assert.equal(m.isTraining, true);
    manualSeed(fx.reference.train.seed);
    const out = m.forwardTensor(input);
    assert.ok(maxAbsDiff(out.toArray() as Float32Array, fx.reference.train.out) < 1e-5);
    assert.ok(maxAbsDiff(out.toArray() as Float32Array, fx.reference.eval) > 1e-2, 'train and eval differ');
    const mean = m.namedBuffers().get('bn.running_mean')!;
    assert.ok(maxAbsDiff(mean.toArray() as Float32Array, fx.reference.train.runningMean) < 1e-6);
  });

  it('forwardAsync gives the same result as forward', async function () {
    const m = (await ScriptModule.load(convnet())).eval();
    const sync = noGrad(() => m.forwardTensor(input));
    const out = (await m.forwardAsync(input)) as Tensor;
    assert.ok(maxAbsDiff(out.toArray() as Float32Array, sync.toArray() as Float32Array) === 0);
    assert.equal(out.requiresGrad, false);
    const withGrad = (await m.callAsync('forward', [input], { mode: 'grad' })) as Tensor;
    assert.equal(withGrad.requiresGrad, true);
  });

  it('converts optional, scalar and list arguments, and tuple / dict results', function () {
    const m = ScriptModule.loadSync(path.join(fx.dir, 'multi.pt'));
    const x = tensor([1, 1, 1, 1]);
    const [y, d] = m.forward(x, 2.0, 3, tensor([1, 0, 0, 0])) as [Tensor, Record<string, Tensor>];
    assert.deepEqual(y.toList(), [1, 2, 4, 6]);
    assert.deepEqual(d.sum!.toList(), [13, 13, 13]);
    assert.equal(d.max!.item(), 6);
    const [y2] = m.forward(x) as [Tensor];
    assert.deepEqual(y2.toList(), [0, 1, 2, 3]);
    const pieces = m.call('pieces', [tensor([1]), tensor([2])], 'abc') as Tensor[];
    assert.deepEqual(
      pieces.map((p) => p.item()),
      [4, 5],
    );
  });

  it('state dict round trip, strict checks, freeze, to(dtype)', function () {
    const a = ScriptModule.loadSync(convnet());
    const b = ScriptModule.loadSync(convnet());
    for (const p of b.parameters()) noGrad(() => p.mul_(0));
    const state = a.stateDict();
    assert.ok(state.has('bn.running_var') && state.has('conv1.weight'));
    assert.deepEqual(b.loadStateDict(state), { missing: [], unexpected: [] });
    assert.deepEqual(b.namedParameters().get('head.weight')!.toList(), a.namedParameters().get('head.weight')!.toList());
    const partial = new Map(state);
    partial.delete('head.bias');
    partial.set('extra.weight', tensor([1]));
    assert.throws(
      () => b.loadStateDict(partial),
      (e: Error) => e instanceof RangeError && /missing: head\.bias/.test(e.message) && /unexpected: extra\.weight/.test(e.message),
    );
    assert.deepEqual(b.loadStateDict(partial, { strict: false }), { missing: ['head.bias'], unexpected: ['extra.weight'] });
    const wrongShape = new Map([['head.bias', tensor([1, 2])]]);
    assert.throws(() => b.loadStateDict(wrongShape, { strict: false }), /head\.bias: shape \[2\] does not match the module's \[3\]/);
    b.freeze();
    assert.ok(b.parameters().every((p) => !p.requiresGrad));
    b.to('float64');
    assert.equal(b.parameters()[0]!.dtype, 'float64');
  });

  it('saves atomically with its extra files, and the copy loads', function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-module-'));
    const m = ScriptModule.loadSync(convnet());
    const file = path.join(dir, 'copy.pt');
    m.save(file);
    const copy = ScriptModule.loadSync(file);
    assert.deepEqual(copy.metadata, m.metadata);
    assert.equal(copy.parameterCount(), m.parameterCount());
  });

  it('detects a traced module and warns when it is put in train mode', async function () {
    const m = ScriptModule.loadSync(path.join(fx.dir, 'convnet_traced.pt'));
    assert.equal(m.isTraced, true);
    assert.ok(m.frozenModeModules().some((n) => n.includes('bn')));
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    m.train();
    const w = await warned;
    assert.match(w.message, /traced/);
  });

  it('setNumThreads reaches the async work after async work has run', async function () {
    const m = await ScriptModule.load(convnet());
    const before = getNumThreads();
    try {
      await m.forwardAsync(input); // the compute thread has started with the current count
      for (const n of [1, 3, 2]) {
        setNumThreads(n);
        await m.forwardAsync(input);
        assert.deepEqual(threadCounts(), { jsThread: n, computeThread: n });
      }
    } finally {
      setNumThreads(before);
    }
  });

  it("queueing async CPU work frees the JS thread's OpenMP pool (one pool for the process, no spin throttling)", async function () {
    const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    if (process.platform !== 'linux' || !buildInfo().parallelInfo.includes('backend: OpenMP')) this.skip();
    const m = await ScriptModule.load(convnet());
    const before = getNumThreads();
    const parallelOnJsThread = () =>
      scope(() =>
        randn([1 << 20])
          .exp()
          .sum()
          .item(),
      );
    try {
      setNumThreads(3);
      await m.forwardAsync(input); // the compute thread and libuv's workers exist from here on
      parallelOnJsThread();
      const withPool = threads();
      await m.forwardAsync(input);
      assert.equal(threads(), withPool - 2, 'the JS thread pool (2 threads besides the JS thread) is gone');
      parallelOnJsThread();
      assert.equal(threads(), withPool, 'and comes back for the next parallel op');
    } finally {
      setNumThreads(before);
    }
  });

  describe('errors', function () {
    it('a missing file is a ModuleLoadError', async function () {
      await assert.rejects(ScriptModule.load('/nonexistent/model.pt'), (e: Error) => e instanceof ModuleLoadError && /does not exist/.test(e.message));
      assert.throws(() => ScriptModule.loadSync('/nonexistent/model.pt'), ModuleLoadError);
    });

    it('a truncated or non-TorchScript file is a ModuleLoadError', async function () {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-bad-'));
      const truncated = path.join(dir, 'truncated.pt');
      const bytes = readFileSync(convnet());
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await assert.rejects(ScriptModule.load(truncated), (e: Error) => e instanceof ModuleLoadError && e.message.includes('truncated.pt'));
      const text = path.join(dir, 'notes.pt');
      writeFileSync(text, 'not a model at all');
      assert.throws(
        () => ScriptModule.loadSync(text),
        (e: Error) => e instanceof ModuleLoadError && /not a readable TorchScript module/.test(e.message),
      );
      const json = path.join(dir, 'reference.pt');
      writeFileSync(json, readFileSync(path.join(fx.dir, 'reference.json')));
      await assert.rejects(ScriptModule.load(json), ModuleLoadError);
    });

    it('a wrong number of inputs is a RangeError naming the expected ones', function () {
      const m = ScriptModule.loadSync(convnet());
      assert.throws(
        () => m.forward(),
        (e: Error) => e instanceof RangeError && /expects 1 inputs \(x: Tensor\), got 0/.test(e.message),
      );
      assert.throws(() => m.forward(input, input), RangeError);
      assert.throws(
        () => m.forward('text'),
        (e: Error) => e instanceof TypeError && /input 0 \(x\)/.test(e.message),
      );
    });

    it('a wrong input shape is a TorchError; async rejects the same way; the process lives', async function () {
      const m = ScriptModule.loadSync(convnet());
      const bad = tensor(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
      assert.throws(
        () => m.forward(bad),
        (e: Error) => e.name === 'TorchError' && /channels/.test(e.message),
      );
      await assert.rejects(m.forwardAsync(bad), (e: Error) => e.name === 'TorchError' && /channels/.test(e.message));
      await assert.rejects(m.callAsync('nope', []), RangeError);
      const out = (await m.forwardAsync(input)) as Tensor;
      assert.deepEqual(out.shape, [4, 3, 12, 12]);
    });
  });
});
