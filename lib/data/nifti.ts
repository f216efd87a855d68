// NIfTI-1 and NIfTI-2 reading and writing (.nii, .nii.gz), in plain TypeScript.
//
// Our own codec rather than an npm reader: the writer needs the exact byte layouts anyway,
// and reading needs things the usual readers leave out (typed errors naming the file for
// truncated or foreign files, scaling rules, sform / qform choice by code, reorientation to
// RAS, int64 voxel types, big-endian files). Both layouts are described by one field table
// per version below, used by the parser and the writer alike.
//
// Data layout: voxel values in a TypedArray with x fastest (NIfTI's own order), shape
// [X, Y, Z]. A 2D file reads as shape [X, Y, 1].
import buffer from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { NiftiError } from './errors.js';
import {
  affineSpacing,
  affineToQuaternion,
  orientationOf,
  permuteFlip,
  quaternionToAffine,
  reorientAffine,
  reorientPlan,
  type Affine,
  type OrientationCode,
} from './geometry.js';

const gunzipAsync = promisify(zlib.gunzip);
const gzipAsync = promisify(zlib.gzip);

/** Voxel arrays the reader returns and the writer accepts. */
export type VoxelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** NIfTI datatype codes this module reads and writes. */
export const NIFTI_TYPES = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
  int64: 1024,
  uint64: 1280,
} as const;
export type NiftiTypeName = keyof typeof NIFTI_TYPES;

const TYPE_INFO: Record<number, { name: NiftiTypeName; bytes: number }> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
  1024: { name: 'int64', bytes: 8 },
  1280: { name: 'uint64', bytes: 8 },
};

const UNSUPPORTED_TYPES: Record<number, string> = {
  0: 'unknown (0)',
  1: 'binary (1 bit per voxel)',
  32: 'complex64',
  128: 'rgb24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

/** Everything in a NIfTI header, versions 1 and 2 alike (NIfTI-1's unused Analyze fields left out). */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[0] = number of dimensions, dim[1..7] their sizes. */
  dim: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0] = qfac, pixdim[1..7] voxel sizes. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  intentCode: number;
  intentName: string;
  intentP: [number, number, number];
  calMin: number;
  calMax: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  sliceDuration: number;
  toffset: number;
  dimInfo: number;
  /** Units: bits 0..2 space (1 m, 2 mm, 3 um), bits 3..5 time. */
  xyztUnits: number;
  descrip: string;
  auxFile: string;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
  /** Header extensions, kept as raw blocks (code and payload) and written back as they were. */
  extensions: { code: number; data: Uint8Array }[];
}

/** A voxel image in memory. */
export interface NiftiImage {
  /** Voxel values, x fastest. */
  data: VoxelArray;
  /** [X, Y, Z] (a 2D image has Z = 1). */
  shape: [number, number, number];
  /** Voxel size in mm along each axis of `shape`. */
  spacing: [number, number, number];
  /** Voxel index (i, j, k) to world RAS+ mm. */
  affine: Affine;
  /** The header it was read with (geometry fields as in the file, before any reorientation). */
  header?: NiftiHeader;
}

export interface ReadOptions {
  /** 'RAS' (default): voxel axes reordered to run toward Right, Anterior, Superior; 'native': as stored. */
  orientation?: 'RAS' | 'native';
  /** Apply scl_slope / scl_inter (default true). Integer data with a non-trivial scaling becomes Float32Array. */
  scale?: boolean;
  /** Which voxel-to-world matrix: 'auto' (sform when sform_code > 0, else qform when qform_code > 0, else pixdim), or force one. */
  affine?: 'auto' | 'sform' | 'qform';
  /** Read only the header and geometry (data is an empty array; the file's length is still checked). */
  headerOnly?: boolean;
}

export interface WriteOptions {
  /** Voxel type to store; default: the type of `data`. Float values are rounded and clamped for integer types. */
  datatype?: NiftiTypeName;
  /** 1 or 2; default: the version of image.header, else 1 (2 when a dimension exceeds 32767). */
  version?: 1 | 2;
  /** gzip level 0..9 for .nii.gz (default 6). */
  level?: number;
  /** Header description (80 characters at most). */
  descrip?: string;
  /** 2 writes a one-slice image as a 2D NIfTI (dim[0] = 2); default: as image.header, else 3. */
  ndim?: 2 | 3;
}

// ---------------------------------------------------------------------------------------------
// Header layouts

type FieldKind = 'i8' | 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'str';
interface Field {
  name: string;
  offset: number;
  kind: FieldKind;
  count?: number; // array length, or string length for 'str'
}

const N1_SIZE = 348;
const N2_SIZE = 540;

