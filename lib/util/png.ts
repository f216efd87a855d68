// PNG files: encodePng writes 8-bit grey / grey+alpha / RGB / RGBA PNGs (signature, IHDR, one
// zlib-compressed IDAT with a filter chosen per row: the smallest sum of absolute filtered
// bytes among the five PNG filters, IEND; every chunk with its CRC-32). decodePng reads back
// what encodePng writes (8-bit, non-interlaced). Used by the data previews and the report.
import zlib from 'node:zlib';

/** CRC-32 (ISO 3309, as PNG chunks carry) of `bytes`, continuing from `crc`: node:zlib's own. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return zlib.crc32(bytes, crc);
}

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/**
 * Encodes 8-bit pixels (row-major, `channels` bytes each: 1 grey, 2 grey + alpha, 3 RGB,
 * 4 RGBA, the default) as a PNG file.
 */
export function encodePng(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: 1 | 2 | 3 | 4 = 4): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`width, height: ${width} x ${height} is not a positive image size`);
  if (!(channels in COLOR_TYPE)) throw new RangeError(`channels: expected 1, 2, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels)
    throw new RangeError(`pixels: expected ${width * height * channels} bytes for ${width} x ${height} x ${channels}, got ${pixels.length}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression 0 (deflate), filter method 0 (adaptive), interlace 0: already zero
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : null;
    let bestType = 0;
    let bestScore = Infinity;
    for (let type = 0; type < 5; type++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? row[i - channels] : 0;
        const b = up ? up[i] : 0;
        const c = up && i >= channels ? up[i - channels] : 0;
        const predictor = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const f = (row[i] - predictor) & 0xff;
        candidate[i] = f;
        score += f < 128 ? f : 256 - f;
      }
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
        best.set(candidate);
      }
    }
    raw[y * (stride + 1)] = bestType;
    raw.set(best, y * (stride + 1) + 1);
  }
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw, { level: 9 })), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Decodes an 8-bit, non-interlaced PNG (the kind encodePng writes); checks every chunk's CRC. */
export function decodePng(file: Uint8Array): DecodedPng {
  for (let i = 0; i < 8; i++) if (file[i] !== PNG_SIGNATURE[i]) throw new RangeError('png: bad signature');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (at + 12 <= file.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...file.subarray(at + 4, at + 8));
    const data = file.subarray(at + 8, at + 8 + length);
    if (crc32(file.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) throw new RangeError(`png: CRC mismatch in ${type}`);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      if (data[8] !== 8 || data[12] !== 0) throw new RangeError('png: only 8-bit non-interlaced images are supported');
      channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as Record<number, number>)[data[9]] ?? 0;
      if (!channels) throw new RangeError(`png: colour type ${data[9]} is not supported`);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) throw new RangeError(`png: IDAT holds ${raw.length} bytes, expected ${(stride + 1) * height}`);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const f = raw[y * (stride + 1) + 1 + i];
      const a = i >= channels ? pixels[y * stride + i - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= channels ? pixels[(y - 1) * stride + i - channels] : 0;
      const predictor = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : type === 4 ? paeth(a, b, c) : NaN;
      if (Number.isNaN(predictor)) throw new RangeError(`png: unknown filter ${type} on row ${y}`);
      pixels[y * stride + i] = (f + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}
