// Organ measurements: areas with anisotropic spacing known by hand, HU statistics against numpy
// on an int16 NIfTI stored with scl_slope / scl_inter; predict --stats and segment() agreeing
// with them on a tiny student's labels; the label descriptions written beside predictions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLASS_RGB } from '../../lib/data/class-colors.js';
import { CLASSES } from '../../lib/data/labels.js';
import * as nifti from '../../lib/data/nifti.js';
import { organStats } from '../../lib/eval/organ-stats.js';
import { segment } from '../../lib/infer/segment.js';
import { exportModel } from '../../lib/models/export.js';
import { loadModel } from '../../lib/pipeline/models.js';
import { predict } from '../../lib/pipeline/stages/predict.js';
import { pythonJson, scientificPython } from '../support/scientific-python.js';
import { projectPython } from '../support/python.js';

const NX = 20;
const NY = 16;
const NZ = 2;
const SPACING: [number, number, number] = [0.7, 1.3, 5];
const SLOPE = 0.5;
const INTER = -1000;

/** Raw int16 values, and labels: liver 6 x 5 and aorta 3 x 3 on slice 0, spleen 4 x 7 on slice 1. */
function phantom(): { raw: Int16Array; labels: Uint8Array } {
  const raw = new Int16Array(NX * NY * NZ);
  let s = 12345;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    raw[i] = 1800 + (s % 700); // HU 900 .. 1250 scaled: (raw * 0.5) - 1000 = -100 .. 250
  }
  const labels = new Uint8Array(raw.length);
  const box = (z: number, x0: number, x1: number, y0: number, y1: number, k: number) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) labels[(z * NY + y) * NX + x] = k;
  };
  box(0, 2, 8, 3, 8, 4);
  box(0, 12, 15, 10, 13, 6);
  box(1, 5, 9, 2, 9, 1);
  return { raw, labels };
}

/** An uncompressed NIfTI-1 of int16 with scl_slope / scl_inter patched into its header (offsets 112, 116). */
async function writeScaled(file: string, raw: Int16Array): Promise<void> {
  const affine = [
    [SPACING[0], 0, 0, -7],
    [0, SPACING[1], 0, 4],
    [0, 0, SPACING[2], 100],
    [0, 0, 0, 1],
  ];
  await nifti.write(file, { data: raw, shape: [NX, NY, NZ], spacing: SPACING, affine });
  const buf = readFileSync(file);
  buf.writeFloatLE(SLOPE, 112);
  buf.writeFloatLE(INTER, 116);
  writeFileSync(file, buf);
}

const NUMPY_STATS = `
import json, sys
import numpy as np
c = json.load(sys.stdin)
hu = np.array(c['raw'], dtype=np.float64) * c['slope'] + c['inter']
lab = np.array(c['labels'])
plane = c['nx'] * c['ny']
out = []
for z in range(c['nz']):
    h = hu[z * plane:(z + 1) * plane]; l = lab[z * plane:(z + 1) * plane]
    for k in range(1, 7):
        v = h[l == k]
        if v.size == 0:
            out.append(None); continue
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        out.append({'n': int(v.size), 'mean': float(v.mean()), 'sd': float(v.std(ddof=1)), 'median': float(med), 'iqr': float(q3 - q1)})
print(json.dumps(out))
`;

