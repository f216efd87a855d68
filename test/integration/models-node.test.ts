// The zoo's tiny presets in Node against PyTorch: a model built and saved as a Python
// state_dict, exported with --weights, must give Python's outputs in Node (eval and train
// mode), switch BatchNorm behaviour with train() / eval(), and train from TypeScript.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODEL_ARCHS, ScriptModule, manualSeed, noGrad, optim, tensor, trainStep } from '../../lib/index.js';
import { maxAbsDiff, projectPython, runPython } from '../support/python.js';

const floats = (file: string) => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

describe('model zoo in Node against PyTorch (tiny presets)', function () {
  this.timeout(10 * 60_000);
  before(function () {
    if (!projectPython()) this.skip();
  });

  for (const arch of MODEL_ARCHS) {
    describe(arch, function () {
      let dir: string;
      let ref: { input: number[]; output: number[]; classes: number; trainDiffers: boolean };
      before(async function () {
        dir = mkdtempSync(path.join(os.tmpdir(), `sd-zoo-${arch}-`));
        await runPython('slice_distill_models.zoo_reference', ['--arch', arch, '--out', dir]);
        ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8'));
      });

      it('a Python state_dict exported with --weights gives the eager outputs in Node (eval, < 1e-4)', async function () {
        const m = (await ScriptModule.load(path.join(dir, 'model.pt'))).eval();
        assert.equal(m.metadata!.arch, arch);
        const x = tensor(floats(path.join(dir, 'input.bin')), ref.input);
        const out = noGrad(() => m.forwardTensor(x));
        assert.deepEqual(out.shape, ref.output);
        assert.ok(maxAbsDiff(out.toArray() as Float32Array, floats(path.join(dir, 'eager.bin'))) < 1e-4);
      });

      it('train mode equals PyTorch train mode (same seed); train vs eval differ exactly where they do in Python', async function () {
        const m = ScriptModule.loadSync(path.join(dir, 'model.pt'));
        const x = tensor(floats(path.join(dir, 'input.bin')), ref.input);
        m.train();
        manualSeed(5);
        const train = noGrad(() => m.forwardTensor(x)).toArray() as Float32Array;
        assert.ok(maxAbsDiff(train, floats(path.join(dir, 'train.bin'))) < 1e-4);
        m.eval();
        const evalOut = noGrad(() => m.forwardTensor(x)).toArray() as Float32Array;
        // BatchNorm / dropout / drop-path models differ between the modes; MISSFormer (LayerNorm only) does not
        assert.equal(maxAbsDiff(train, evalOut) > 1e-3, ref.trainDiffers);
        if (arch === 'deeplabv3') assert.equal(ref.trainDiffers, true);
      });

      it('a few SGD steps from TypeScript lower the loss on a fixed batch', async function () {
        const m = ScriptModule.loadSync(path.join(dir, 'model.pt')).train();
        const x = tensor(floats(path.join(dir, 'input.bin')), ref.input);
        // labels: a threshold of the input, so there is something to learn
        const labels = x.select(1, 0).gt(0.5).to('int64').add(x.select(1, 0).gt(0.8).to('int64'));
        const optimizer = new optim.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
        manualSeed(1);
        const losses: number[] = [];
        for (let i = 0; i < 6; i++) losses.push((await trainStep({ module: m, optimizer, inputs: x, target: labels })).loss);
        assert.ok(losses.at(-1)! < losses[0]!, `loss ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
        // validation between epochs: an async eval forward after training, then training again
        // (a scripted module keeps differentiable graphs that InferenceMode rejects)
        m.eval();
        const out = await m.forwardAsync(x);
        assert.ok(out instanceof Object);
        m.train();
        assert.ok(Number.isFinite((await trainStep({ module: m, optimizer, inputs: x, target: labels })).loss));
      });
    });
  }
});
