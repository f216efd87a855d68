// The same checks on every device: the CPU always, CUDA where the addon was built with it and a
// GPU is visible (skipped with the reason otherwise). Each compares the device's result with the
// float64 reference composition on the CPU, so a CUDA kernel is held to the same semantics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ScriptModule,
  buildInfo,
  cat,
  cuda,
  loadCheckpoint,
  manualSeed,
  noGrad,
  ops,
  optim,
  randn,
  saveCheckpoint,
  scope,
  tensor,
  trainStep,
  type DType,
  type Device,
  type Tensor,
} from '../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, projectPython, projectRoot, type Fixtures } from '../support/python.js';
import { fixedBatch } from '../support/training.js';

const run = promisify(execFile);
const f64 = (t: Tensor): Float64Array => t.to({ device: 'cpu', dtype: 'float64' }).toArray() as Float64Array;
const flatParams = (m: ScriptModule): Float64Array => scope(() => f64(cat(m.parameters().map((p) => p.flatten()))));
/** |a - b| over the largest |b|: a tolerance that does not depend on the values' scale. */
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => maxAbsDiff(a, b) / Math.max(1e-12, ...Array.from(b, Math.abs));

function cudaSkipReason(): string | null {
  if (!buildInfo().cudaBuild) return 'the addon was built without CUDA';
  if (!cuda.isAvailable()) return 'no CUDA device is visible';
  return null;
}

const DEVICES: { device: Device; skip: () => string | null }[] = [
  { device: 'cpu', skip: () => null },
  { device: 'cuda', skip: cudaSkipReason },
];

// Labels with absent classes, an ignored pixel every 11th and class 2 unseen by the teacher.
interface OpCase {
  name: string;
  shape: number[];
  dtype: DType;
  /** relative tolerance of the loss and of the gradient against the float64 reference */
  tol: number;
  cudaOnly?: boolean;
}
const OP_CASES: OpCase[] = [
  { name: '2D float32', shape: [4, 6, 32, 40], dtype: 'float32', tol: 2e-5 },
  { name: '2D float64', shape: [2, 6, 24, 24], dtype: 'float64', tol: 1e-10 },
  { name: '3D float32', shape: [2, 5, 4, 12, 10], dtype: 'float32', tol: 2e-5 },
  // half inputs, float accumulation: held against the reference on the same rounded inputs
  { name: '2D float16 (autocast)', shape: [4, 6, 32, 40], dtype: 'float16', tol: 5e-3, cudaOnly: true },
  { name: '2D bfloat16', shape: [4, 6, 32, 40], dtype: 'bfloat16', tol: 3e-2, cudaOnly: true },
];

function opInputs(c: OpCase): { x: Tensor; labels: Tensor; teacher: Tensor; options: ops.DistOptions } {
  const [B, C] = c.shape as [number, number];
  const spatial = c.shape.slice(2);
  const n = B * spatial.reduce((a, b) => a * b, 1);
  // classes 0..C-2 only (class C-1 absent), ignored pixels every 11th
  const values = Array.from({ length: n }, (_, i) => (i % 11 === 5 ? 255 : (i * 7 + Math.floor(i / 13)) % (C - 1)));
  const labels = tensor(BigInt64Array.from(values.map(BigInt)), [B, ...spatial]);
  manualSeed(17);
  const x = randn(c.shape).mul(3).add(0.5);
  const teacher = randn([C, C], { dtype: 'float64' }).mul(2);
  const teacherMask = Array.from({ length: C }, (_, k) => k !== 2);
  return { x, labels, teacher, options: { ignoreIndex: 255, teacherMask, tau: 1.5 } };
}

