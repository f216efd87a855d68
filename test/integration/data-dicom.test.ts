// DICOM in: files written by pydicom (rescale, LPS and flipped orientation, implicit VR, an
// unordered series with per-slice rescale) read to the values and geometry pydicom gives;
// pydicom's bundled CT_small.dcm; compressed syntaxes and coronal slices refused; predict on
// a DICOM series giving what it gives on a NIfTI of the same pixels and geometry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readDicomSync } from '../../lib/data/dicom.js';
import { DicomError } from '../../lib/data/errors.js';
import { readImage } from '../../lib/data/image-io.js';
import * as nifti from '../../lib/data/nifti.js';
import { nonAxialSliceProblem } from '../../lib/data/slice-plane.js';
import { ConfigError } from '../../lib/pipeline/config-schema.js';
import { exportModel } from '../../lib/models/export.js';
import { predict } from '../../lib/pipeline/stages/predict.js';
import { projectRoot } from '../support/python.js';
import { pydicomPython } from '../support/pydicom.js';

const run = promisify(execFile);

interface Case {
  files: string[];
  dir?: string;
  shape: number[];
  values: number[];
  affine: number[][];
}

function assertAffine(got: number[][], want: number[][], what: string): void {
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(got[r]![c]! - want[r]![c]!) < 1e-4, `${what}: affine[${r}][${c}] ${got[r]![c]} vs pydicom ${want[r]![c]}`);
}

describe('DICOM reading (against pydicom)', function () {
  let dir: string;
  let cases: Record<string, Case> = {};
  let python: string | null = null;

  before(async function () {
    python = await pydicomPython();
    if (!python) {
      console.log('    (skipped: no project Python with pydicom; it could not be installed)');
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-dicom-'));
    const { stdout } = await run(python, [path.join(projectRoot, 'test', 'support', 'make_dicom.py'), dir], { maxBuffer: 64 << 20 });
    cases = JSON.parse(stdout) as Record<string, Case>;
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  for (const name of ['single', 'flipped', 'series']) {
    it(`${name}: values in HU and the RAS affine as pydicom gives them`, function () {
      const c = cases[name]!;
      const img = readDicomSync(c.dir ?? c.files[0]!, { orientation: 'native' });
      assert.deepEqual(img.shape, c.shape);
      assertAffine(img.affine, c.affine, name);
      assert.equal(img.data.length, c.values.length);
      for (let i = 0; i < c.values.length; i++) assert.ok(Math.abs(img.data[i]! - c.values[i]!) < 1e-3, `${name}: voxel ${i} ${img.data[i]} vs ${c.values[i]}`);
    });
  }

  it('reads in RAS order by default: the flipped file comes back with x running to the right', function () {
    const c = cases.flipped!;
    const img = readDicomSync(c.files[0]!);
    assert.equal(nifti.orientation(img), 'RAS');
    // LPS IOP [-1, 0, 0] runs toward the patient's right already; rows (posterior) become anterior: flipped in y
    const [nx, ny] = img.shape;
    assert.equal(img.data[0], c.values[(ny - 1) * nx]);
    assert.ok(img.affine[0]![0]! > 0 && img.affine[1]![1]! > 0);
  });

  it("pydicom's bundled CT_small.dcm (NEMA WG04 CT1): values and geometry", function () {
    const c = cases.ct_small;
    if (!c) {
      console.log('    (skipped: pydicom has no bundled CT_small.dcm)');
      this.skip();
    }
    const img = readDicomSync(c.files[0]!, { orientation: 'native' });
    assert.deepEqual(img.shape, c.shape);
    assertAffine(img.affine, c.affine, 'CT_small');
    let worst = 0;
    for (let i = 0; i < c.values.length; i++) worst = Math.max(worst, Math.abs(img.data[i]! - c.values[i]!));
    assert.ok(worst < 1e-3, `largest difference ${worst}`);
  });

  it('a compressed transfer syntax is refused, naming it', async function () {
    const { stdout } = await run(python!, ['-c', "from pydicom.data import get_testdata_file as g; print(g('JPEG2000.dcm', download=False) or '')"]);
    const file = stdout.trim();
    if (!file || !existsSync(file)) {
      console.log('    (skipped: pydicom has no bundled JPEG2000.dcm)');
      this.skip();
    }
    assert.throws(
      () => readDicomSync(file),
      (e: Error) => e instanceof DicomError && /1\.2\.840\.10008\.1\.2\.4\.9[01] \(JPEG 2000/.test(e.message) && e.message.includes(file),
    );
  });

  it('a coronal single slice is refused, not read as one-pixel axial slices', async function () {
    const f = cases.coronal!.files[0]!;
    const img = await readImage(f, { orientation: 'native', headerOnly: true });
    assert.match(nonAxialSliceProblem(img.shape, img.affine) ?? '', /coronal single slice/);
    await assert.rejects(
      predict({ checkpoint: f, inputs: [f], out: path.join(dir, 'never') }),
      (e: Error) => e instanceof ConfigError && /coronal single slice/.test(e.message),
    );
  });

  it('a folder with two multi-file series is refused; a folder of series files is one input', function () {
    const img = readDicomSync(cases.series!.dir!);
    assert.equal(img.shape[2], 5);
    assert.throws(
      () => readDicomSync(path.join(dir, 'nope.dcm')),
      (e: Error) => e instanceof DicomError && /no such file/.test(e.message),
    );
  });

  it('predict on a DICOM series writes the labels and geometry it writes for a NIfTI of the same pixels', async function () {
    const c = cases.series!;
    // the NIfTI twin, from pydicom's values and affine (not from our reader)
    const twinDir = path.join(dir, 'twin');
    mkdirSync(twinDir);
    const twin = path.join(twinDir, 'series.nii.gz');
    const spacing = [0, 1, 2].map((k) => Math.hypot(c.affine[0]![k]!, c.affine[1]![k]!, c.affine[2]![k]!)) as [number, number, number];
    await nifti.write(twin, { data: Float32Array.from(c.values), shape: c.shape as [number, number, number], spacing, affine: c.affine });
    const model = path.join(dir, 'tiny.pt');
    await exportModel({ arch: 'deeplabv3', preset: 'tiny', out: model, seed: 1 });
    const fromDicom = await predict({ checkpoint: model, inputs: [c.dir!], out: path.join(dir, 'pred-dicom'), log: () => {} });
    const fromNifti = await predict({ checkpoint: model, inputs: [twin], out: path.join(dir, 'pred-nifti'), log: () => {} });
    assert.equal(path.basename(fromDicom[0]!.output), 'series_seg.nii.gz');
    const a = await nifti.read(fromDicom[0]!.output, { orientation: 'native' });
    const b = await nifti.read(fromNifti[0]!.output, { orientation: 'native' });
    assert.deepEqual(a.shape, b.shape);
    assertAffine(a.affine, b.affine, 'prediction');
    assert.deepEqual([...a.data], [...b.data]);
    assert.deepEqual(fromDicom[0]!.counts, fromNifti[0]!.counts);
  });
});
