// One entry point for reading CT images whatever their format: NIfTI files, or DICOM (a
// single-slice file or a series folder). Callers get a NiftiImage either way.
import { isDicomPath, readDicomSync } from './dicom.js';
import * as nifti from './nifti.js';

const NIFTI = /\.nii(\.gz)?$/i;

export interface ImageReadOptions {
  orientation?: 'RAS' | 'native';
  headerOnly?: boolean;
}

/** True when the path is read as DICOM (a .dcm file, a file with the DICM prefix, a folder of them). */
export function isDicom(p: string): boolean {
  return !NIFTI.test(p) && isDicomPath(p);
}

/** Reads a NIfTI file or DICOM file / series folder, synchronously (workers, scripts). */
export function readImageSync(p: string, options: ImageReadOptions = {}): nifti.NiftiImage {
  return isDicom(p) ? readDicomSync(p, options) : nifti.readSync(p, options);
}

/** readImageSync, with NIfTI decompressed off the JS thread. */
export async function readImage(p: string, options: ImageReadOptions = {}): Promise<nifti.NiftiImage> {
  return isDicom(p) ? readDicomSync(p, options) : nifti.read(p, options);
}

/** A name for outputs derived from an image path: without .nii / .nii.gz / .dcm. */
export function imageStem(p: string): string {
  const base =
    p
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? p;
  return base.replace(/\.nii(\.gz)?$/i, '').replace(/\.(dcm|dicom|ima)$/i, '');
}
