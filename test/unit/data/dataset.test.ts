import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertValidDataset, loadDataset, parseDataset, subjectsOf, validateDataset } from '../../../lib/data/dataset.js';
import { DatasetError } from '../../../lib/data/errors.js';
import { LabelMapper, LABEL_MAPS } from '../../../lib/data/labels.js';
import * as nifti from '../../../lib/data/nifti.js';
import { patternImage, tempDir } from '../../support/data-fixtures.js';

/** A small image / label pair on one grid; labels use the given source ids. */
function pair(shape: [number, number, number], ids: number[]): { image: nifti.NiftiImage; label: nifti.NiftiImage } {
  const image = patternImage(shape);
  const label = { ...patternImage(shape), data: new Uint8Array(image.data.length) };
  ids.forEach((id, i) => (label.data[i] = id));
  return { image, label };
}

describe('data: dataset.json', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    mkdirSync(path.join(tmp.dir, 'img'));
  });
  afterEach(() => tmp.cleanup());

  async function put(name: string, image: nifti.NiftiImage): Promise<string> {
    await nifti.write(path.join(tmp.dir, name), image);
    return name;
  }
  function writeJson(json: unknown): string {
    const file = path.join(tmp.dir, 'dataset.json');
    writeFileSync(file, JSON.stringify(json, null, 2));
    return file;
  }

  it('loads a valid dataset: paths relative to the file, label map, phases', async () => {
    const v = pair([6, 5, 4], [0, 1, 6, 7, 8]);
    const s = pair([6, 5, 1], [0, 2, 3]);
    await put('img/v1.nii.gz', v.image);
    await put('img/v1_seg.nii.gz', v.label);
    await put('img/s1.nii.gz', s.image);
    await put('img/s1_seg.nii.gz', s.label);
    writeJson({
      name: 'tiny',
      labelMap: { '1': 1, '2': 2, '3': 3, '6': 4, '7': 5, '8': 6 },
      volumes: [{ image: 'img/v1.nii.gz', label: 'img/v1_seg.nii.gz', subject: 'a', phase: 'portal-venous' }],
      slices: [{ image: 'img/s1.nii.gz', label: 'img/s1_seg.nii.gz', subject: 'b' }],
    });
    const ds = await loadDataset(tmp.dir); // a folder works as well as the file
    assert.equal(ds.name, 'tiny');
    assert.equal(ds.volumes[0].image, path.join(tmp.dir, 'img/v1.nii.gz'));
    assert.equal(ds.volumes[0].phase, 'portal-venous');
    assert.deepEqual(subjectsOf(ds), ['a', 'b']);
    assert.equal(ds.labelMap.classOf(6), 4);
    const report = await assertValidDataset(ds);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.volumes[0].shape, [6, 5, 4]);
    assert.deepEqual(report.volumes[0].counts, [116, 1, 0, 0, 1, 1, 1]);
    assert.deepEqual(report.slices[0].counts, [28, 0, 1, 1, 0, 0, 0]);
  });

  it('reports every problem at once: missing files, shape and geometry mismatch, unmapped labels, duplicates, 3D slices', async () => {
    const ok = pair([6, 5, 4], [0, 1, 2]);
    await put('img/ok.nii.gz', ok.image);
    await put('img/ok_seg.nii.gz', ok.label);
    await put('img/bad_values_seg.nii.gz', pair([6, 5, 4], [0, 1, 9, 9, 42]).label);
    await put('img/other_shape_seg.nii.gz', pair([6, 5, 3], [0]).label);
    const moved = pair([6, 5, 4], [0]).label;
    moved.affine = moved.affine.map((r, i) => (i === 0 ? [r[0], r[1], r[2], r[3] + 4.5] : r));
    await put('img/moved_seg.nii.gz', moved);
    await put('img/a.nii.gz', ok.image);
    await put('img/b.nii.gz', ok.image);
    await put('img/c.nii.gz', ok.image);
    writeJson({
      labelMap: { '1': 1, '2': 2 },
      volumes: [
        { image: 'img/ok.nii.gz', label: 'img/ok_seg.nii.gz', subject: 's1', phase: 'non-contrast' },
        { image: 'img/missing.nii.gz', label: 'img/missing_seg.nii.gz', subject: 's2' },
        { image: 'img/a.nii.gz', label: 'img/bad_values_seg.nii.gz', subject: 's3' },
        { image: 'img/b.nii.gz', label: 'img/other_shape_seg.nii.gz', subject: 's4' },
        { image: 'img/c.nii.gz', label: 'img/moved_seg.nii.gz', subject: 's1', phase: 'non-contrast' },
      ],
      slices: [{ image: 'img/ok.nii.gz', label: 'img/ok_seg.nii.gz', subject: 'x' }],
    });
    // structural problems (duplicates) come first, from parsing
    await assert.rejects(loadDataset(tmp.dir), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      const text = e.problems.map((p) => `${p.where}: ${p.message}`).join('\n');
      assert.match(text, /volumes\[4\]\.subject: duplicate subject 's1' in phase 'non-contrast'/);
      assert.match(text, /slices\[0\]\.image: img\/ok\.nii\.gz is also used by volumes\[0\]\.image/);
      return true;
    });
    // fix those, then the file checks report the rest together
    writeJson({
      labelMap: { '1': 1, '2': 2 },
      volumes: [
        { image: 'img/ok.nii.gz', label: 'img/ok_seg.nii.gz', subject: 's1', phase: 'non-contrast' },
        { image: 'img/missing.nii.gz', label: 'img/missing_seg.nii.gz', subject: 's2' },
        { image: 'img/a.nii.gz', label: 'img/bad_values_seg.nii.gz', subject: 's3' },
        { image: 'img/b.nii.gz', label: 'img/other_shape_seg.nii.gz', subject: 's4' },
        { image: 'img/c.nii.gz', label: 'img/moved_seg.nii.gz', subject: 's5' },
      ],
      slices: [{ image: 'img/ok_copy.nii.gz', label: 'img/ok_copy_seg.nii.gz', subject: 'x' }],
    });
    await put('img/ok_copy.nii.gz', ok.image);
    await put('img/ok_copy_seg.nii.gz', ok.label);
    const ds = await loadDataset(path.join(tmp.dir, 'dataset.json'));
    const report = await validateDataset(ds);
    const text = report.problems.map((p) => `${p.where}: ${p.message}`).join('\n');
    assert.match(text, /volumes\[1\]\.image: missing file img\/missing\.nii\.gz/);
    assert.match(text, /volumes\[1\]\.label: missing file img\/missing_seg\.nii\.gz/);
    assert.match(text, /volumes\[2\]\.label: label values outside the label map: 9 \(2 voxels\), 42 \(1 voxels\)/);
    assert.match(text, /volumes\[3\]\.label: shape \[6, 5, 3\] differs from the image's \[6, 5, 4\]/);
    assert.match(text, /volumes\[4\]\.label: geometry differs from the image's/);
    assert.match(text, /slices\[0\]\.image: a slice must be a 2D NIfTI or a one-slice 3D NIfTI/);
    assert.equal(report.problems.length, 6, text);
    for (const p of report.problems) assert.ok(path.isAbsolute(p.file), 'each problem names its file');
    await assert.rejects(
      assertValidDataset(ds),
      (e: unknown) => e instanceof DatasetError && e.name === 'DatasetError' && e.problems.length === 6 && e.message.includes('6 problems'),
    );
  });

  it('structural problems: bad JSON, no label map, bad class ids, unknown keys, no entries', async () => {
    await assert.rejects(loadDataset(tmp.dir), (e: unknown) => e instanceof DatasetError && /no such file/.test(e.message));
    writeFileSync(path.join(tmp.dir, 'dataset.json'), '{ not json');
    await assert.rejects(loadDataset(tmp.dir), (e: unknown) => e instanceof DatasetError && /not valid JSON/.test(e.message));
    assert.throws(
      () => parseDataset({ labelMap: { '1': 9, x: 1 }, volumes: [{ image: 3 }], extra: 1 }, '/d/dataset.json'),
      (e: unknown) => {
        assert.ok(e instanceof DatasetError);
        const text = e.problems.map((p) => `${p.where}: ${p.message}`).join('\n');
        assert.match(text, /labelMap\["1"\]: class id 9 is not an integer in 0\.\.6/);
        assert.match(text, /labelMap\["x"\]: source ids must be non-negative integers/);
        assert.match(text, /volumes\[0\]\.image: missing or not a non-empty string/);
        assert.match(text, /volumes\[0\]\.subject: missing/);
        assert.match(text, /extra: unknown key/);
        return true;
      },
    );
    assert.throws(() => parseDataset({ labelMap: {} }, '/d/dataset.json'), /lists no volumes and no slices/);
  });

  it('label maps: BTCV and TotalSegmentator ids, unmapped policy', () => {
    const btcv = new LabelMapper(LABEL_MAPS.btcv);
    assert.deepEqual(Array.from(btcv.apply([0, 1, 2, 3, 6, 7, 8]).labels), [0, 1, 2, 3, 4, 5, 6]);
    const ts = new LabelMapper(LABEL_MAPS.totalsegmentatorV2);
    const r = ts.apply([5, 52, 4, 4, 100]);
    assert.deepEqual(Array.from(r.labels), [4, 6, 0, 0, 0]);
    assert.deepEqual(
      [...r.unknown],
      [
        [4, 2],
        [100, 1],
      ],
    );
    const bg = new LabelMapper(LABEL_MAPS.totalsegmentatorV2, 'background');
    assert.equal(bg.apply([4, 100]).unknown.size, 0);
  });
});
