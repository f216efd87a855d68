import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { NiftiError } from '../../../lib/data/errors.js';
import { affineToQuaternion, orientationOf, quaternionToAffine } from '../../../lib/data/geometry.js';
import { classCounts } from '../../../lib/data/labels.js';
import * as nifti from '../../../lib/data/nifti.js';
import { CASE_A, CASE_B, patternImage, requireRealCt, tempDir } from '../../support/data-fixtures.js';

function assertAffineClose(a: number[][], b: number[][], tol = 1e-4): void {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(a[i][j] - b[i][j]) <= tol, `affine[${i}][${j}]: ${a[i][j]} != ${b[i][j]}`);
}

function centroidX(labels: ArrayLike<number>, shape: number[], cls: number): number {
  const [nx] = shape;
  let s = 0;
  let n = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === cls) {
      s += i % nx;
      n++;
    }
  }
  return s / n;
}

async function expectNiftiError(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NiftiError, `expected a NiftiError, got ${e}`);
    assert.equal(e.name, 'NiftiError');
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), `the message names the file: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('data: NIfTI', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());
  const file = (name: string): string => path.join(tmp.dir, name);

  describe('real CT (../shared/data/real-ct)', () => {
    let ct: nifti.NiftiImage;
    let seg: nifti.NiftiImage;
    before(async function () {
      requireRealCt(this);
      [ct, seg] = await Promise.all([nifti.read(CASE_A.ct), nifti.read(CASE_A.seg)]);
    });

    it('case A: shape, spacing, types and voxel values as its README states', () => {
      assert.deepEqual(ct.shape, [122, 101, 112]);
      assert.deepEqual(ct.spacing, [3, 3, 3]);
      assert.ok(ct.data instanceof Int16Array, 'CT stays int16 (slope 1, inter 0)');
      assert.ok(seg.data instanceof Uint8Array);
      assert.equal(ct.header!.version, 1);
      assert.equal(ct.header!.qformCode, 1);
      assert.equal(ct.header!.sformCode, 1);
      // HU: air outside, bone well above 1000 inside; the mean liver HU of a non-contrast scan
      let min = Infinity;
      let max = -Infinity;
      let liver = 0;
      let nLiver = 0;
      for (let i = 0; i < ct.data.length; i++) {
        min = Math.min(min, ct.data[i]);
        max = Math.max(max, ct.data[i]);
        if (seg.data[i] === 4) {
          liver += ct.data[i];
          nLiver++;
        }
      }
      assert.ok(min <= -1000 && min >= -1300, `min ${min}`);
      assert.ok(max > 1000, `max ${max}`);
      assert.ok(Math.abs(liver / nLiver - 46) < 10, `liver mean ${liver / nLiver} HU near the median 46`);
    });

    it('case A: label counts 9668, 7134, 5090, 41692, 4836, 1839; all six organs in z = 82..101; kidneys in z = 66..104', () => {
      const counts = classCounts(seg.data);
      assert.deepEqual(counts.slice(1), [9668, 7134, 5090, 41692, 4836, 1839]);
      const [nx, ny, nz] = seg.shape;
      const present = (k: number): Set<number> => {
        const set = new Set<number>();
        for (let i = k * nx * ny; i < (k + 1) * nx * ny; i++) if (seg.data[i] > 0) set.add(seg.data[i]);
        return set;
      };
      for (let k = 82; k <= 101; k++) assert.equal(present(k).size, 6, `slice ${k}`);
      const kidneySlices = [...Array(nz).keys()].filter((k) => present(k).has(2) || present(k).has(3));
      assert.deepEqual([kidneySlices[0], kidneySlices[kidneySlices.length - 1]], [66, 104]);
    });

    it('RAS: the liver on the patient right (high x), the spleen on the left', () => {
      assert.equal(nifti.orientation(ct), 'RAS');
      const liver = centroidX(seg.data, seg.shape, 4);
      const spleen = centroidX(seg.data, seg.shape, 1);
      assert.ok(liver > spleen + 30, `liver x ${liver} vs spleen x ${spleen}`);
      // and in world mm: the liver at larger x (RAS +x = patient right)
      assert.ok(ct.affine[0][0] > 0);
    });

    it('case B: 256 x 256 x 20 at 1.953 x 1.953 x 2 mm, no kidneys', async () => {
      const [b, bs] = await Promise.all([nifti.read(CASE_B.ct), nifti.read(CASE_B.seg)]);
      assert.deepEqual(b.shape, [256, 256, 20]);
      assert.ok(Math.abs(b.spacing[0] - 1.953125) < 1e-6 && b.spacing[2] === 2);
      const counts = classCounts(bs.data);
      assert.deepEqual([counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]], [32742, 0, 0, 91675, 18495, 2931]);
      assert.ok(centroidX(bs.data, bs.shape, 4) > centroidX(bs.data, bs.shape, 1));
    });

    it('a case A volume written and read back is identical (.nii.gz and .nii, NIfTI-1 and -2)', async () => {
      for (const [name, version] of [
        ['a.nii.gz', 1],
        ['a.nii', 1],
        ['a2.nii.gz', 2],
      ] as const) {
        await nifti.write(file(name), ct, { version });
        const back = await nifti.read(file(name));
        assert.equal(back.header!.version, version);
        assert.deepEqual(back.shape, ct.shape);
        assert.deepEqual(back.spacing, ct.spacing);
        assertAffineClose(back.affine, ct.affine);
        assert.ok(back.data instanceof Int16Array);
        assert.ok(
          Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(ct.data.buffer, ct.data.byteOffset, ct.data.byteLength)),
          'voxels identical',
        );
        // qform and sform both describe the same geometry
        assertAffineClose(nifti.headerAffine(back.header!, 'qform'), nifti.headerAffine(back.header!, 'sform'));
      }
    });

    it('re-saved with an LPS affine and flipped data, it reads back to the same RAS array', async () => {
      const lps = nifti.reorient(ct, 'LPS');
      assert.equal(nifti.orientation(lps), 'LPS');
      assert.notDeepEqual(Array.from(lps.data.subarray(0, 200)), Array.from(ct.data.subarray(0, 200)));
      await nifti.write(file('lps.nii.gz'), lps);
      const native = await nifti.read(file('lps.nii.gz'), { orientation: 'native' });
      assert.equal(orientationOf(native.affine), 'LPS');
      assert.ok(native.affine[0][0] < 0 && native.affine[1][1] < 0);
      const back = await nifti.read(file('lps.nii.gz'));
      assert.equal(nifti.orientation(back), 'RAS');
      assert.deepEqual(back.shape, ct.shape);
      assertAffineClose(back.affine, ct.affine);
      assert.ok(Buffer.from(back.data.buffer).equals(Buffer.from(ct.data.buffer)), 'same RAS voxels');
      // a permuted orientation (axes swapped) as well
      const pir = nifti.reorient(ct, 'PIR');
      await nifti.write(file('pir.nii'), pir);
      const back2 = await nifti.read(file('pir.nii'));
      assertAffineClose(back2.affine, ct.affine);
      assert.ok(Buffer.from(back2.data.buffer).equals(Buffer.from(ct.data.buffer)));
    });
  });

  describe('geometry and types', () => {
    it('every datatype round-trips (uint8 int8 int16 uint16 int32 uint32 float32 float64)', async () => {
      const base = patternImage();
      const arrays = [Uint8Array, Int8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array];
      for (const Ctor of arrays) {
        const img = { ...base, data: Ctor.from(base.data) };
        await nifti.write(file('t.nii'), img);
        const back = await nifti.read(file('t.nii'));
        assert.equal(back.data.constructor, Ctor);
        assert.deepEqual(Array.from(back.data), Array.from(img.data));
      }
    });

    it('int64 and uint64 voxels read as Float64Array', async () => {
      const img = patternImage();
      for (const [type, Ctor] of [
        ['int64', BigInt64Array],
        ['uint64', BigUint64Array],
      ] as const) {
        const h = nifti.buildHeader(img, 'int32');
        h.datatype = nifti.NIFTI_TYPES[type];
        h.bitpix = 64;
        const data = Ctor.from(Array.from(img.data, (v) => BigInt(v)) as never);
        writeFileSync(file('i64.nii'), nifti.encode(h, data as unknown as nifti.VoxelArray));
        const back = await nifti.read(file('i64.nii'));
        assert.ok(back.data instanceof Float64Array);
        assert.deepEqual(Array.from(back.data), Array.from(img.data));
      }
    });

    it('scl_slope / scl_inter are applied; slope 0 or NaN means 1', async () => {
      const img = patternImage();
      const cases: [number, number, (v: number) => number, string][] = [
        [2, -1024, (v) => 2 * v - 1024, 'Float32Array'],
        [0, 5, (v) => v + 5, 'Float32Array'],
        [NaN, 0, (v) => v, 'Int16Array'],
        [1, 0, (v) => v, 'Int16Array'],
      ];
      for (const [slope, inter, f, arrayName] of cases) {
        const h = nifti.buildHeader(img, 'int16');
        h.sclSlope = slope;
        h.sclInter = inter;
        writeFileSync(file('s.nii'), nifti.encode(h, img.data));
        const back = await nifti.read(file('s.nii'));
        assert.equal(back.data.constructor.name, arrayName, `slope ${slope}`);
        assert.deepEqual(Array.from(back.data), Array.from(img.data, f));
        const raw = await nifti.read(file('s.nii'), { scale: false });
        assert.deepEqual(Array.from(raw.data), Array.from(img.data));
      }
    });

    it('the affine comes from sform or qform by their codes, else pixdim', async () => {
      const img = patternImage();
      const h = nifti.buildHeader(img, 'int16');
      // a different sform: used when sform_code > 0, ignored when 0
      h.srow = [
        [0, -2, 0, 5],
        [1.5, 0, 0, 6],
        [0, 0, 3, 7],
      ];
      const write = (): void => writeFileSync(file('g.nii'), nifti.encode(h, img.data));
      write();
      let back = await nifti.read(file('g.nii'), { orientation: 'native' });
      assertAffineClose(back.affine, [...h.srow, [0, 0, 0, 1]]);
      h.sformCode = 0;
      write();
      back = await nifti.read(file('g.nii'), { orientation: 'native' });
      assertAffineClose(back.affine, img.affine);
      h.qformCode = 0;
      write();
      back = await nifti.read(file('g.nii'), { orientation: 'native' });
      assertAffineClose(back.affine, [
        [1.5, 0, 0, 0],
        [0, 2, 0, 0],
        [0, 0, 3, 0],
        [0, 0, 0, 1],
      ]);
    });

    it('qform quaternions round-trip for oblique and left-handed affines', () => {
      const t = (30 * Math.PI) / 180;
      const affines = [
        [
          [Math.cos(t) * 0.8, -Math.sin(t) * 0.8, 0, 1],
          [Math.sin(t) * 0.8, Math.cos(t) * 0.8, 0, 2],
          [0, 0, 2.5, 3],
          [0, 0, 0, 1],
        ],
        [
          [-0.7, 0, 0, 100],
          [0, -0.7, 0, 120],
          [0, 0, 5, -50],
          [0, 0, 0, 1],
        ],
        [
          [0, 0, -3, 0],
          [-1, 0, 0, 0],
          [0, 2, 0, 0],
          [0, 0, 0, 1],
        ],
        [
          [-1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
      ];
      for (const a of affines) assertAffineClose(quaternionToAffine(affineToQuaternion(a)), a, 1e-6);
    });

    it('big-endian files read the same', async () => {
      const img = patternImage();
      const h = nifti.buildHeader(img, 'int16');
      const le = nifti.encode(h, img.data);
      // swap every header field and the voxels by hand: re-encode through a DataView
      const be = new Uint8Array(le.length);
      be.set(le);
      const v = new DataView(be.buffer);
      const src = new DataView(le.buffer);
      const swap = (off: number, bytes: number): void => {
        for (let i = 0; i < bytes; i++) be[off + i] = le[off + bytes - 1 - i];
      };
      const fields: [number, number, number][] = [
        [0, 4, 1],
        [40, 2, 8],
        [56, 4, 3],
        [68, 2, 1],
        [70, 2, 1],
        [72, 2, 1],
        [74, 2, 1],
        [76, 4, 8],
        [108, 4, 1],
        [112, 4, 1],
        [116, 4, 1],
        [120, 2, 1],
        [124, 4, 4],
        [140, 4, 2],
        [252, 2, 1],
        [254, 2, 1],
        [256, 4, 18],
      ];
      for (const [off, bytes, count] of fields) for (let c = 0; c < count; c++) swap(off + c * bytes, bytes);
      for (let i = 0; i < img.data.length; i++) v.setInt16(h.voxOffset + 2 * i, src.getInt16(h.voxOffset + 2 * i, true), false);
      writeFileSync(file('be.nii'), be);
      const back = await nifti.read(file('be.nii'));
      assert.equal(back.header!.littleEndian, false);
      assert.deepEqual(Array.from(back.data), Array.from(img.data));
      assertAffineClose(back.affine, img.affine);
    });

    it('2D NIfTI files read as [X, Y, 1] and are written back as 2D', async () => {
      const img = patternImage([5, 4, 1]);
      await nifti.write(file('2d.nii.gz'), img, { ndim: 2 });
      const back = await nifti.read(file('2d.nii.gz'));
      assert.equal(back.header!.dim[0], 2);
      assert.deepEqual(back.shape, [5, 4, 1]);
      assert.deepEqual(Array.from(back.data), Array.from(img.data));
      await nifti.write(file('2d-again.nii'), back);
      assert.equal((await nifti.read(file('2d-again.nii'))).header!.dim[0], 2, 'a 2D header stays 2D');
    });

    it('writing keeps descriptions, intent and extensions', async () => {
      const img = patternImage();
      const h = nifti.buildHeader(img, 'int16', { descrip: 'kept' });
      h.intentName = 'label';
      h.extensions = [{ code: 6, data: new TextEncoder().encode('{"a":1}') }];
      await nifti.write(file('x.nii'), { ...img, header: h });
      const first = await nifti.read(file('x.nii'));
      await nifti.write(file('y.nii'), first);
      const second = await nifti.read(file('y.nii'));
      assert.equal(second.header!.descrip, 'kept');
      assert.equal(second.header!.intentName, 'label');
      assert.equal(second.header!.extensions.length, 1);
      assert.equal(new TextDecoder().decode(second.header!.extensions[0].data).replace(/\0+$/, ''), '{"a":1}');
    });
  });

  describe('broken files are NiftiErrors naming the file', () => {
    it('a truncated .nii.gz', async () => {
      const img = patternImage([20, 20, 20]);
      await nifti.write(file('full.nii.gz'), img);
      const bytes = readFileSync(file('full.nii.gz'));
      writeFileSync(file('trunc.nii.gz'), bytes.subarray(0, Math.floor(bytes.length / 2)));
      await expectNiftiError(nifti.read(file('trunc.nii.gz')), file('trunc.nii.gz'), /truncated gzip/);
      assert.throws(
        () => nifti.readSync(file('trunc.nii.gz')),
        (e: unknown) => e instanceof NiftiError && e.file === file('trunc.nii.gz'),
      );
    });

    it('wrong magic', async () => {
      const img = patternImage();
      const bytes = nifti.encode(nifti.buildHeader(img, 'int16'), img.data);
      bytes.set([0x61, 0x62, 0x63, 0x00], 344);
      writeFileSync(file('magic.nii'), bytes);
      await expectNiftiError(nifti.read(file('magic.nii')), file('magic.nii'), /wrong magic/);
      writeFileSync(file('text.nii.gz'), zlib.gzipSync(Buffer.from('hello, this is not an image at all'.repeat(20))));
      await expectNiftiError(nifti.read(file('text.nii.gz')), file('text.nii.gz'), /not a NIfTI file/);
    });

    it('a header that promises more data than the file has', async () => {
      const img = patternImage([8, 8, 8]);
      const bytes = nifti.encode(nifti.buildHeader(img, 'int16'), img.data);
      writeFileSync(file('short.nii'), bytes.subarray(0, bytes.length - 100));
      await expectNiftiError(nifti.read(file('short.nii')), file('short.nii'), /promises 1024 bytes of voxel data .* but the file has 924/);
      writeFileSync(file('short.nii.gz'), zlib.gzipSync(bytes.subarray(0, 400)));
      await expectNiftiError(nifti.read(file('short.nii.gz')), file('short.nii.gz'), /promises/);
      writeFileSync(file('tiny.nii'), bytes.subarray(0, 100));
      await expectNiftiError(nifti.read(file('tiny.nii')), file('tiny.nii'), /truncated header/);
    });

    it('unsupported types, 4D images and missing files', async () => {
      const img = patternImage();
      const h = nifti.buildHeader(img, 'int16');
      h.datatype = 128;
      writeFileSync(file('rgb.nii'), nifti.encode(h, img.data));
      await expectNiftiError(nifti.read(file('rgb.nii')), file('rgb.nii'), /unsupported datatype rgb24/);
      const h4 = nifti.buildHeader(img, 'int16');
      h4.dim = [4, 4, 3, 1, 2, 1, 1, 1];
      writeFileSync(file('4d.nii'), nifti.encode(h4, img.data));
      await expectNiftiError(nifti.read(file('4d.nii')), file('4d.nii'), /4D image/);
      await expectNiftiError(nifti.read(file('nope.nii.gz')), file('nope.nii.gz'), /no such file/);
    });
  });
});