for (const { device, skip } of DEVICES) {
  describe(`on ${device}`, function () {
    let fx: Fixtures;
    const convnet = () => path.join(fx.dir, 'convnet.pt');
    const amp = device.startsWith('cuda');

    before(async function () {
      const reason = skip();
      if (reason) {
        console.log(`      (${device} skipped: ${reason})`);
        this.skip();
      }
      fx = await fixturesOrSkip(this);
    });

    for (const c of OP_CASES) {
      it(`fused prototype + DIST loss and its backward equal the float64 reference on the CPU: ${c.name}`, function () {
        if (c.cudaOnly && device === 'cpu') this.skip();
        scope(() => {
          const { x, labels, teacher, options } = opInputs(c);
          const input = x.to({ device, dtype: c.dtype }).requiresGrad_();
          const loss = ops.protoDistLoss(input, labels.to(device), teacher.to(device), options);
          loss.backward();
          assert.equal(input.grad!.device, input.device);
          // the reference sees the inputs as the device saw them (rounded to c.dtype)
          const ref = input.detach().to({ device: 'cpu', dtype: 'float64' }).requiresGrad_();
          const expected = ops.reference.protoDistLoss(ref, labels, teacher, options);
          expected.backward();
          const [got, want] = [f64(loss)[0]!, expected.item() as number];
          assert.ok(want > 0, 'the case has a non-zero loss');
          assert.ok(Math.abs(got - want) <= c.tol * Math.abs(want), `loss ${got} vs ${want}`);
          const gradDiff = relDiff(f64(input.grad!), f64(ref.grad!));
          assert.ok(gradDiff <= c.tol, `gradient off by ${gradDiff} of its largest entry`);
          // pixels of the class the teacher never saw get no gradient from the loss
          const grad = input.grad!.to({ device: 'cpu', dtype: 'float64' });
          const unseen = labels.eq(2).unsqueeze(1).to('float64');
          assert.equal(grad.mul(unseen).abs().max().item(), 0);
        });
      });
    }

    it(`trainStep${amp ? ' with AMP' : ''} lowers the loss`, async function () {
      const batch = fixedBatch(fx.dir);
      manualSeed(3);
      const module = ScriptModule.loadSync(convnet(), { device }).train();
      const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
      const [inputs, target] = [batch.input.to(device), batch.labels.to(device)];
      const losses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await trainStep({ module, optimizer, inputs, target, amp });
        assert.ok(r.stepped && Number.isFinite(r.loss), `step ${i}: loss ${r.loss}`);
        losses.push(r.loss);
      }
      assert.ok(losses[39]! <= 0.6 * losses[0]!, `loss ${losses[0]} -> ${losses[39]}`);
      assert.ok(module.parameters().every((p) => p.device === module.device && p.dtype === 'float32'));
      // AMP runs its loss scaler; without AMP there is none
      assert.equal(optimizer.stateDict().scaler !== undefined && optimizer.stateDict().scaler !== null, amp);
    });

    it(`one training step${amp ? ' with AMP' : ''} matches the same step on the CPU`, async function () {
      const batch = fixedBatch(fx.dir);
      const step = async (on: Device, withAmp: boolean) => {
        // eval mode: no dropout mask, so both devices compute the same function
        const module = ScriptModule.loadSync(convnet(), { device: on }).eval();
        const optimizer = new optim.SGD(module.parameters(), { lr: 0.1, momentum: 0.9 });
        const r = await trainStep({ module, optimizer, inputs: batch.input.to(on), target: batch.labels.to(on), amp: withAmp });
        return { loss: r.loss, params: flatParams(module) };
      };
      const here = await step(device, amp);
      const cpu = await step('cpu', false);
      const tol = amp ? 2e-2 : 1e-5;
      assert.ok(Math.abs(here.loss - cpu.loss) <= tol * cpu.loss, `loss ${here.loss} vs ${cpu.loss} on the CPU`);
      assert.ok(relDiff(here.params, cpu.params) <= tol, `parameters off by ${relDiff(here.params, cpu.params)}`);
    });

    it('a checkpoint written here loads on the CPU and the run continues there', async function () {
      const batch = fixedBatch(fx.dir);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-devices-'));
      manualSeed(5);
      const module = ScriptModule.loadSync(convnet(), { device }).eval();
      const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
      const [inputs, target] = [batch.input.to(device), batch.labels.to(device)];
      for (let i = 0; i < 3; i++) await trainStep({ module, optimizer, inputs, target });
      const file = path.join(dir, 'written-here.ckpt');
      await saveCheckpoint(file, { module, optimizer, epoch: 2, step: 3 });

      // no device asked for: a new module goes to the CPU
      const onCpu = (await loadCheckpoint(file)).module;
      assert.equal(onCpu.device, 'cpu');
      assert.ok(onCpu.parameters().every((p) => p.device === 'cpu'));
      assert.deepEqual(flatParams(onCpu), flatParams(module));
      const [outHere, outCpu] = noGrad(() => [f64(module.forwardTensor(inputs)), f64(onCpu.forwardTensor(batch.input))]);
      assert.ok(relDiff(outCpu, outHere) <= 1e-5, `outputs off by ${relDiff(outCpu, outHere)}`);

      // the optimizer state comes over too: one more step on each side agrees
      const cpuOptimizer = new optim.Adam(onCpu.parameters(), { lr: 0.01 });
      const resumed = await loadCheckpoint(file, { module: onCpu, optimizer: cpuOptimizer });
      assert.equal(resumed.step, 3);
      const a = await trainStep({ module, optimizer, inputs, target });
      const b = await trainStep({ module: onCpu, optimizer: cpuOptimizer, inputs: batch.input, target: batch.labels });
      assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * b.loss, `loss ${a.loss} here vs ${b.loss} resumed on the CPU`);
      assert.ok(relDiff(flatParams(onCpu), flatParams(module)) <= 1e-4);
    });
  });
}

