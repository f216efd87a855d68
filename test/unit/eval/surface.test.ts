// HD95 and the normalised surface Dice against references written from their definitions: a
// brute-force one here (every pair of surface voxels) and scipy's distance transform in Python,
// on shapes whose answers are known by hand, with anisotropic spacing; and the conventions for
// empty masks.
import assert from 'node:assert/strict';
import { boundaryScores, percentile, squaredDistanceTransform, surfaceOf, SurfaceAccumulator, type Grid } from '../../../lib/eval/surface.js';
import { subjectBoundaryScores } from '../../../lib/eval/subject-boundary.js';
import { pythonJson, scientificPython } from '../../support/scientific-python.js';

/** A rectangle [x0, x1) x [y0, y1) in an nx x ny mask (x fastest). */
function rect(nx: number, ny: number, x0: number, x1: number, y0: number, y1: number): Uint8Array {
  const m = new Uint8Array(nx * ny);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * nx + x] = 1;
  return m;
}

function disc(nx: number, ny: number, cx: number, cy: number, r: number, spacing: [number, number]): Uint8Array {
  const m = new Uint8Array(nx * ny);
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (((x - cx) * spacing[0]) ** 2 + ((y - cy) * spacing[1]) ** 2 <= r * r) m[y * nx + x] = 1;
  return m;
}

/** From the definitions, by brute force: surface voxels, all pairwise distances, numpy-style percentile. */
function bruteForce(a: Uint8Array, b: Uint8Array, grid: Grid, tol: number): { hd95: number | null; nsd: number | null } {
  const [nx] = grid.shape as [number, number];
  const pts = (m: Uint8Array) =>
    [...surfaceOf(m, grid.shape)].flatMap((v, i) => (v ? [[(i % nx) * grid.spacing[0]!, Math.floor(i / nx) * grid.spacing[1]!]] : []));
  const pa = pts(a);
  const pb = pts(b);
  if (!pa.length && !pb.length) return { hd95: null, nsd: null };
  if (!pa.length || !pb.length) return { hd95: null, nsd: 0 };
  const directed = (from: number[][], to: number[][]) => Float64Array.from(from.map(([x, y]) => Math.min(...to.map(([u, v]) => Math.hypot(x! - u!, y! - v!)))));
  const ab = directed(pa, pb);
  const ba = directed(pb, pa);
  const within = [...ab, ...ba].filter((d) => d <= tol).length;
  return { hd95: Math.max(percentile(ab, 95), percentile(ba, 95)), nsd: within / (ab.length + ba.length) };
}

const SCIPY_REFERENCE = `
import json, sys
import numpy as np
from scipy import ndimage
cases = json.load(sys.stdin)
out = []
for c in cases:
    shape = c['shape'][::-1]          # numpy order: slowest axis first
    spacing = c['spacing'][::-1]
    a = np.array(c['a'], dtype=bool).reshape(shape)
    b = np.array(c['b'], dtype=bool).reshape(shape)
    conn = ndimage.generate_binary_structure(a.ndim, 1)
    sa = a ^ ndimage.binary_erosion(a, structure=conn, border_value=0)
    sb = b ^ ndimage.binary_erosion(b, structure=conn, border_value=0)
    if not sa.any() or not sb.any():
        out.append(None); continue
    dab = ndimage.distance_transform_edt(~sb, sampling=spacing)[sa]
    dba = ndimage.distance_transform_edt(~sa, sampling=spacing)[sb]
    hd95 = max(np.percentile(dab, 95), np.percentile(dba, 95))
    tol = c['tol']
    nsd = (np.sum(dab <= tol) + np.sum(dba <= tol)) / (len(dab) + len(dba))
    out.append({'hd95': float(hd95), 'nsd': float(nsd)})
print(json.dumps(out))
`;

