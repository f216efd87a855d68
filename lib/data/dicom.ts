// DICOM CT in: single-slice files and series folders, parsed by dicom-parser (a maintained,
// dependency-free parser; pixel decoding of compressed syntaxes is left out on purpose).
// The result has the shape of a NiftiImage (voxels x fastest, RAS+ world affine), so every
// reader of NIfTI images takes DICOM without knowing it.
//
// Geometry: DICOM patient coordinates are LPS. Column index i runs along the row direction
// (ImageOrientationPatient[0..2]) in steps of PixelSpacing[1], row index j along the column
// direction (IOP[3..5]) in steps of PixelSpacing[0]; the slices of a series are sorted by
// their ImagePositionPatient along the normal. Negating the first two rows gives RAS.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { DicomError } from './errors.js';
import type { Affine } from './geometry.js';
import { applyScaling, reorient, type NiftiImage, type VoxelArray } from './nifti.js';

/** Transfer syntaxes whose pixel data this reader copies as they are. */
const UNCOMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
};

/** Names of compressed syntaxes, for the error that refuses them. */
const COMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const DICOM_EXT = /\.(dcm|dicom|ima)$/i;

/** True for a path that names DICOM: a .dcm / .dicom / .ima file, a file with the 'DICM' prefix, or a folder of such files. */
export function isDicomPath(p: string): boolean {
  let st;
  try {
    st = statSync(p);
  } catch {
    return DICOM_EXT.test(p);
  }
  if (st.isDirectory()) return dicomFilesIn(p).length > 0;
  return DICOM_EXT.test(p) || hasPrefix(p);
}

function hasPrefix(file: string): boolean {
  try {
    const buf = readFileSync(file);
    return buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM';
  } catch {
    return false;
  }
}

/** The DICOM files directly inside a folder (by extension or prefix), sorted by name. */
export function dicomFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile() && (DICOM_EXT.test(f) || hasPrefix(f)))
    .sort();
}

/** One parsed file: its attributes, and how to get its stored values when needed. */
interface DicomSlice {
  file: string;
  seriesUid: string;
  rows: number;
  cols: number;
  /** [row spacing, column spacing] mm, as PixelSpacing stores them. */
  pixelSpacing: [number, number];
  orientation: number[];
  position: number[] | null;
  thickness: number;
  slope: number;
  intercept: number;
  pixels: () => VoxelArray;
}