describe('a module or checkpoint saved on a GPU, read on a machine without one', function () {
  let fx: Fixtures;
  let dir: string;
  const convnet = () => path.join(fx.dir, 'convnet.pt');
  /** The file rewritten as PyTorch on a GPU would have written it (test/support/as_saved_on_gpu.py). */
  const asSavedOnGpu = async (file: string): Promise<string> => {
    const out = path.join(dir, `gpu-${path.basename(file)}`);
    const { stdout } = await run(projectPython()!, [path.join(projectRoot, 'test', 'support', 'as_saved_on_gpu.py'), file, out]);
    assert.ok(Number(stdout) >= 1, `no device name rewritten (${stdout.trim()})`);
    return out;
  };

  before(async function () {
    fx = await fixturesOrSkip(this);
    if (cudaSkipReason() === null) {
      console.log('      (skipped: a GPU is visible here, so CUDA storages stay on it)');
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-from-gpu-'));
  });

  it('a TorchScript module loads onto the CPU without naming a device', async function () {
    const file = await asSavedOnGpu(convnet());
    const x = fixedBatch(fx.dir).input;
    const module = ScriptModule.loadSync(convnet()).eval();
    for (const loaded of [ScriptModule.loadSync(file), await ScriptModule.load(file)]) {
      assert.equal(loaded.device, 'cpu');
      assert.deepEqual(flatParams(loaded.eval()), flatParams(module));
      noGrad(() => assert.deepEqual(f64(loaded.forwardTensor(x)), f64(module.forwardTensor(x))));
    }
  });

  it('a checkpoint loads onto the CPU, as a new module and into an existing one', async function () {
    const module = ScriptModule.loadSync(convnet()).eval();
    const written = path.join(dir, 'cpu.ckpt');
    await saveCheckpoint(written, { module, epoch: 1 });
    const file = await asSavedOnGpu(written);
    const loaded = (await loadCheckpoint(file)).module;
    assert.equal(loaded.device, 'cpu');
    assert.deepEqual(flatParams(loaded), flatParams(module));
    const x = fixedBatch(fx.dir).input;
    noGrad(() => assert.deepEqual(f64(loaded.forwardTensor(x)), f64(module.forwardTensor(x))));
    const into = ScriptModule.loadSync(convnet());
    await loadCheckpoint(file, { module: into });
    assert.deepEqual(flatParams(into), flatParams(module));
  });
});