const N1_FIELDS: Field[] = [
  { name: 'sizeof_hdr', offset: 0, kind: 'i32' },
  { name: 'dim_info', offset: 39, kind: 'u8' },
  { name: 'dim', offset: 40, kind: 'i16', count: 8 },
  { name: 'intent_p', offset: 56, kind: 'f32', count: 3 },
  { name: 'intent_code', offset: 68, kind: 'i16' },
  { name: 'datatype', offset: 70, kind: 'i16' },
  { name: 'bitpix', offset: 72, kind: 'i16' },
  { name: 'slice_start', offset: 74, kind: 'i16' },
  { name: 'pixdim', offset: 76, kind: 'f32', count: 8 },
  { name: 'vox_offset', offset: 108, kind: 'f32' },
  { name: 'scl_slope', offset: 112, kind: 'f32' },
  { name: 'scl_inter', offset: 116, kind: 'f32' },
  { name: 'slice_end', offset: 120, kind: 'i16' },
  { name: 'slice_code', offset: 122, kind: 'u8' },
  { name: 'xyzt_units', offset: 123, kind: 'u8' },
  { name: 'cal_max', offset: 124, kind: 'f32' },
  { name: 'cal_min', offset: 128, kind: 'f32' },
  { name: 'slice_duration', offset: 132, kind: 'f32' },
  { name: 'toffset', offset: 136, kind: 'f32' },
  { name: 'descrip', offset: 148, kind: 'str', count: 80 },
  { name: 'aux_file', offset: 228, kind: 'str', count: 24 },
  { name: 'qform_code', offset: 252, kind: 'i16' },
  { name: 'sform_code', offset: 254, kind: 'i16' },
  { name: 'quatern', offset: 256, kind: 'f32', count: 3 },
  { name: 'qoffset', offset: 268, kind: 'f32', count: 3 },
  { name: 'srow_x', offset: 280, kind: 'f32', count: 4 },
  { name: 'srow_y', offset: 296, kind: 'f32', count: 4 },
  { name: 'srow_z', offset: 312, kind: 'f32', count: 4 },
  { name: 'intent_name', offset: 328, kind: 'str', count: 16 },
  { name: 'magic', offset: 344, kind: 'str', count: 4 },
];

const N2_FIELDS: Field[] = [
  { name: 'sizeof_hdr', offset: 0, kind: 'i32' },
  { name: 'magic', offset: 4, kind: 'str', count: 8 },
  { name: 'datatype', offset: 12, kind: 'i16' },
  { name: 'bitpix', offset: 14, kind: 'i16' },
  { name: 'dim', offset: 16, kind: 'i64', count: 8 },
  { name: 'intent_p', offset: 80, kind: 'f64', count: 3 },
  { name: 'pixdim', offset: 104, kind: 'f64', count: 8 },
  { name: 'vox_offset', offset: 168, kind: 'i64' },
  { name: 'scl_slope', offset: 176, kind: 'f64' },
  { name: 'scl_inter', offset: 184, kind: 'f64' },
  { name: 'cal_max', offset: 192, kind: 'f64' },
  { name: 'cal_min', offset: 200, kind: 'f64' },
  { name: 'slice_duration', offset: 208, kind: 'f64' },
  { name: 'toffset', offset: 216, kind: 'f64' },
  { name: 'slice_start', offset: 224, kind: 'i64' },
  { name: 'slice_end', offset: 232, kind: 'i64' },
  { name: 'descrip', offset: 240, kind: 'str', count: 80 },
  { name: 'aux_file', offset: 320, kind: 'str', count: 24 },
  { name: 'qform_code', offset: 344, kind: 'i32' },
  { name: 'sform_code', offset: 348, kind: 'i32' },
  { name: 'quatern', offset: 352, kind: 'f64', count: 3 },
  { name: 'qoffset', offset: 376, kind: 'f64', count: 3 },
  { name: 'srow_x', offset: 400, kind: 'f64', count: 4 },
  { name: 'srow_y', offset: 432, kind: 'f64', count: 4 },
  { name: 'srow_z', offset: 464, kind: 'f64', count: 4 },
  { name: 'slice_code', offset: 496, kind: 'i32' },
  { name: 'xyzt_units', offset: 500, kind: 'i32' },
  { name: 'intent_code', offset: 504, kind: 'i32' },
  { name: 'intent_name', offset: 508, kind: 'str', count: 16 },
  { name: 'dim_info', offset: 524, kind: 'u8' },
];

const N1_MAGIC = 'n+1';
const N1_PAIR_MAGIC = 'ni1';
const N2_MAGIC_BYTES = [0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]; // "n+2\0\r\n\032\n"
const N2_PAIR_MAGIC_BYTES = [0x6e, 0x69, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]; // "ni2\0..."

const KIND_BYTES: Record<FieldKind, number> = { i8: 1, u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8, str: 1 };