function parse(file: string, headerOnly: boolean): DataSet {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DicomError(code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`, file, { cause: e });
  }
  const inflater = (buf: Uint8Array, position: number): Uint8Array => {
    const inflated = zlib.inflateRawSync(buf.subarray(position));
    const out = new Uint8Array(position + inflated.length);
    out.set(buf.subarray(0, position));
    out.set(inflated, position);
    return out;
  };
  const options = { untilTag: headerOnly ? 'x7fe00010' : undefined, inflater } as dicomParser.ParseDicomOptions;
  try {
    return dicomParser.parseDicom(bytes, options);
  } catch (e) {
    const msg = typeof e === 'string' ? e : e instanceof Error ? e.message : String((e as { exception?: string }).exception ?? e);
    // files without the 128-byte preamble and meta header: the default syntax (implicit VR LE)
    if (/DICM prefix not found/i.test(msg)) {
      try {
        return dicomParser.parseDicom(bytes, { ...options, TransferSyntaxUID: '1.2.840.10008.1.2' } as dicomParser.ParseDicomOptions);
      } catch {
        throw new DicomError('not a DICOM file (no DICM prefix, and not a raw implicit-VR data set)', file);
      }
    }
    throw new DicomError(`cannot parse: ${msg}`, file, { cause: e });
  }
}

function numbers(ds: DataSet, tag: string): number[] | null {
  const s = ds.string(tag);
  if (s === undefined || s.trim() === '') return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.every(Number.isFinite) ? v : null;
}

function readSlice(file: string, headerOnly: boolean): DicomSlice {
  const ds = parse(file, headerOnly);
  const syntax = (ds.string('x00020010') ?? '1.2.840.10008.1.2').replace(/\0/g, '').trim();
  if (!(syntax in UNCOMPRESSED)) {
    const name = COMPRESSED[syntax] ?? 'an unknown transfer syntax';
    throw new DicomError(`transfer syntax ${syntax} (${name}) is compressed and not supported; decompress it first, e.g. 'gdcmconv --raw' or 'dcmdjpeg'`, file);
  }
  const frames = Number(ds.string('x00280008') ?? 1);
  if (frames > 1) throw new DicomError(`a multi-frame image (${frames} frames, e.g. Enhanced CT); export the series as one file per slice`, file);
  const samples = ds.uint16('x00280002') ?? 1;
  if (samples !== 1) throw new DicomError(`${samples} samples per pixel (colour); CT must be greyscale`, file);
  const rows = ds.uint16('x00280010');
  const cols = ds.uint16('x00280011');
  if (!rows || !cols) throw new DicomError('no Rows / Columns: not an image', file);
  const bits = ds.uint16('x00280100') ?? 16;
  const stored = ds.uint16('x00280101') ?? bits;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const spacing = numbers(ds, 'x00280030') ?? numbers(ds, 'x00181164'); // PixelSpacing, else ImagerPixelSpacing
  if (!spacing || spacing.length !== 2 || !(spacing[0] > 0 && spacing[1] > 0))
    throw new DicomError('no valid PixelSpacing (0028,0030): the pixel size in mm is needed', file);
  const orientation = numbers(ds, 'x00200037');
  if (!orientation || orientation.length !== 6) throw new DicomError('no ImageOrientationPatient (0020,0037): the slice plane is unknown', file);
  const position = numbers(ds, 'x00200032');
  const slope = numbers(ds, 'x00281053')?.[0] ?? 1;
  const intercept = numbers(ds, 'x00281052')?.[0] ?? 0;
  const thickness = numbers(ds, 'x00180088')?.[0] ?? numbers(ds, 'x00180050')?.[0] ?? 1;
  const pixels = (): VoxelArray => {
    const el = ds.elements.x7fe00010;
    if (!el) throw new DicomError('no Pixel Data (7FE0,0010)', file);
    if (el.encapsulatedPixelData) throw new DicomError('encapsulated (compressed) pixel data in an uncompressed transfer syntax', file);
    const n = rows * cols;
    const bytes = bits / 8;
    if (![1, 2, 4].includes(bytes)) throw new DicomError(`BitsAllocated ${bits} is not supported (8, 16 or 32)`, file);
    if (el.length < n * bytes) throw new DicomError(`pixel data holds ${el.length} bytes, ${rows} x ${cols} x ${bits} bits need ${n * bytes}`, file);
    const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, n * bytes);
    const le = syntax !== '1.2.840.10008.1.2.2';
    const out =
      bytes === 1
        ? signed
          ? new Int8Array(n)
          : new Uint8Array(n)
        : bytes === 2
          ? signed
            ? new Int16Array(n)
            : new Uint16Array(n)
          : signed
            ? new Int32Array(n)
            : new Uint32Array(n);
    const shift = 32 - stored;
    for (let i = 0; i < n; i++) {
      let v = bytes === 1 ? view.getUint8(i) : bytes === 2 ? view.getUint16(i * 2, le) : view.getUint32(i * 4, le);
      // signed values narrower than their container: sign-extend from BitsStored
      if (signed && stored < bits) v = (v << shift) >> shift;
      out[i] = v;
    }
    return out;
  };
  return {
    file,
    seriesUid: (ds.string('x0020000e') ?? '').trim(),
    rows,
    cols,
    pixelSpacing: [spacing[0], spacing[1]],
    orientation,
    position,
    thickness,
    slope,
    intercept,
    pixels,
  };
}

const cross = (a: number[], b: number[]): number[] => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** RAS affine from LPS columns (i, j, k steps) and the first voxel's LPS position. */
function rasAffine(ci: number[], cj: number[], ck: number[], origin: number[]): Affine {
  const flip = [-1, -1, 1];
  return [0, 1, 2].map((r) => [ci[r] * flip[r], cj[r] * flip[r], ck[r] * flip[r], origin[r] * flip[r]]).concat([[0, 0, 0, 1]]);
}

export interface DicomReadOptions {
  /** 'RAS' (default, as nifti.read) or 'native' (the stored pixel order, slices sorted along the normal). */
  orientation?: 'RAS' | 'native';
  /** Header and geometry only (data is empty). */
  headerOnly?: boolean;
}

/**
 * Reads a DICOM CT image: one file (a single slice) or a folder holding one series. Values
 * are Hounsfield units (RescaleSlope / RescaleIntercept applied, per slice); the affine maps
 * voxels to RAS+ mm. Throws DicomError naming the file.
 */
export function readDicomSync(location: string, options: DicomReadOptions = {}): NiftiImage {
  const headerOnly = options.headerOnly ?? false;
  let slices: DicomSlice[];
  let isDir = false;
  try {
    isDir = statSync(location).isDirectory();
  } catch {
    /* readSlice reports the missing file */
  }
  if (isDir) {
    const files = dicomFilesIn(location);
    if (files.length === 0) throw new DicomError('no DICOM files in this folder', location);
    slices = files.map((f) => readSlice(f, headerOnly));
    const uids = [...new Set(slices.map((s) => s.seriesUid))];
    if (uids.length > 1)
      throw new DicomError(
        `${uids.length} series in one folder (SeriesInstanceUID ${uids.slice(0, 3).join(', ')}${uids.length > 3 ? ', ...' : ''}); give one folder per series`,
        location,
      );
  } else {
    slices = [readSlice(location, headerOnly)];
  }
  const first = slices[0]!;
  for (const s of slices) {
    if (s.rows !== first.rows || s.cols !== first.cols)
      throw new DicomError(`size ${s.cols} x ${s.rows} differs from ${path.basename(first.file)}'s ${first.cols} x ${first.rows}`, s.file);
    if (s.orientation.some((v, i) => Math.abs(v - first.orientation[i]!) > 1e-4))
      throw new DicomError(`ImageOrientationPatient differs from ${path.basename(first.file)}'s`, s.file);
    if (s.pixelSpacing.some((v, i) => Math.abs(v - first.pixelSpacing[i]!) > 1e-4))
      throw new DicomError(`PixelSpacing differs from ${path.basename(first.file)}'s`, s.file);
  }
  const rowDir = first.orientation.slice(0, 3);
  const colDir = first.orientation.slice(3, 6);
  const normal = cross(rowDir, colDir);
  const ci = rowDir.map((v) => v * first.pixelSpacing[1]);
  const cj = colDir.map((v) => v * first.pixelSpacing[0]);
  let ck: number[];
  if (slices.length === 1) {
    ck = normal.map((v) => v * first.thickness);
  } else {
    const missing = slices.find((s) => !s.position);
    if (missing) throw new DicomError('no ImagePositionPatient (0020,0032): cannot place the slice in the series', missing.file);
    slices.sort((a, b) => dot(a.position!, normal) - dot(b.position!, normal));
    const along = slices.map((s) => dot(s.position!, normal));
    const steps = along.slice(1).map((v, i) => v - along[i]!);
    const step = (along.at(-1)! - along[0]!) / (slices.length - 1);
    steps.forEach((d, i) => {
      if (Math.abs(d) < 1e-3) throw new DicomError(`same position as ${path.basename(slices[i]!.file)} (a duplicate slice?)`, slices[i + 1]!.file);
      if (Math.abs(d - step) > 0.01 * Math.abs(step) + 1e-3) {
        throw new DicomError(
          `slices are not evenly spaced: ${d.toFixed(3)} mm from ${path.basename(slices[i]!.file)}, ${step.toFixed(3)} mm on average (a missing slice?)`,
          slices[i + 1]!.file,
        );
      }
    });
    ck = [0, 1, 2].map((r) => (slices.at(-1)!.position![r]! - slices[0]!.position![r]!) / (slices.length - 1));
  }
  const origin = slices[0]!.position ?? [0, 0, 0];
  const affine = rasAffine(ci, cj, ck, origin);
  const spacing: [number, number, number] = [first.pixelSpacing[1], first.pixelSpacing[0], Math.hypot(ck[0]!, ck[1]!, ck[2]!)];
  const shape: [number, number, number] = [first.cols, first.rows, slices.length];
  let data: VoxelArray;
  if (headerOnly) {
    data = new Float32Array(0);
  } else {
    const plane = first.rows * first.cols;
    const scaled = slices.map((s) => applyScaling(s.pixels(), s.slope, s.intercept));
    const Ctor = scaled.every((a) => a.constructor === scaled[0]!.constructor) ? (scaled[0]!.constructor as new (n: number) => VoxelArray) : Float32Array;
    data = new Ctor(plane * slices.length);
    scaled.forEach((a, k) => data.set(a, k * plane));
  }
  const image: NiftiImage = { data, shape, spacing, affine };
  return (options.orientation ?? 'RAS') === 'RAS' ? reorient(image, 'RAS') : image;
}
