// Voxel-to-world geometry: 4 x 4 affines (rows, world = A * [i, j, k, 1]), orientation codes
// such as 'RAS' or 'LPS', axis permutations and flips of voxel data, and the quaternion form
// NIfTI's qform uses. World coordinates follow NIfTI (RAS+, millimetres): +x toward the
// patient's right, +y anterior, +z superior.

/** A 4 x 4 matrix as rows. */
export type Affine = number[][];

/** Three letters, one per voxel axis, each naming the world direction that axis increases toward. */
export type OrientationCode = string;

export function identityAffine(): Affine {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

export function cloneAffine(a: Affine): Affine {
  return a.map((row) => [...row]);
}

export function matMul4(a: Affine, b: Affine): Affine {
  const out: Affine = [[], [], [], []];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[i][k] * b[k][j];
      out[i][j] = s;
    }
  }
  return out;
}

export function det3(m: Affine): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Inverse of an affine (last row 0 0 0 1). */
export function invertAffine(a: Affine): Affine {
  const d = det3(a);
  if (!Number.isFinite(d) || Math.abs(d) < 1e-12) throw new RangeError('affine: the 3 x 3 part is singular');
  const m = a;
  const inv: number[][] = [
    [(m[1][1] * m[2][2] - m[1][2] * m[2][1]) / d, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / d, (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / d],
    [(m[1][2] * m[2][0] - m[1][0] * m[2][2]) / d, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / d, (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / d],
    [(m[1][0] * m[2][1] - m[1][1] * m[2][0]) / d, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / d, (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / d],
  ];
  const t = [0, 1, 2].map((i) => -(inv[i][0] * m[0][3] + inv[i][1] * m[1][3] + inv[i][2] * m[2][3]));
  return [
    [...inv[0], t[0]],
    [...inv[1], t[1]],
    [...inv[2], t[2]],
    [0, 0, 0, 1],
  ];
}

/** World position of a voxel index. */
export function applyAffine(a: Affine, ijk: readonly number[]): [number, number, number] {
  const [i, j, k] = ijk;
  return [0, 1, 2].map((r) => a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3]) as [number, number, number];
}

/** Lengths of the three voxel axes in world units (the voxel spacing the affine implies). */
export function affineSpacing(a: Affine): [number, number, number] {
  return [0, 1, 2].map((c) => Math.hypot(a[0][c], a[1][c], a[2][c])) as [number, number, number];
}

/** True when two affines agree within `tol` (mm for the offsets, relative for the rest). */
export function affinesClose(a: Affine, b: Affine, tol = 1e-3): boolean {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 4; j++) {
      const scale = j === 3 ? 1 : Math.max(1, Math.abs(a[i][j]), Math.abs(b[i][j]));
      if (!(Math.abs(a[i][j] - b[i][j]) <= tol * scale)) return false;
    }
  }
  return true;
}

const POSITIVE = ['R', 'A', 'S'];
const NEGATIVE = ['L', 'P', 'I'];

/**
 * For each voxel axis, the world axis (0 x, 1 y, 2 z) it runs closest to and the sign. Axes
 * are matched greedily by the largest remaining |component|, so the result is a permutation
 * even for oblique scans.
 */
export function axisDirections(a: Affine): { axis: number; sign: 1 | -1 }[] {
  const result: { axis: number; sign: 1 | -1 }[] = new Array(3);
  const usedWorld = new Set<number>();
  const usedVoxel = new Set<number>();
  for (let step = 0; step < 3; step++) {
    let best = -1;
    let bw = -1;
    let bv = -1;
    for (let v = 0; v < 3; v++) {
      if (usedVoxel.has(v)) continue;
      const norm = Math.hypot(a[0][v], a[1][v], a[2][v]) || 1;
      for (let w = 0; w < 3; w++) {
        if (usedWorld.has(w)) continue;
        const c = Math.abs(a[w][v]) / norm;
        if (c > best) {
          best = c;
          bw = w;
          bv = v;
        }
      }
    }
    // NaN entries compare false everywhere: nothing was chosen, and a[-1] would be a raw TypeError
    if (bw < 0 || bv < 0) throw new RangeError(`affine: no orientation can be read from ${JSON.stringify(a.slice(0, 3))} (non-finite or all-zero columns)`);
    usedWorld.add(bw);
    usedVoxel.add(bv);
    result[bv] = { axis: bw, sign: a[bw][bv] < 0 ? -1 : 1 };
  }
  return result;
}