describe('organ stats: areas and HU per slice and organ', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-stats-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('areas in mm2 from anisotropic spacing, and z positions from the affine', () => {
    const { raw, labels } = phantom();
    const image = {
      data: Float32Array.from(raw, (v) => v * SLOPE + INTER),
      shape: [NX, NY, NZ] as [number, number, number],
      spacing: SPACING,
      affine: [
        [0.7, 0, 0, -7],
        [0, 1.3, 0, 4],
        [0, 0, 5, 100],
        [0, 0, 0, 1],
      ],
    };
    const rows = organStats(image, labels);
    assert.equal(rows.length, 2 * 6);
    const at = (z: number, organ: string) => rows.find((r) => r.slice === z && r.organ === organ)!;
    assert.equal(at(0, 'liver').pixels, 30);
    assert.ok(Math.abs(at(0, 'liver').areaMm2 - 30 * 0.7 * 1.3) < 1e-9);
    assert.ok(Math.abs(at(0, 'aorta').areaMm2 - 9 * 0.91) < 1e-9);
    assert.ok(Math.abs(at(1, 'spleen').areaMm2 - 28 * 0.91) < 1e-9);
    assert.equal(at(1, 'liver').pixels, 0);
    assert.equal(at(1, 'liver').meanHu, null);
    assert.equal(at(0, 'liver').zMm, 100);
    assert.equal(at(1, 'spleen').zMm, 105);
    assert.throws(
      () =>
        organStats(
          image,
          labels.map((v) => (v === 6 ? 9 : v)),
          'x_seg.nii.gz',
        ),
      /x_seg\.nii\.gz: voxel \d+ holds 9/,
    );
  });

  it('HU mean / SD / median / IQR of a scl_slope / scl_inter NIfTI match numpy', async function () {
    const python = await scientificPython();
    if (!python) {
      console.log('    (skipped: no Python with numpy)');
      this.skip();
    }
    const { raw, labels } = phantom();
    const file = path.join(dir, 'scaled.nii');
    await writeScaled(file, raw);
    const image = await nifti.read(file);
    assert.equal(image.data[0], raw[0]! * SLOPE + INTER, 'scaling applied on read');
    const rows = organStats(image, labels);
    const ref = await pythonJson<({ n: number; mean: number; sd: number; median: number; iqr: number } | null)[]>(python!, NUMPY_STATS, {
      raw: [...raw],
      labels: [...labels],
      slope: SLOPE,
      inter: INTER,
      nx: NX,
      ny: NY,
      nz: NZ,
    });
    let checked = 0;
    rows.forEach((r, i) => {
      const e = ref[i];
      if (!e) return assert.equal(r.pixels, 0);
      assert.equal(r.pixels, e.n);
      for (const [got, want] of [
        [r.meanHu, e.mean],
        [r.sdHu, e.sd],
        [r.medianHu, e.median],
        [r.iqrHu, e.iqr],
      ] as const)
        assert.ok(Math.abs(got! - want) < 1e-9, `${r.organ} z${r.slice}: ${got} vs numpy ${want}`);
      checked++;
    });
    assert.equal(checked, 3);
  });

  it('predict --stats and segment(): stats.csv / stats.json match the written labels; ITK-SNAP and Slicer label files', async function () {
    if (!projectPython()) {
      console.log('    (skipped: no Python with torch to export a tiny student)');
      this.skip();
    }
    const { raw } = phantom();
    const file = path.join(dir, 'case.nii');
    await writeScaled(file, raw);
    const model = path.join(dir, 'tiny.pt');
    await exportModel({ arch: 'deeplabv3', preset: 'tiny', out: model, seed: 3 });
    const out = path.join(dir, 'preds');
    const [p] = await predict({ checkpoint: model, inputs: [file], out, stats: true, log: () => {} });
    const seg = await nifti.read(p!.output);
    const image = await nifti.read(file);
    const expected = organStats(image, seg.data);
    const json = JSON.parse(readFileSync(path.join(out, 'stats.json'), 'utf8')) as { files: { stats: typeof expected }[] };
    assert.deepEqual(json.files[0]!.stats, JSON.parse(JSON.stringify(expected)));
    const csvLines = readFileSync(path.join(out, 'stats.csv'), 'utf8').trim().split('\n');
    assert.equal(csvLines[0], 'input,output,slice,z_mm,class_id,organ,pixels,area_mm2,mean_hu,sd_hu,median_hu,iqr_hu');
    assert.equal(csvLines.length, 1 + NZ * 6);
    const liver = csvLines.find((l) => l.includes(',liver,') && l.split(',')[2] === '0')!.split(',');
    assert.equal(Number(liver[6]), expected.find((r) => r.slice === 0 && r.organ === 'liver')!.pixels);

    // the API gives the same labels and stats
    const module = (await loadModel(model)).eval();
    const s = await segment(module, await nifti.read(file, { orientation: 'native' }));
    assert.deepEqual([...s.labels], [...(await nifti.read(p!.output, { orientation: 'native' })).data]);
    assert.deepEqual(s.stats, expected);

    const itk = readFileSync(path.join(out, 'labels.itksnap.txt'), 'utf8');
    const ctbl = readFileSync(path.join(out, 'labels.ctbl'), 'utf8');
    for (let k = 1; k < CLASSES.length; k++) {
      const [r, g, b] = CLASS_RGB[k]!;
      assert.match(itk, new RegExp(`^\\s+${k}\\s+${r}\\s+${g}\\s+${b}\\s+1\\.00\\s+1\\s+1\\s+"${CLASSES[k]}"$`, 'm'));
      assert.match(ctbl, new RegExp(`^${k} ${CLASSES[k]!.replace(' ', '_')} ${r} ${g} ${b} 255$`, 'm'));
    }
  });
});
