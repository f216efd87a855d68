import assert from 'node:assert/strict';
import { Rng, hashSeed } from '../../../lib/data/random.js';
import * as T from '../../../lib/data/transforms.js';
import type { Sample } from '../../../lib/data/transforms.js';

function ramp(shape: number[], f: (idx: number[]) => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const idx: number[] = [];
    let r = i;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx.unshift(r % shape[a]);
      r = Math.floor(r / shape[a]);
    }
    out[i] = f(idx);
  }
  return out;
}

function sample2d(h = 8, w = 8): Sample {
  const label = new Uint8Array(h * w);
  for (let y = 2; y < 5; y++) for (let x = 3; x < 6; x++) label[y * w + x] = 4;
  return { image: ramp([h, w], ([y, x]) => y * 100 + x), label, shape: [h, w], spacing: [1, 1] };
}

describe('data: random and transforms', () => {
  describe('Rng', () => {
    it('is reproducible, seeds differ, values are uniform in [0, 1)', () => {
      const a = new Rng(42);
      const b = new Rng(42);
      const c = new Rng(43);
      const xa = Array.from({ length: 1000 }, () => a.float());
      assert.deepEqual(
        xa,
        Array.from({ length: 1000 }, () => b.float()),
      );
      assert.notDeepEqual(
        xa.slice(0, 10),
        Array.from({ length: 10 }, () => c.float()),
      );
      assert.ok(xa.every((v) => v >= 0 && v < 1));
      const mean = xa.reduce((s, v) => s + v, 0) / xa.length;
      assert.ok(Math.abs(mean - 0.5) < 0.04, `mean ${mean}`);
      // pinned first outputs: the stream must not change between versions (splits depend on it)
      const seven = new Rng(7);
      assert.deepEqual([seven.nextUint32(), seven.nextUint32(), seven.nextUint32()], [2580599716, 2919816346, 1384027020]);
    });

    it('int, normal, shuffle and derive behave', () => {
      const r = new Rng(1);
      const counts = new Array(5).fill(0);
      for (let i = 0; i < 5000; i++) counts[r.int(5)]++;
      assert.ok(
        counts.every((c) => c > 850 && c < 1150),
        `${counts}`,
      );
      const normals = Array.from({ length: 4000 }, () => r.normal());
      const m = normals.reduce((s, v) => s + v, 0) / normals.length;
      const sd = Math.sqrt(normals.reduce((s, v) => s + (v - m) ** 2, 0) / normals.length);
      assert.ok(Math.abs(m) < 0.06 && Math.abs(sd - 1) < 0.06, `mean ${m} sd ${sd}`);
      const items = Array.from({ length: 20 }, (_, i) => i);
      assert.deepEqual(
        [...r.shuffle([...items])].sort((x, y) => x - y),
        items,
      );
      assert.equal(new Rng(5).derive(1, 2).float(), new Rng(5).derive(1, 2).float());
      assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
      assert.throws(() => r.int(0), RangeError);
    });
  });

  describe('transforms', () => {
    it('window: [-175, 250] -> [0, 1], clipped', () => {
      const s: Sample = { image: new Float32Array([-1000, -175, 37.5, 250, 3000]), label: null, shape: [1, 5], spacing: [1, 1] };
      const out = T.applyTransforms([T.window()], s, new Rng(0));
      assert.deepEqual(Array.from(out.image), [0, 0, 0.5, 1, 1]);
    });

    it('resample: linear reproduces a linear ramp, nearest keeps label values, spacing follows', () => {
      const s: Sample = {
        image: ramp([4, 6, 8], ([z, y, x]) => 2 * x + 3 * y + 5 * z),
        label: new Uint8Array(4 * 6 * 8).fill(3),
        shape: [4, 6, 8],
        spacing: [4, 2, 1],
      };
      s.label![0] = 6;
      const out = T.applyTransforms([T.resample({ spacing: [2, 1, 2] })], s, new Rng(0));
      assert.deepEqual(out.shape, [8, 12, 4]);
      assert.deepEqual(out.spacing, [2, 1, 2]);
      assert.ok(new Set(out.label).size <= 2 && [...new Set(out.label)].every((v) => v === 3 || v === 6));
      // interior values follow the ramp at the resampled positions (align_corners = false)
      const at = (z: number, y: number, x: number): number => out.image[(z * 12 + y) * 4 + x];
      const src = (o: number, n: number, m: number): number => (o + 0.5) * (n / m) - 0.5;
      const expect = (z: number, y: number, x: number): number => 2 * src(x, 8, 4) + 3 * src(y, 6, 12) + 5 * src(z, 4, 8);
      for (const [z, y, x] of [
        [2, 3, 1],
        [5, 7, 2],
        [3, 10, 2],
      ])
        assert.ok(Math.abs(at(z, y, x) - expect(z, y, x)) < 1e-4, `${at(z, y, x)} vs ${expect(z, y, x)}`);
      const sized = T.applyTransforms([T.resample({ size: [2, 3, 4] })], s, new Rng(0));
      assert.deepEqual(sized.shape, [2, 3, 4]);
    });

    it('cropOrPad centres; randomCrop with pos = 1 always contains foreground', () => {
      const s = sample2d();
      const padded = T.applyTransforms([T.cropOrPad([10, 6], -1)], s, new Rng(0));
      assert.deepEqual(padded.shape, [10, 6]);
      assert.equal(padded.image[0], -1);
      assert.equal(padded.image[1 * 6 + 0], 1); // row 0 of the source, column 1
      const rng = new Rng(3);
      for (let i = 0; i < 30; i++) {
        const c = T.applyTransforms([T.randomCrop([3, 3], { pos: 1, neg: 0 })], s, rng);
        assert.deepEqual(c.shape, [3, 3]);
        assert.ok(
          c.label!.some((v) => v === 4),
          'foreground-centred',
        );
      }
      let background = 0;
      for (let i = 0; i < 30; i++) {
        const c = T.applyTransforms([T.randomCrop([1, 1], { pos: 0, neg: 1 })], s, rng);
        if (c.label![0] === 0) background++;
      }
      assert.equal(background, 30);
      // larger than the image: padded
      const big = T.applyTransforms([T.randomCrop([12, 12])], s, rng);
      assert.deepEqual(big.shape, [12, 12]);
    });

    it('rot90Flip and rotate keep image and label aligned; rotate by 90 equals a quarter turn', () => {
      const s = sample2d();
      const rng = new Rng(11);
      for (let i = 0; i < 12; i++) {
        const out = T.applyTransforms([T.rot90Flip()], s, rng);
        assert.deepEqual(
          [...out.image].sort((a, b) => a - b),
          [...s.image].sort((a, b) => a - b),
        );
        // the labelled pixels carry the same image values as before
        const before = s.image.filter((_, j) => s.label![j] === 4).sort();
        const after = out.image.filter((_, j) => out.label![j] === 4).sort();
        assert.deepEqual(Array.from(after), Array.from(before));
      }
      // rotate by 90 degrees on a square grid is an exact quarter turn: out[y][x] = in[w-1-x][y]
      const w = 8;
      const r90 = T.rotatePlanes(s.image, s.shape, s.spacing, 90, 'linear', 0);
      for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) assert.ok(Math.abs(r90[y * w + x] - s.image[(w - 1 - x) * w + y]) < 1e-3);
      const zero = T.applyTransforms([T.rotate([0, 1e-9])], s, new Rng(0));
      for (let i = 0; i < s.image.length; i++) assert.ok(Math.abs(zero.image[i] - s.image[i]) < 1e-3);
      const rotated = T.applyTransforms([T.rotate([-20, 20])], s, new Rng(5));
      assert.ok(rotated.label!.every((v) => v === 0 || v === 4));
    });

    it('intensity jitter scales, shifts and clips; the same seed gives the same sample', () => {
      const s: Sample = { image: new Float32Array([0, 0.5, 1]), label: null, shape: [1, 3], spacing: [1, 1] };
      const spec = T.intensity({ scale: [2, 2], shift: [0.1, 0.1] });
      assert.deepEqual(
        Array.from(T.applyTransforms([spec], s, new Rng(0)).image).map((v) => +v.toFixed(5)),
        [0.1, 1, 1],
      );
      const pipeline = T.student2d(16);
      const big = sample2d(20, 24);
      const a = T.applyTransforms(pipeline, big, new Rng(9));
      const b = T.applyTransforms(pipeline, big, new Rng(9));
      assert.deepEqual(a.shape, [16, 16]);
      assert.deepEqual(Array.from(a.image), Array.from(b.image));
      assert.deepEqual(Array.from(a.label!), Array.from(b.label!));
    });

    it('oneOf, maybe and spec checking', () => {
      assert.throws(() => T.checkTransforms([{ type: 'blur' } as never]), /transforms\[0\]: unknown transform "blur"/);
      assert.throws(() => T.checkTransforms([T.oneOf([])]), /non-empty list/);
      assert.throws(() => T.checkTransforms([{ type: 'cropOrPad', size: [0, 2] }]), /size/);
      const s = sample2d();
      const never = T.applyTransforms([T.maybe(0, T.window(0, 1))], s, new Rng(0));
      assert.equal(never, s);
      const picks = new Set<number>();
      const rng = new Rng(2);
      for (let i = 0; i < 20; i++) picks.add(T.applyTransforms([T.oneOf([T.window(0, 1000), T.window(0, 2000)])], s, rng).image[1]);
      assert.equal(picks.size, 2);
    });
  });
});
