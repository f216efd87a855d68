// Shared fixtures of the data tests: the real CT folder (optional), temp folders, small images.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NiftiImage } from '../../lib/data/nifti.js';

import { REPO_ROOT as REPO } from './paths.js';

export { REPO };
/** ../shared/data/real-ct relative to the repository root (SLICE_DISTILL_REAL_CT overrides it). */
export const REAL_CT = process.env.SLICE_DISTILL_REAL_CT
  ? path.resolve(process.env.SLICE_DISTILL_REAL_CT)
  : path.resolve(REPO, '..', 'shared', 'data', 'real-ct');
export const CASE_A = { ct: path.join(REAL_CT, 'caseA_ct_int16.nii.gz'), seg: path.join(REAL_CT, 'caseA_seg6.nii.gz') };
export const CASE_B = { ct: path.join(REAL_CT, 'caseB_ct_int16_256.nii.gz'), seg: path.join(REAL_CT, 'caseB_seg6_256.nii.gz') };

export const REAL_CT_MESSAGE = `real CT data not found at ${REAL_CT} (the tests that read it are skipped)`;
let told = false;

/** Skips the calling test (or hook) with a message when the real CT files are absent. */
export function requireRealCt(ctx: Mocha.Context): void {
  if (!existsSync(CASE_A.ct) || !existsSync(CASE_A.seg) || !existsSync(CASE_B.ct) || !existsSync(CASE_B.seg)) {
    if (!told) console.log(`      note: ${REAL_CT_MESSAGE}`);
    told = true;
    ctx.skip(); // reported as pending
  }
}

/** A fresh temp folder, removed by the returned function. */
export function tempDir(prefix = 'slice-distill-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small RAS image with a recognisable pattern: value = x + 10 y + 100 z. */
export function patternImage(shape: [number, number, number] = [4, 3, 2], spacing: [number, number, number] = [1.5, 2, 3]): NiftiImage {
  const [nx, ny, nz] = shape;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = i + 10 * j + 100 * k;
  return {
    data,
    shape,
    spacing,
    affine: [
      [spacing[0], 0, 0, -10],
      [0, spacing[1], 0, 20],
      [0, 0, spacing[2], -30],
      [0, 0, 0, 1],
    ],
  };
}