/** The orientation code of an affine, e.g. 'RAS' or 'LPS'. */
export function orientationOf(a: Affine): OrientationCode {
  return axisDirections(a)
    .map(({ axis, sign }) => (sign > 0 ? POSITIVE[axis] : NEGATIVE[axis]))
    .join('');
}

function parseCode(code: OrientationCode): { axis: number; sign: 1 | -1 }[] {
  const letters = code.toUpperCase().split('');
  const parsed = letters.map((ch) => {
    const p = POSITIVE.indexOf(ch);
    if (p >= 0) return { axis: p, sign: 1 as const };
    const n = NEGATIVE.indexOf(ch);
    if (n >= 0) return { axis: n, sign: -1 as const };
    return null;
  });
  if (letters.length !== 3 || parsed.some((p) => p === null) || new Set(parsed.map((p) => p!.axis)).size !== 3) {
    throw new RangeError(`orientation: expected three letters naming each world axis once (like 'RAS' or 'LPS'), got '${code}'`);
  }
  return parsed as { axis: number; sign: 1 | -1 }[];
}

/**
 * How to turn voxel data with affine `a` into the target orientation: `perm[n]` is the old
 * axis that becomes new axis n, `flip[n]` whether it is reversed.
 */
export function reorientPlan(a: Affine, target: OrientationCode): { perm: number[]; flip: boolean[] } {
  const have = axisDirections(a);
  const want = parseCode(target);
  const perm: number[] = [];
  const flip: boolean[] = [];
  for (let n = 0; n < 3; n++) {
    const old = have.findIndex((h) => h.axis === want[n].axis);
    perm.push(old);
    flip.push(have[old].sign !== want[n].sign);
  }
  return { perm, flip };
}

/** The affine after permuting / flipping voxel axes as in reorientPlan; oldShape is before. */
export function reorientAffine(a: Affine, oldShape: readonly number[], perm: readonly number[], flip: readonly boolean[]): Affine {
  // new index n maps to old index: old[perm[n]] = flip[n] ? shape-1 - new[n] : new[n]
  const t: Affine = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  for (let n = 0; n < 3; n++) {
    const o = perm[n];
    if (flip[n]) {
      t[o][n] = -1;
      t[o][3] = oldShape[o] - 1;
    } else {
      t[o][n] = 1;
    }
  }
  return matMul4(a, t);
}

/**
 * Permutes / flips a 3-axis array stored with the first axis fastest (NIfTI order).
 * Works for any typed array; returns a new array of the same type.
 */
export function permuteFlip<T extends ArrayLike<number> & { constructor: unknown }>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
  flip: readonly boolean[],
): { data: T; shape: [number, number, number] } {
  const newShape = perm.map((p) => shape[p]) as [number, number, number];
  const oldStride = [1, shape[0], shape[0] * shape[1]];
  if (perm[0] === 0 && perm[1] === 1 && perm[2] === 2 && !flip[0] && !flip[1] && !flip[2]) {
    return { data: (data as unknown as { slice(): T }).slice(), shape: newShape };
  }
  const Ctor = (data as unknown as { constructor: new (n: number) => T }).constructor;
  const out = new Ctor(data.length) as T & { [i: number]: number };
  // stride in the old array for a step along each new axis, and where each new axis starts
  const step = [0, 1, 2].map((n) => (flip[n] ? -1 : 1) * oldStride[perm[n]]);
  let start = 0;
  for (let n = 0; n < 3; n++) if (flip[n]) start += (newShape[n] - 1) * oldStride[perm[n]];
  const [nx, ny, nz] = newShape;
  const src = data as unknown as { [i: number]: number };
  let o = 0;
  for (let k = 0; k < nz; k++) {
    const baseK = start + k * step[2];
    for (let j = 0; j < ny; j++) {
      let idx = baseK + j * step[1];
      for (let i = 0; i < nx; i++) {
        out[o++] = src[idx];
        idx += step[0];
      }
    }
  }
  return { data: out, shape: newShape };
}

