import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset, validateDataset } from '../../../lib/data/dataset.js';
import * as nifti from '../../../lib/data/nifti.js';
import { generatePhantom, levelName, type PhantomResult } from '../../../lib/data/phantom.js';
import { tempDir } from '../../support/data-fixtures.js';

/** The documented ranges (docs/phantom.md) for default-size volumes: voxels and mean HU per phase. */
const VOLUME_RANGES: Record<number, { name: string; voxels: [number, number]; nc: [number, number]; pv: [number, number] }> = {
  1: { name: 'spleen', voxels: [250, 1800], nc: [10, 45], pv: [45, 95] },
  2: { name: 'right kidney', voxels: [300, 1300], nc: [-15, 25], pv: [110, 155] },
  3: { name: 'left kidney', voxels: [250, 1000], nc: [-10, 28], pv: [105, 150] },
  4: { name: 'liver', voxels: [6000, 15000], nc: [25, 62], pv: [65, 105] },
  5: { name: 'stomach', voxels: [1000, 3500], nc: [-50, 45], pv: [-35, 55] },
  6: { name: 'aorta', voxels: [150, 700], nc: [0, 50], pv: [90, 145] },
};

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)))
    .sort();
}

describe('data: phantom', () => {
  let a: ReturnType<typeof tempDir>;
  let b: ReturnType<typeof tempDir>;
  let result: PhantomResult;
  before(async () => {
    a = tempDir();
    b = tempDir();
    result = await generatePhantom({ out: a.dir, seed: 0 });
  });
  after(() => {
    a.cleanup();
    b.cleanup();
  });

  it('generated twice with one seed, the folders are byte-identical', async () => {
    await generatePhantom({ out: b.dir, seed: 0 });
    const files = listFiles(a.dir);
    assert.deepEqual(files, listFiles(b.dir));
    assert.equal(files.length, 1 + 2 * 8 + 2 * 40);
    for (const f of files) assert.ok(readFileSync(path.join(a.dir, f)).equals(readFileSync(path.join(b.dir, f))), f);
  });

  it('another seed gives other images', async () => {
    const c = tempDir();
    try {
      await generatePhantom({ out: c.dir, seed: 1, volumes: 1, slices: 1 });
      const f = 'volumes/phantom-v000_nc.nii.gz';
      assert.ok(!readFileSync(path.join(a.dir, f)).equals(readFileSync(path.join(c.dir, f))));
    } finally {
      c.cleanup();
    }
  });

  it('is a valid dataset: unpaired subjects, alternating phases, 2D single slices', async () => {
    const ds = await loadDataset(result.datasetFile);
    const report = await validateDataset(ds);
    assert.deepEqual(report.problems, []);
    assert.equal(ds.volumes.length, 8);
    assert.equal(ds.slices.length, 40);
    assert.deepEqual(
      ds.volumes.slice(0, 2).map((v) => v.phase),
      ['non-contrast', 'portal-venous'],
    );
    const volumeSubjects = new Set(ds.volumes.map((v) => v.subject));
    assert.ok(
      ds.slices.every((s) => !volumeSubjects.has(s.subject)),
      'no subject has both',
    );
    const slice = await nifti.read(ds.slices[0].image);
    assert.equal(slice.header!.dim[0], 2);
    assert.deepEqual(slice.shape, [128, 128, 1]);
    assert.deepEqual(report.volumes[0].shape, [64, 64, 48]);
    assert.ok(new Set(ds.slices.map((s) => s.level)).size >= 5, 'several vertebral levels');
    assert.equal(levelName(-20), 'L1');
    assert.equal(levelName(10), 'T12');
  });

  it('per-organ voxel counts and mean HU are in the documented ranges', async () => {
    for (const v of result.volumes) {
      const [image, label] = await Promise.all([nifti.read(path.join(a.dir, v.image)), nifti.read(path.join(a.dir, v.label))]);
      const count = new Array(7).fill(0);
      const sum = new Array(7).fill(0);
      for (let i = 0; i < label.data.length; i++) {
        count[label.data[i]]++;
        sum[label.data[i]] += image.data[i];
      }
      for (let k = 1; k <= 6; k++) {
        const r = VOLUME_RANGES[k];
        const mean = sum[k] / count[k];
        const hu = v.phase === 'non-contrast' ? r.nc : r.pv;
        assert.ok(count[k] >= r.voxels[0] && count[k] <= r.voxels[1], `${v.subject} ${r.name}: ${count[k]} voxels outside ${r.voxels}`);
        assert.ok(mean >= hu[0] && mean <= hu[1], `${v.subject} ${v.phase} ${r.name}: mean ${mean.toFixed(1)} HU outside ${hu}`);
      }
      // the body: air outside, fat and muscle inside
      assert.ok(image.data[0] <= -900, 'corner is air');
    }
  });

  it('single slices: not every organ in every slice, each organ in many', async () => {
    const present = new Array(7).fill(0);
    let all = 0;
    let partial = 0;
    for (const s of result.slices) {
      const label = await nifti.read(path.join(a.dir, s.label));
      const seen = new Set(label.data);
      for (let k = 1; k <= 6; k++) if (seen.has(k)) present[k]++;
      if ([1, 2, 3, 4, 5, 6].every((k) => seen.has(k))) all++;
      else partial++;
    }
    assert.ok(all >= 5 && partial >= 10, `${all} slices with all six organs, ${partial} without`);
    for (let k = 1; k <= 6; k++) assert.ok(present[k] >= 16, `class ${k} in ${present[k]} of 40 slices`);
    assert.equal(present[6], 40, 'the aorta is in every slice');
  });
});