function readField(view: DataView, f: Field, le: boolean, file: string): number | number[] | string {
  if (f.kind === 'str') {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + f.offset, f.count!);
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('latin1');
  }
  const one = (off: number): number => {
    switch (f.kind) {
      case 'i8':
        return view.getInt8(off);
      case 'u8':
        return view.getUint8(off);
      case 'i16':
        return view.getInt16(off, le);
      case 'i32':
        return view.getInt32(off, le);
      case 'i64': {
        const v = view.getBigInt64(off, le);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new NiftiError(`header field ${f.name} = ${v} is out of range`, file);
        }
        return Number(v);
      }
      case 'f32':
        return view.getFloat32(off, le);
      default:
        return view.getFloat64(off, le);
    }
  };
  if (f.count === undefined) return one(f.offset);
  return Array.from({ length: f.count }, (_, i) => one(f.offset + i * KIND_BYTES[f.kind]));
}

function writeField(view: DataView, f: Field, value: number | readonly number[] | string, le: boolean): void {
  if (f.kind === 'str') {
    const bytes = Buffer.from(String(value), 'latin1').subarray(0, f.count!);
    new Uint8Array(view.buffer, view.byteOffset + f.offset, f.count!).fill(0).set(bytes);
    return;
  }
  const one = (off: number, v: number): void => {
    switch (f.kind) {
      case 'i8':
        view.setInt8(off, v);
        break;
      case 'u8':
        view.setUint8(off, v);
        break;
      case 'i16':
        view.setInt16(off, v, le);
        break;
      case 'i32':
        view.setInt32(off, v, le);
        break;
      case 'i64':
        view.setBigInt64(off, BigInt(Math.trunc(v)), le);
        break;
      case 'f32':
        view.setFloat32(off, v, le);
        break;
      case 'f64':
        view.setFloat64(off, v, le);
        break;
    }
  };
  if (f.count === undefined) one(f.offset, value as number);
  else (value as readonly number[]).forEach((v, i) => one(f.offset + i * KIND_BYTES[f.kind], v));
}

/** Which layout and byte order a buffer's header has, or why it has none. */
function detectVersion(buf: Uint8Array, file: string): { version: 1 | 2; le: boolean } {
  if (buf.length < 4) throw new NiftiError(`file too short for a NIfTI header (${buf.length} bytes)`, file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const le of [true, false]) {
    const size = view.getInt32(0, le);
    if (size === N1_SIZE) {
      if (buf.length < N1_SIZE) throw new NiftiError(`truncated header: ${buf.length} of ${N1_SIZE} bytes`, file);
      const magic = Buffer.from(buf.subarray(344, 348)).toString('latin1');
      if (magic.startsWith(N1_PAIR_MAGIC)) {
        throw new NiftiError("a two-file NIfTI-1 header ('ni1', .hdr/.img); only single-file .nii / .nii.gz is supported", file);
      }
      if (!magic.startsWith(N1_MAGIC) || magic.charCodeAt(3) !== 0) {
        throw new NiftiError(`wrong magic ${JSON.stringify(magic)} for NIfTI-1 (expected "n+1"); an Analyze 7.5 or corrupt file?`, file);
      }
      return { version: 1, le };
    }
    if (size === N2_SIZE) {
      if (buf.length < N2_SIZE) throw new NiftiError(`truncated header: ${buf.length} of ${N2_SIZE} bytes`, file);
      const magic = Array.from(buf.subarray(4, 12));
      if (magic.every((b, i) => b === N2_PAIR_MAGIC_BYTES[i])) {
        throw new NiftiError("a two-file NIfTI-2 header ('ni2'); only single-file .nii / .nii.gz is supported", file);
      }
      if (!magic.every((b, i) => b === N2_MAGIC_BYTES[i])) {
        throw new NiftiError(`wrong magic ${JSON.stringify(Buffer.from(magic).toString('latin1'))} for NIfTI-2 (expected "n+2")`, file);
      }
      return { version: 2, le };
    }
  }
  throw new NiftiError(`not a NIfTI file: sizeof_hdr is ${view.getInt32(0, true)} (expected 348 for NIfTI-1 or 540 for NIfTI-2)`, file);
}

