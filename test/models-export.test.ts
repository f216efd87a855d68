import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScriptModule, noGrad, rand } from '../lib/index.js';
import { ExportError, MODEL_ARCHS, MODEL_FORMAT, exportModel } from '../lib/models/export.js';
import { projectPython } from './support/python.js';

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
});