describe('eval: HD95 and normalised surface Dice', () => {
  it('a square shifted by 3 pixels along x at 0.5 x 2 mm: HD95 1.5 mm, NSD 1 at 2 mm and below 1 at 1 mm', () => {
    const grid: Grid = { shape: [30, 20], spacing: [0.5, 2] };
    const a = rect(30, 20, 5, 15, 5, 15);
    const b = rect(30, 20, 8, 18, 5, 15);
    const at2 = boundaryScores(a, b, grid, 2);
    assert.equal(at2.hd95, 1.5);
    assert.equal(at2.nsd, 1);
    // at 1 mm: the far edges (10 voxels each way, 3 columns apart) miss; everything else is within
    const at1 = boundaryScores(a, b, grid, 1);
    const ref = bruteForce(a, b, grid, 1);
    assert.ok(at1.nsd! < 1);
    assert.ok(Math.abs(at1.nsd! - ref.nsd!) < 1e-12);
    // the same shift along y (2 mm rows) is 4 times as far
    assert.equal(boundaryScores(rect(30, 20, 5, 15, 5, 12), rect(30, 20, 5, 15, 8, 15), grid).hd95, 6);
  });

  it('agrees with the brute-force definition on discs, rectangles and an L shape', () => {
    const grid: Grid = { shape: [40, 32], spacing: [0.8, 1.7] };
    const l = rect(40, 32, 4, 10, 4, 28);
    rect(40, 32, 4, 30, 22, 28).forEach((v, i) => (l[i] ||= v));
    const pairs: [Uint8Array, Uint8Array][] = [
      [disc(40, 32, 20, 16, 9, [0.8, 1.7]), disc(40, 32, 23, 15, 11, [0.8, 1.7])],
      [rect(40, 32, 3, 20, 6, 12), rect(40, 32, 10, 36, 2, 25)],
      [l, rect(40, 32, 4, 30, 4, 28)],
    ];
    for (const [a, b] of pairs) {
      for (const tol of [0.5, 2, 5]) {
        const got = boundaryScores(a, b, grid, tol);
        const ref = bruteForce(a, b, grid, tol);
        assert.ok(Math.abs(got.hd95! - ref.hd95!) < 1e-9, `hd95 ${got.hd95} vs ${ref.hd95}`);
        assert.ok(Math.abs(got.nsd! - ref.nsd!) < 1e-12, `nsd ${got.nsd} vs ${ref.nsd}`);
      }
    }
  });

  it('the distance transform is exact in 3D with anisotropic spacing', () => {
    const shape = [9, 7, 5];
    const spacing = [0.7, 1.3, 3];
    const n = 9 * 7 * 5;
    const f = new Uint8Array(n);
    [3, 40, 77, 200, 301].forEach((i) => (f[i] = 1));
    const d = squaredDistanceTransform(f, { shape, spacing });
    const at = (i: number) => [i % 9, Math.floor(i / 9) % 7, Math.floor(i / 63)];
    for (let i = 0; i < n; i++) {
      const best = Math.min(...[3, 40, 77, 200, 301].map((j) => at(i).reduce((s, c, ax) => s + ((c - at(j)[ax]!) * spacing[ax]!) ** 2, 0)));
      assert.ok(Math.abs(d[i]! - best) < 1e-9);
    }
  });

  it('empty masks: both empty -> null / null; one empty -> HD95 missing (null), NSD 0', () => {
    const grid: Grid = { shape: [10, 10], spacing: [1, 1] };
    const empty = new Uint8Array(100);
    const some = rect(10, 10, 2, 5, 2, 5);
    assert.deepEqual(boundaryScores(empty, empty, grid), { hd95: null, nsd: null });
    assert.deepEqual(boundaryScores(some, empty, grid), { hd95: null, nsd: 0 });
    assert.deepEqual(boundaryScores(empty, some, grid), { hd95: null, nsd: 0 });
    // pooled: a slice with the prediction missing makes HD95 missing and its truth surface misses
    const acc = new SurfaceAccumulator(2).add(some, some, grid).add(empty, some, grid);
    const r = acc.result();
    assert.equal(r.hd95, null);
    assert.equal(r.nsd, (8 + 8) / (8 + 8 + 8));
  });

  it("per subject under 'present': slices whose truth lacks the organ are left out", () => {
    const grid: Grid = { shape: [10, 10], spacing: [1, 1] };
    const empty = new Uint8Array(100);
    const sq = rect(10, 10, 2, 5, 2, 5);
    const labels = (m: Uint8Array, k: number) => m.map((v) => v * k);
    const slices = [
      { subject: 's', prediction: labels(sq, 1), truth: labels(sq, 1), grid },
      { subject: 's', prediction: labels(sq, 1), truth: empty, grid }, // a false positive of class 1
    ];
    assert.deepEqual(subjectBoundaryScores(slices, [1], { policy: 'present' }), [{ subject: 's', hd95: [0], nsd: [1] }]);
    assert.deepEqual(subjectBoundaryScores(slices, [1], { policy: 'union' }), [{ subject: 's', hd95: [null], nsd: [16 / 24] }]);
  });

  it("matches scipy's distance transform (Python) on 2D and 3D shapes", async function () {
    const python = await scientificPython();
    if (!python) {
      console.log('    (skipped: no Python with numpy and scipy, and scipy could not be installed)');
      this.skip();
    }
    const cases = [
      { shape: [30, 20], spacing: [0.5, 2], a: rect(30, 20, 5, 15, 5, 15), b: rect(30, 20, 8, 18, 5, 15), tol: 1 },
      { shape: [40, 32], spacing: [0.8, 1.7], a: disc(40, 32, 20, 16, 9, [0.8, 1.7]), b: disc(40, 32, 23, 15, 11, [0.8, 1.7]), tol: 2 },
      { shape: [40, 32], spacing: [0.8, 1.7], a: rect(40, 32, 3, 20, 6, 12), b: rect(40, 32, 10, 36, 2, 25), tol: 2 },
    ];
    // a 3D pair: two boxes of a 12 x 10 x 6 grid at 0.7 x 0.9 x 3 mm
    const box = (x0: number, x1: number, y0: number, y1: number, z0: number, z1: number) => {
      const m = new Uint8Array(12 * 10 * 6);
      for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[(z * 10 + y) * 12 + x] = 1;
      return m;
    };
    const cases3d = [{ shape: [12, 10, 6], spacing: [0.7, 0.9, 3], a: box(2, 8, 2, 7, 1, 4), b: box(3, 10, 1, 7, 2, 6), tol: 2 }];
    const all = [...cases, ...cases3d];
    const ref = await pythonJson<({ hd95: number; nsd: number } | null)[]>(
      python!,
      SCIPY_REFERENCE,
      all.map((c) => ({ ...c, a: [...c.a], b: [...c.b] })),
    );
    all.forEach((c, i) => {
      const got = boundaryScores(c.a, c.b, { shape: c.shape, spacing: c.spacing }, c.tol);
      assert.ok(Math.abs(got.hd95! - ref[i]!.hd95) < 1e-9, `case ${i}: hd95 ${got.hd95} vs scipy ${ref[i]!.hd95}`);
      assert.ok(Math.abs(got.nsd! - ref[i]!.nsd) < 1e-12, `case ${i}: nsd ${got.nsd} vs scipy ${ref[i]!.nsd}`);
    });
  });
});
