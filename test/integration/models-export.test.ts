import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ScriptModule, noGrad, optim, rand, tensor, trainStep } from '../../lib/index.js';
import { ExportError, MODEL_ARCHS, MODEL_FORMAT, WEIGHTS_FORMATS, exportModel } from '../../lib/models/export.js';
import { maxAbsDiff, projectPython, projectRoot } from '../support/python.js';
import { writeResnetLayoutWeights } from '../support/resnet-layout.js';

describe('exportModel (the Python model zoo)', function () {
  let dir: string;

  before(function () {
    if (!projectPython()) {
      console.log('    (skipped: no Python with torch; set PYTHON or run npm install)');
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-export-'));
  });

  for (const arch of MODEL_ARCHS) {
    it(`exports ${arch}/tiny; ScriptModule.load exposes the metadata and the logits have the input size`, async function () {
      const out = path.join(dir, `${arch}.pt`);
      const exported = await exportModel({ arch, preset: 'tiny', classes: 5, out, seed: 1 });
      assert.equal(exported.path, out);
      const md = exported.metadata;
      assert.equal(md.format, MODEL_FORMAT);
      assert.equal(md.arch, arch);
      assert.equal(md.classes, 5);
      assert.equal(md.inChannels, 1);
      assert.equal(md.spatialDims, arch === 'unest' ? 3 : 2);
      assert.equal(md.inputSize.length, md.spatialDims);

      const m = await ScriptModule.load(out);
      assert.deepEqual(m.metadata, md);
      assert.equal(m.isTraining, false);
      m.eval();
      const x = rand([1, 1, ...md.inputSize]);
      const y = noGrad(() => m.forwardTensor(x));
      assert.deepEqual(y.shape, [1, 5, ...md.inputSize]);
    });
  }

  it('rejects weights that do not fit with an ExportError listing the keys (exit code 2)', async function () {
    const good = path.join(dir, 'good.pt');
    await exportModel({ arch: 'deeplabv3', preset: 'tiny', classes: 3, out: good });
    const bad = path.join(dir, 'bad.pt');
    await assert.rejects(exportModel({ arch: 'deeplabv3', preset: 'tiny', classes: 4, out: bad, weights: good }), (e: unknown) => {
      assert.ok(e instanceof ExportError);
      assert.equal(e.name, 'ExportError');
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /shape mismatches \(\d+\): classifier\.weight: file \[3, 16, 1, 1\] vs model \[4, 16, 1, 1\]/);
      return true;
    });
    assert.equal(existsSync(bad), false);
  });

  it('weightsFormat torchvision-resnet50: a ResNet-layout state_dict maps to the backbone, the RGB stem summed; the student trains', async function () {
    const weights = path.join(dir, 'resnet-layout.pth');
    const made = writeResnetLayoutWeights(weights);
    const out = path.join(dir, 'mapped.pt');
    const exported = await exportModel({ arch: 'deeplabv3', preset: 'tiny', out, weights, weightsFormat: 'torchvision-resnet50', strict: true });
    assert.equal(exported.metadata.weightsFormat, 'torchvision-resnet50');
    assert.equal(exported.weightsReport?.mapped, made.keys - 2);
    assert.deepEqual(exported.weightsReport?.missing, []);
    const module = await ScriptModule.load(out);
    const stem = module.namedParameters().get('backbone.stem.0.weight')!;
    assert.ok(maxAbsDiff(stem.toArray() as Float32Array, made.stem) < 1e-5);
    module.train();
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = rand([2, 1, 64, 64]);
    const y = tensor(
      BigInt64Array.from({ length: 2 * 64 * 64 }, (_, i) => BigInt((i * 7919) % 7)),
      [2, 64, 64],
    );
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push((await trainStep({ module, optimizer, inputs: x, target: y })).loss);
    assert.ok(losses.every(Number.isFinite) && losses[4]! < losses[0]!, `losses ${losses}`);
    await assert.rejects(
      exportModel({ arch: 'swin_unet', preset: 'tiny', out, weights, weightsFormat: 'torchvision-resnet50' }),
      /maps to deeplabv3, not swin_unet/,
    );
  });

  it("WEIGHTS_FORMATS is the Python exporter's table of mappings", () => {
    const script = 'import json; from slice_distill_models.weight_maps import WEIGHT_MAPS; print(json.dumps({n: m.arch for n, m in WEIGHT_MAPS.items()}))';
    const python = JSON.parse(
      execFileSync(projectPython()!, ['-c', script], { env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'python') }, encoding: 'utf8' }),
    ) as Record<string, string>;
    assert.deepEqual(python, { ...WEIGHTS_FORMATS });
  });
});