/** Parses the header of a whole (decompressed) NIfTI file. */
export function parseHeader(buf: Uint8Array, file = '<buffer>'): NiftiHeader {
  const { version, le } = detectVersion(buf, file);
  const fields = version === 1 ? N1_FIELDS : N2_FIELDS;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const raw: Record<string, number | number[] | string> = {};
  for (const f of fields) raw[f.name] = readField(view, f, le, file);
  const dim = raw.dim as number[];
  const ndim = dim[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiError(`dim[0] = ${ndim} is not a number of dimensions in 1..7`, file);
  for (let i = 1; i <= ndim; i++) {
    if (!(dim[i] >= 1)) throw new NiftiError(`dim[${i}] = ${dim[i]} is not a positive size`, file);
  }
  const headerSize = version === 1 ? N1_SIZE : N2_SIZE;
  const voxOffset = raw.vox_offset as number;
  const extensions = parseExtensions(buf, view, headerSize, voxOffset, le);
  const h: NiftiHeader = {
    version,
    littleEndian: le,
    dim: dim.map((v, i) => (i > ndim ? 1 : v)),
    datatype: raw.datatype as number,
    bitpix: raw.bitpix as number,
    pixdim: raw.pixdim as number[],
    voxOffset,
    sclSlope: raw.scl_slope as number,
    sclInter: raw.scl_inter as number,
    intentCode: raw.intent_code as number,
    intentName: raw.intent_name as string,
    intentP: raw.intent_p as [number, number, number],
    calMin: raw.cal_min as number,
    calMax: raw.cal_max as number,
    sliceCode: raw.slice_code as number,
    sliceStart: raw.slice_start as number,
    sliceEnd: raw.slice_end as number,
    sliceDuration: raw.slice_duration as number,
    toffset: raw.toffset as number,
    dimInfo: raw.dim_info as number,
    xyztUnits: raw.xyzt_units as number,
    descrip: raw.descrip as string,
    auxFile: raw.aux_file as string,
    qformCode: raw.qform_code as number,
    sformCode: raw.sform_code as number,
    quatern: raw.quatern as [number, number, number],
    qoffset: raw.qoffset as [number, number, number],
    srow: [raw.srow_x as number[], raw.srow_y as number[], raw.srow_z as number[]],
    extensions,
  };
  return h;
}

function parseExtensions(buf: Uint8Array, view: DataView, headerSize: number, voxOffset: number, le: boolean): NiftiHeader['extensions'] {
  const out: NiftiHeader['extensions'] = [];
  // 4 bytes after the header: extension[0] != 0 means extensions follow, up to vox_offset
  if (buf.length < headerSize + 4 || voxOffset < headerSize + 4 || buf[headerSize] === 0) return out;
  let pos = headerSize + 4;
  while (pos + 8 <= voxOffset && pos + 8 <= buf.length) {
    const esize = view.getInt32(pos, le);
    const ecode = view.getInt32(pos + 4, le);
    if (esize < 8 || esize % 16 !== 0 || pos + esize > voxOffset || pos + esize > buf.length) break; // malformed: ignore the rest
    out.push({ code: ecode, data: buf.slice(pos + 8, pos + esize) });
    pos += esize;
  }
  return out;
}

/** The number of voxels the header describes. */
export function voxelCount(h: NiftiHeader): number {
  let n = 1;
  for (let i = 1; i <= h.dim[0]; i++) n *= h.dim[i];
  return n;
}

/** Spatial unit factor to millimetres from xyzt_units (unknown units are taken as mm). */
function unitToMm(h: NiftiHeader): number {
  switch (h.xyztUnits & 0x07) {
    case 1:
      return 1000;
    case 3:
      return 0.001;
    default:
      return 1;
  }
}

/** The voxel-to-world affine the header defines, by its codes (see ReadOptions.affine). */
export function headerAffine(h: NiftiHeader, which: 'auto' | 'sform' | 'qform' = 'auto'): Affine {
  const mm = unitToMm(h);
  const useS = which === 'sform' || (which === 'auto' && h.sformCode > 0);
  const useQ = !useS && (which === 'qform' || (which === 'auto' && h.qformCode > 0));
  let a: Affine;
  if (useS) {
    a = [[...h.srow[0]], [...h.srow[1]], [...h.srow[2]], [0, 0, 0, 1]];
  } else if (useQ) {
    a = quaternionToAffine({
      b: h.quatern[0],
      c: h.quatern[1],
      d: h.quatern[2],
      qfac: h.pixdim[0] < 0 ? -1 : 1,
      pixdim: [Math.abs(h.pixdim[1]), Math.abs(h.pixdim[2]), Math.abs(h.pixdim[3])],
      offset: [...h.qoffset],
    });
  } else {
    // no orientation: the standard's fallback (method 1), voxel sizes on the diagonal
    a = [
      [Math.abs(h.pixdim[1]) || 1, 0, 0, 0],
      [0, Math.abs(h.pixdim[2]) || 1, 0, 0],
      [0, 0, Math.abs(h.pixdim[3]) || 1, 0],
      [0, 0, 0, 1],
    ];
  }
  if (mm !== 1) a = a.map((row, i) => (i < 3 ? row.map((v) => v * mm) : row));
  return a;
}

/** The quaternion is a rotation only when |(b, c, d)| <= 1 (a = sqrt(1 - b² - c² - d²)). */
function checkQuaternion(h: NiftiHeader, which: 'auto' | 'sform' | 'qform', file: string): void {
  const usesQ = which === 'qform' || (which === 'auto' && !(h.sformCode > 0) && h.qformCode > 0);
  if (!usesQ) return;
  const [b, c, d] = h.quatern;
  const norm2 = b * b + c * c + d * d;
  if (!Number.isFinite(norm2) || norm2 > 1 + 1e-5 || !h.qoffset.every(Number.isFinite)) {
    throw new NiftiError(
      `qform: quatern (${b}, ${c}, ${d}) / qoffset (${h.qoffset.join(', ')}) is not a rotation and a position (|b, c, d| must be <= 1, all finite)`,
      file,
    );
  }
}

/** A voxel-to-world map must be finite and invertible: a rank-deficient one has no orientation. */
function checkAffine(a: Affine, file: string): void {
  const m = a.slice(0, 3).flatMap((row) => row);
  if (!m.every(Number.isFinite)) throw new NiftiError(`the voxel-to-world affine holds a non-finite value: ${JSON.stringify(a.slice(0, 3))}`, file);
  const norms = [0, 1, 2].map((j) => Math.hypot(a[0][j], a[1][j], a[2][j]));
  const det =
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  // relative to the column lengths, so that tiny voxels are not mistaken for a singular map
  if (norms.some((v) => !(v > 0)) || !(Math.abs(det) > 1e-6 * norms[0] * norms[1] * norms[2])) {
    throw new NiftiError(
      `the voxel-to-world affine is degenerate (rank < 3: columns of length ${norms.map((v) => +v.toPrecision(4)).join(', ')}, determinant ${det.toPrecision(4)}); no orientation can be read`,
      file,
    );
  }
}

/** Voxel sizes in mm from pixdim (or from the affine where pixdim is 0). */
function headerSpacing(h: NiftiHeader, affine: Affine): [number, number, number] {
  const mm = unitToMm(h);
  const fromAffine = affineSpacing(affine);
  return [1, 2, 3].map((i, n) => {
    const p = Math.abs(h.pixdim[i]);
    return p > 0 && Number.isFinite(p) ? p * mm : fromAffine[n] || 1;
  }) as [number, number, number];
}

// ---------------------------------------------------------------------------------------------
// Reading

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function gunzipError(e: unknown, file: string): NiftiError {
  const msg = e instanceof Error ? e.message : String(e);
  const truncated = /unexpected end/i.test(msg);
  return new NiftiError(truncated ? 'truncated gzip stream (the file ends before the compressed data does)' : `corrupt gzip data: ${msg}`, file, {
    cause: e,
  });
}

// A .nii.gz is inflated only as far as its header promises (a few KB of image followed by
// gigabytes of zeros is a 2 MB file): first a bounded prefix for the header, then the whole
// stream with an output cap of the promised size plus a little slack for padding writers.
const HEADER_INPUT = 16 * 1024; // compressed bytes that surely hold the header (<= ~17 MB inflated)
const INFLATE_SLACK = 1 << 20;

function promisedBytes(buf: Uint8Array, file: string): number {
  let head: Uint8Array;
  try {
    head = zlib.gunzipSync(buf.subarray(0, HEADER_INPUT), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (e) {
    throw gunzipError(e, file);
  }
  const h = parseHeader(head, file); // a bad header fails here, before anything large is inflated
  const bytes = TYPE_INFO[h.datatype]?.bytes ?? 0;
  const promised = Number.isInteger(h.voxOffset) && h.voxOffset > 0 ? h.voxOffset + voxelCount(h) * bytes : head.length;
  return Math.min(promised + INFLATE_SLACK, buffer.constants.MAX_LENGTH);
}

function inflateError(e: unknown, file: string, limit: number): NiftiError {
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE') {
    return new NiftiError(
      `the gzip stream inflates to more than the ${limit - INFLATE_SLACK} bytes its header promises (a decompression bomb or a corrupt file)`,
      file,
    );
  }
  return gunzipError(e, file);
}

function inflateSync(buf: Uint8Array, file: string): Buffer {
  const limit = promisedBytes(buf, file);
  try {
    return zlib.gunzipSync(buf, { maxOutputLength: limit });
  } catch (e) {
    throw inflateError(e, file, limit);
  }
}

async function inflate(buf: Uint8Array, file: string): Promise<Buffer> {
  const limit = promisedBytes(buf, file);
  try {
    return await gunzipAsync(buf, { maxOutputLength: limit });
  } catch (e) {
    throw inflateError(e, file, limit);
  }
}

function readError(e: unknown, file: string): Error {
  if (e instanceof NiftiError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    return new NiftiError(err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`, file, { cause: e });
  }
  return e as Error;
}

/** Reads a NIfTI file (.nii or .nii.gz, NIfTI-1 or NIfTI-2) off the JS thread where possible. */
export async function read(file: string, options: ReadOptions = {}): Promise<NiftiImage> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw readError(e, file);
  }
  if (isGzip(buf)) buf = await inflate(buf, file);
  return decode(buf, file, options);
}

/** read(), synchronously (for worker threads and scripts). */
export function readSync(file: string, options: ReadOptions = {}): NiftiImage {
  let buf: Uint8Array;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw readError(e, file);
  }
  if (isGzip(buf)) buf = inflateSync(buf, file);
  return decode(buf, file, options);
}

/** Decodes a whole NIfTI file held in memory (already decompressed, or gzip: it is inflated). */
export function decode(buf: Uint8Array, file = '<buffer>', options: ReadOptions = {}): NiftiImage {
  if (isGzip(buf)) buf = inflateSync(buf, file);
  const h = parseHeader(buf, file);
  for (let i = 4; i <= h.dim[0]; i++) {
    if (h.dim[i] > 1) {
      throw new NiftiError(`a ${h.dim[0]}D image (dim = [${h.dim.slice(1, h.dim[0] + 1).join(', ')}]); only 2D and 3D images are supported`, file);
    }
  }
  const info = TYPE_INFO[h.datatype];
  if (!info) {
    const what = UNSUPPORTED_TYPES[h.datatype] ?? `code ${h.datatype}`;
    throw new NiftiError(`unsupported datatype ${what}`, file);
  }
  const shape: [number, number, number] = [h.dim[1], h.dim[0] >= 2 ? h.dim[2] : 1, h.dim[0] >= 3 ? h.dim[3] : 1];
  const n = shape[0] * shape[1] * shape[2];
  const headerSize = h.version === 1 ? N1_SIZE : N2_SIZE;
  const offset = h.voxOffset;
  if (!(Number.isInteger(offset) && offset >= headerSize)) {
    throw new NiftiError(`vox_offset ${offset} is not an integer >= ${headerSize}`, file);
  }
  checkQuaternion(h, options.affine ?? 'auto', file);
  const affine = headerAffine(h, options.affine ?? 'auto');
  checkAffine(affine, file);
  const spacing = headerSpacing(h, affine);
  const needed = offset + n * info.bytes;
  if (buf.length < needed) {
    throw new NiftiError(
      `the header promises ${n * info.bytes} bytes of voxel data (${shape.join(' x ')} ${info.name}) from offset ${offset}, but the file has ${Math.max(0, buf.length - offset)}`,
      file,
    );
  }
  let data: VoxelArray;
  if (options.headerOnly) {
    data = makeArray(info.name === 'int64' || info.name === 'uint64' ? 'float64' : info.name, 0);
  } else {
    data = voxels(buf, offset, n, info.name, h.littleEndian);
    if (options.scale ?? true) {
      try {
        data = applyScaling(data, h.sclSlope, h.sclInter);
      } catch (e) {
        throw new NiftiError((e as Error).message, file);
      }
    }
  }
  let image: NiftiImage = { data, shape, spacing, affine, header: h };
  if ((options.orientation ?? 'RAS') === 'RAS') image = reorient(image, 'RAS');
  return image;
}

function makeArray(type: NiftiTypeName | 'float64', n: number): VoxelArray {
  switch (type) {
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'float32':
      return new Float32Array(n);
    default:
      return new Float64Array(n);
  }
}

/** Copies voxel bytes into a typed array of the file's type (int64 / uint64 become Float64Array). */
function voxels(buf: Uint8Array, offset: number, n: number, type: NiftiTypeName, le: boolean): VoxelArray {
  const bytes = TYPE_INFO[NIFTI_TYPES[type]].bytes;
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const src = buf.subarray(offset, offset + n * bytes);
  if (type === 'int64' || type === 'uint64') {
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(type === 'int64' ? view.getBigInt64(i * 8, le) : view.getBigUint64(i * 8, le));
    return out;
  }
  const copy = new Uint8Array(src); // aligned, owned copy
  if (bytes > 1 && le !== hostLE) {
    for (let i = 0; i < copy.length; i += bytes) copy.subarray(i, i + bytes).reverse();
  }
  const out = makeArray(type, 0).constructor as new (b: ArrayBuffer, o: number, l: number) => VoxelArray;
  return new out(copy.buffer, 0, n);
}

/** scl_slope / scl_inter: slope 0 or NaN means 1 (no scaling); identity scaling keeps the array. */
export function applyScaling(data: VoxelArray, slope: number, inter: number): VoxelArray {
  const s = slope === 0 || !Number.isFinite(slope) ? 1 : slope;
  const b = Number.isFinite(inter) ? inter : 0;
  if (s === 1 && b === 0) return data;
  const out = data instanceof Float64Array ? new Float64Array(data.length) : new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = data[i] * s + b;
    // a huge slope turns finite voxels into Infinity (float32 overflows past 3.4e38)
    if (!Number.isFinite(out[i]) && Number.isFinite(data[i])) {
      throw new RangeError(`scl_slope ${slope} / scl_inter ${inter} scale the voxel value ${data[i]} to ${out[i]}`);
    }
  }
  return out;
}

/**
 * Reorders voxel axes so that they run in the given orientation ('RAS', 'LPS', ...). World
 * positions are unchanged: data and affine change together, spacing follows its axes.
 */
export function reorient(image: NiftiImage, target: OrientationCode): NiftiImage {
  const { perm, flip } = reorientPlan(image.affine, target);
  const affine = reorientAffine(image.affine, image.shape, perm, flip);
  const spacing = perm.map((p) => image.spacing[p]) as [number, number, number];
  if (image.data.length === 0) {
    return { ...image, shape: perm.map((p) => image.shape[p]) as [number, number, number], spacing, affine };
  }
  const moved = permuteFlip(image.data, image.shape, perm, flip);
  return { ...image, data: moved.data, shape: moved.shape, spacing, affine };
}

/** The orientation code of an image ('RAS' after a default read). */
export function orientation(image: Pick<NiftiImage, 'affine'>): OrientationCode {
  return orientationOf(image.affine);
}

// ---------------------------------------------------------------------------------------------
// Writing

function typeNameOf(data: VoxelArray): NiftiTypeName {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  throw new TypeError('data: expected a Uint8/Int8/Int16/Uint16/Int32/Uint32/Float32/Float64 array');
}

const INT_RANGE: Partial<Record<NiftiTypeName, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function castTo(data: VoxelArray, type: NiftiTypeName): VoxelArray {
  if (typeNameOf(data) === type) return data;
  if (type === 'int64' || type === 'uint64') throw new TypeError(`datatype: writing ${type} is not supported; use int32`);
  const out = makeArray(type, data.length);
  const range = INT_RANGE[type];
  if (range) {
    const [lo, hi] = range;
    for (let i = 0; i < data.length; i++) {
      const v = Math.round(data[i]);
      out[i] = v < lo ? lo : v > hi ? hi : Number.isNaN(v) ? 0 : v;
    }
  } else {
    out.set(data);
  }
  return out;
}

/**
 * Builds the header for an image: geometry (dim, pixdim, sform and qform) from the image,
 * everything else (descriptions, intent, units, codes, extensions) kept from image.header.
 */
export function buildHeader(image: NiftiImage, type: NiftiTypeName, options: WriteOptions = {}): NiftiHeader {
  const base = image.header;
  const [nx, ny, nz] = image.shape;
  const version: 1 | 2 = options.version ?? base?.version ?? (Math.max(nx, ny, nz) > 32767 ? 2 : 1);
  if (version === 1 && Math.max(nx, ny, nz) > 32767) throw new RangeError('shape: NIfTI-1 sizes are at most 32767; write version 2');
  const q = affineToQuaternion(image.affine);
  const spacing = image.spacing ?? affineSpacing(image.affine);
  const info = TYPE_INFO[NIFTI_TYPES[type]];
  const ndim = nz === 1 && (options.ndim ?? base?.dim[0]) === 2 ? 2 : 3;
  const extensions = base?.extensions ?? [];
  const extBytes = extensions.reduce((s, e) => s + alignUp(8 + e.data.length, 16), 0);
  const headerSize = version === 1 ? N1_SIZE : N2_SIZE;
  const voxOffset = alignUp(headerSize + 4 + extBytes, 16);
  const descrip = options.descrip ?? base?.descrip ?? 'slice-distill';
  return {
    version,
    littleEndian: true,
    dim: [ndim, nx, ny, ndim === 2 ? 1 : nz, 1, 1, 1, 1],
    datatype: NIFTI_TYPES[type],
    bitpix: info.bytes * 8,
    pixdim: [q.qfac, spacing[0], spacing[1], spacing[2], base?.pixdim[4] ?? 0, 0, 0, 0],
    voxOffset,
    sclSlope: 1,
    sclInter: 0,
    intentCode: base?.intentCode ?? 0,
    intentName: base?.intentName ?? '',
    intentP: base?.intentP ?? [0, 0, 0],
    calMin: base?.calMin ?? 0,
    calMax: base?.calMax ?? 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
    sliceDuration: base?.sliceDuration ?? 0,
    toffset: base?.toffset ?? 0,
    dimInfo: 0,
    xyztUnits: 2 | ((base?.xyztUnits ?? 0) & 0x38), // mm, the time unit kept
    descrip,
    auxFile: base?.auxFile ?? '',
    qformCode: base && base.qformCode > 0 ? base.qformCode : 1,
    sformCode: base && base.sformCode > 0 ? base.sformCode : 1,
    quatern: [q.b, q.c, q.d],
    qoffset: q.offset,
    srow: [image.affine[0].slice(0, 4), image.affine[1].slice(0, 4), image.affine[2].slice(0, 4)],
    extensions,
  };
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/** Serialises a header and voxel array into an uncompressed .nii byte buffer. */
export function encode(h: NiftiHeader, data: VoxelArray): Uint8Array {
  const headerSize = h.version === 1 ? N1_SIZE : N2_SIZE;
  const bytes = data.byteLength;
  const out = new Uint8Array(h.voxOffset + bytes);
  const view = new DataView(out.buffer);
  const fields = h.version === 1 ? N1_FIELDS : N2_FIELDS;
  const values: Record<string, number | readonly number[] | string> = {
    sizeof_hdr: headerSize,
    magic: h.version === 1 ? N1_MAGIC : '',
    dim_info: h.dimInfo,
    dim: h.dim,
    intent_p: h.intentP,
    intent_code: h.intentCode,
    datatype: h.datatype,
    bitpix: h.bitpix,
    slice_start: h.sliceStart,
    pixdim: h.pixdim,
    vox_offset: h.voxOffset,
    scl_slope: h.sclSlope,
    scl_inter: h.sclInter,
    slice_end: h.sliceEnd,
    slice_code: h.sliceCode,
    xyzt_units: h.xyztUnits,
    cal_max: h.calMax,
    cal_min: h.calMin,
    slice_duration: h.sliceDuration,
    toffset: h.toffset,
    descrip: h.descrip,
    aux_file: h.auxFile,
    qform_code: h.qformCode,
    sform_code: h.sformCode,
    quatern: h.quatern,
    qoffset: h.qoffset,
    srow_x: h.srow[0],
    srow_y: h.srow[1],
    srow_z: h.srow[2],
    intent_name: h.intentName,
  };
  for (const f of fields) writeField(view, f, values[f.name], true);
  if (h.version === 2) out.set(N2_MAGIC_BYTES, 4);
  // extension flag, then each extension padded to a multiple of 16 bytes
  if (h.extensions.length > 0) {
    out[headerSize] = 1;
    let pos = headerSize + 4;
    for (const e of h.extensions) {
      const size = alignUp(8 + e.data.length, 16);
      view.setInt32(pos, size, true);
      view.setInt32(pos + 4, e.code, true);
      out.set(e.data, pos + 8);
      pos += size;
    }
  }
  out.set(new Uint8Array(data.buffer, data.byteOffset, bytes), h.voxOffset);
  return out;
}

function prepare(image: NiftiImage, options: WriteOptions): { header: NiftiHeader; data: VoxelArray } {
  const n = image.shape[0] * image.shape[1] * image.shape[2];
  if (image.data.length !== n) {
    throw new RangeError(`data: ${image.data.length} values do not fill shape [${image.shape.join(', ')}] (${n} voxels)`);
  }
  const type = options.datatype ?? typeNameOf(image.data);
  const data = castTo(image.data, type);
  return { header: buildHeader(image, type, options), data };
}

/** Writes an image as .nii or .nii.gz (by the file name), keeping the header's geometry. */
export async function write(file: string, image: NiftiImage, options: WriteOptions = {}): Promise<void> {
  const { header, data } = prepare(image, options);
  let bytes = encode(header, data);
  if (file.endsWith('.gz')) bytes = await gzipAsync(bytes, { level: options.level ?? 6 });
  try {
    await writeFile(file, bytes);
  } catch (e) {
    throw new NiftiError(`cannot write: ${(e as Error).message}`, file, { cause: e });
  }
}

/** write(), synchronously. */
export function writeSync(file: string, image: NiftiImage, options: WriteOptions = {}): void {
  const { header, data } = prepare(image, options);
  let bytes = encode(header, data);
  if (file.endsWith('.gz')) bytes = zlib.gzipSync(bytes, { level: options.level ?? 6 });
  try {
    writeFileSync(file, bytes);
  } catch (e) {
    throw new NiftiError(`cannot write: ${(e as Error).message}`, file, { cause: e });
  }
}

/** Just the header and geometry of a file (still decompresses a .nii.gz). */
export async function readHeader(file: string, options: Omit<ReadOptions, 'headerOnly'> = {}): Promise<NiftiImage> {
  return read(file, { ...options, headerOnly: true });
}