/** A quaternion (b, c, d), the qfac sign and the voxel sizes that a NIfTI qform stores. */
export interface QuaternionForm {
  b: number;
  c: number;
  d: number;
  qfac: 1 | -1;
  pixdim: [number, number, number];
  offset: [number, number, number];
}

/** The qform affine from NIfTI's quaternion parameters (the standard's method 2). */
export function quaternionToAffine(q: QuaternionForm): Affine {
  let { b, c, d } = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // 180 degree rotation: renormalise (b, c, d) and take a = 0
    const n = Math.hypot(b, c, d) || 1;
    b /= n;
    c /= n;
    d /= n;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const [dx, dy, dz0] = q.pixdim.map((v) => (v > 0 ? v : 1));
  const dz = dz0 * q.qfac;
  return [
    [r[0][0] * dx, r[0][1] * dy, r[0][2] * dz, q.offset[0]],
    [r[1][0] * dx, r[1][1] * dy, r[1][2] * dz, q.offset[1]],
    [r[2][0] * dx, r[2][1] * dy, r[2][2] * dz, q.offset[2]],
    [0, 0, 0, 1],
  ];
}

/**
 * The qform parameters closest to an affine: column lengths become pixdim, a negative
 * determinant becomes qfac = -1, and the remaining rotation (made orthonormal) a quaternion.
 */
export function affineToQuaternion(aff: Affine): QuaternionForm {
  const pixdim = affineSpacing(aff).map((v) => (v > 0 ? v : 1)) as [number, number, number];
  let cols = [0, 1, 2].map((c) => [aff[0][c] / pixdim[c], aff[1][c] / pixdim[c], aff[2][c] / pixdim[c]]);
  let qfac: 1 | -1 = 1;
  if (det3(aff) < 0) {
    qfac = -1;
    cols[2] = cols[2].map((v) => -v);
  }
  cols = orthonormalise(cols);
  // r[row][col] = cols[col][row]
  const r = (i: number, j: number): number => cols[j][i];
  const trace = r(0, 0) + r(1, 1) + r(2, 2);
  let a: number;
  let b: number;
  let c: number;
  let d: number;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    a = 0.25 / s;
    b = (r(2, 1) - r(1, 2)) * s;
    c = (r(0, 2) - r(2, 0)) * s;
    d = (r(1, 0) - r(0, 1)) * s;
  } else if (r(0, 0) > r(1, 1) && r(0, 0) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(0, 0) - r(1, 1) - r(2, 2));
    a = (r(2, 1) - r(1, 2)) / s;
    b = 0.25 * s;
    c = (r(0, 1) + r(1, 0)) / s;
    d = (r(0, 2) + r(2, 0)) / s;
  } else if (r(1, 1) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(1, 1) - r(0, 0) - r(2, 2));
    a = (r(0, 2) - r(2, 0)) / s;
    b = (r(0, 1) + r(1, 0)) / s;
    c = 0.25 * s;
    d = (r(1, 2) + r(2, 1)) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r(2, 2) - r(0, 0) - r(1, 1));
    a = (r(1, 0) - r(0, 1)) / s;
    b = (r(0, 2) + r(2, 0)) / s;
    c = (r(1, 2) + r(2, 1)) / s;
    d = 0.25 * s;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { b, c, d, qfac, pixdim, offset: [aff[0][3], aff[1][3], aff[2][3]] };
}

function orthonormalise(cols: number[][]): number[][] {
  // Gram-Schmidt in the order x, y, z, then the third made the cross product (keeps det +1)
  const norm = (v: number[]): number[] => {
    const n = Math.hypot(v[0], v[1], v[2]) || 1;
    return v.map((x) => x / n);
  };
  const dot = (u: number[], v: number[]): number => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  const e0 = norm(cols[0]);
  const p1 = dot(cols[1], e0);
  const e1 = norm(cols[1].map((v, i) => v - p1 * e0[i]));
  const e2 = [e0[1] * e1[2] - e0[2] * e1[1], e0[2] * e1[0] - e0[0] * e1[2], e0[0] * e1[1] - e0[1] * e1[0]];
  return [e0, e1, e2];
}
