// CT slices with label maps drawn over them as translucent colours with opaque outlines, and
// figures of several such panels side by side (image, truth, prediction A, prediction B, ...).
//
// Arrays are row-major [height, width] (index y * width + x) and drawn as stored: row 0 at
// the top. Use the orientation options to flip or transpose slices into the usual
// radiological view.

import { CLASSES } from '../data/labels.js';
import { encodePng } from '../util/png.js';
import { textWidth, type Anchor, type Scene, type Shape } from './charts.js';
import { parseColor, sceneToPng, type RGB } from './png.js';
import { sceneToSvg } from './svg.js';

/** Colours per class id (lib/data/class-colors.ts: the same in preview PNGs and label descriptions). */
import { CLASS_COLORS } from '../data/class-colors.js';
import { DEFAULT_HU_WINDOW } from '../data/transforms.js';
export { CLASS_COLORS };
export const CLASS_NAMES: readonly string[] = CLASSES;

/** The soft-tissue window of the project's preprocessing, in HU (the default hu.window). */
export const HU_WINDOW: [number, number] = [...DEFAULT_HU_WINDOW];

export interface Orientation {
  /** Mirror left-right. */
  flipX?: boolean;
  /** Mirror top-bottom. */
  flipY?: boolean;
  /** Swap rows and columns (applied first). */
  transpose?: boolean;
}

export interface OverlayStyle {
  /**
   * Intensity window: 'hu' ([-175, 250] HU), 'unit' (already in [0, 1]), an explicit [low,
   * high], or 'auto' (default: 'unit' when every value lies in [0, 1], else 'hu').
   */
  window?: 'auto' | 'hu' | 'unit' | [number, number];
  /** Opacity of the label fill (default 0.45); outlines are opaque. */
  alpha?: number;
  /** Draw a one-pixel outline around each labelled region (default true). */
  outline?: boolean;
  /** Colours per class id (default CLASS_COLORS); null or missing: not drawn. */
  colors?: readonly (string | null)[];
  /** Integer pixel replication factor (default: enough for the longer side to reach 256 px, at most 8). */
  upscale?: number;
}

function resolveWindow(image: ArrayLike<number>, window: OverlayStyle['window']): [number, number] {
  if (Array.isArray(window)) {
    if (!(window[1] > window[0])) throw new RangeError(`window: [${window[0]}, ${window[1]}] is empty`);
    return window;
  }
  if (window === 'hu') return HU_WINDOW;
  if (window === 'unit') return [0, 1];
  if (window !== undefined && window !== 'auto') throw new TypeError(`window: expected 'auto', 'hu', 'unit' or [low, high], got ${String(window)}`);
  for (let i = 0; i < image.length; i++) if (!(image[i] >= 0 && image[i] <= 1)) return HU_WINDOW;
  return [0, 1];
}

/** Window intensities to grey bytes: low -> 0, high -> 255, clamped (NaN -> 0). */
export function windowToGray(image: ArrayLike<number>, window: OverlayStyle['window'] = 'auto'): Uint8Array {
  const [lo, hi] = resolveWindow(image, window);
  const out = new Uint8Array(image.length);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < image.length; i++) {
    const v = (image[i] - lo) * scale;
    out[i] = v > 0 ? (v < 255 ? Math.round(v) : 255) : 0;
  }
  return out;
}

/** Re-indexes a row-major [height, width] array by an orientation; returns the new array and size. */
export function orient<T extends ArrayLike<number>>(
  data: T,
  width: number,
  height: number,
  o: Orientation = {},
): { data: number[]; width: number; height: number } {
  const w = o.transpose ? height : width;
  const h = o.transpose ? width : height;
  const out = new Array<number>(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = o.flipX ? w - 1 - x : x;
      let sy = o.flipY ? h - 1 - y : y;
      if (o.transpose) [sx, sy] = [sy, sx];
      out[y * w + x] = data[sy * width + sx];
    }
  }
  return { data: out, width: w, height: h };
}

function defaultUpscale(width: number, height: number): number {
  return Math.max(1, Math.min(8, Math.ceil(256 / Math.max(width, height))));
}

function checkSize(what: string, data: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`width, height: ${width} x ${height} is not a positive image size`);
  if (data.length !== width * height) throw new RangeError(`${what}: expected ${width * height} values for ${width} x ${height}, got ${data.length}`);
}

/**
 * One slice as RGBA (upscaled by `style.upscale`), with `labels` (same size; null: the plain
 * image) blended in their class colours.
 */
export function overlayRgba(
  image: ArrayLike<number>,
  width: number,
  height: number,
  labels: ArrayLike<number> | null | undefined,
  style: OverlayStyle = {},
): { rgba: Uint8ClampedArray; width: number; height: number } {
  checkSize('image', image, width, height);
  if (labels) checkSize('labels', labels, width, height);
  const s = style.upscale ?? defaultUpscale(width, height);
  if (!Number.isInteger(s) || s < 1) throw new RangeError(`upscale: expected a positive integer, got ${s}`);
  const alpha = style.alpha ?? 0.45;
  const outline = style.outline ?? true;
  const palette = (style.colors ?? CLASS_COLORS).map((c) => (c ? parseColor(c) : null));
  const gray = windowToGray(image, style.window);
  const W = width * s;
  const H = height * s;
  const rgba = new Uint8ClampedArray(W * H * 4);
  const labelAt = (X: number, Y: number): number => (labels ? labels[Math.floor(Y / s) * width + Math.floor(X / s)] : 0);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const g = gray[Math.floor(Y / s) * width + Math.floor(X / s)];
      const o = (Y * W + X) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
      rgba[o + 3] = 255;
      if (!labels) continue;
      const k = labelAt(X, Y);
      const c: RGB | null | undefined = palette[k];
      if (!c) continue;
      const edge =
        outline &&
        ((X > 0 && labelAt(X - 1, Y) !== k) ||
          (X < W - 1 && labelAt(X + 1, Y) !== k) ||
          (Y > 0 && labelAt(X, Y - 1) !== k) ||
          (Y < H - 1 && labelAt(X, Y + 1) !== k));
      const a = edge ? 1 : alpha;
      for (let ch = 0; ch < 3; ch++) rgba[o + ch] = Math.round(c[ch] * a + g * (1 - a));
    }
  }
  return { rgba, width: W, height: H };
}

export interface OverlayPanel {
  /** Caption above the panel, e.g. 'truth' or 'DeepLabv3 distilled (Dice 0.84)'. */
  title: string;
  /** Label map of the slice (row-major, same size); omitted or null: the plain image. */
  labels?: ArrayLike<number> | null;
}

export interface OverlayFigureData extends OverlayStyle, Orientation {
  /** The slice intensities, row-major [height, width] (HU, or already windowed to [0, 1]). */
  image: ArrayLike<number>;
  width: number;
  height: number;
  panels: OverlayPanel[];
  /** A line above the panels. */
  title?: string;
  /** Class names for the legend (default CLASS_NAMES); only classes present in some panel are listed. */
  classNames?: readonly string[];
}

/** Panels side by side with captions and a colour legend, laid out as a scene (svg.ts / png.ts draw it). */
export function overlayFigureScene(data: OverlayFigureData): Scene {
  if (!Array.isArray(data.panels) || data.panels.length === 0) throw new RangeError('panels: expected at least one panel');
  checkSize('image', data.image, data.width, data.height);
  const image = orient(data.image, data.width, data.height, data);
  const panels = data.panels.map((p) => {
    if (p.labels) checkSize(`labels of panel '${p.title}'`, p.labels, data.width, data.height);
    return { title: p.title, labels: p.labels ? orient(p.labels, data.width, data.height, data).data : null };
  });
  const upscale = data.upscale ?? defaultUpscale(image.width, image.height);
  const tiles = panels.map((p) => overlayRgba(image.data, image.width, image.height, p.labels, { ...data, upscale }));
  const tileW = tiles[0].width;
  const tileH = tiles[0].height;
  const gap = 12;
  const size = 14;
  const titleH = data.title ? 28 : 0;
  const captionH = 24;
  const names = data.classNames ?? CLASS_NAMES;
  const colors = data.colors ?? CLASS_COLORS;
  const present = new Set<number>();
  for (const p of panels) if (p.labels) for (const v of p.labels) if (colors[v]) present.add(v);
  const legendItems = [...present].sort((a, b) => a - b).map((k) => ({ k, label: names[k] ?? `class ${k}` }));
  const legendH = legendItems.length ? 30 : 0;
  const width = gap + panels.length * (tileW + gap);
  const height = gap + titleH + captionH + tileH + legendH + gap;
  const shapes: Shape[] = [];
  const text = (x: number, y: number, t: string, anchor: Anchor, bold = false, textSize = size): void => {
    shapes.push({ kind: 'text', x, y, text: t, size: textSize, anchor, color: '#222222', bold });
  };
  if (data.title) text(width / 2, gap + 10, data.title, 'middle', true, size + 2);
  tiles.forEach((t, i) => {
    const x0 = gap + i * (tileW + gap);
    text(x0 + tileW / 2, gap + titleH + captionH / 2 - 2, panels[i].title, 'middle');
    shapes.push({ kind: 'image', x: x0, y: gap + titleH + captionH, width: tileW, height: tileH, png: encodePng(t.rgba, tileW, tileH, 4) });
  });
  if (legendItems.length) {
    const itemW = (it: { label: string }): number => 22 + textWidth(it.label, size) + 18;
    const total = legendItems.reduce((s, it) => s + itemW(it), 0) - 18;
    let x = Math.max(gap, width / 2 - total / 2);
    const cy = height - gap - legendH / 2;
    for (const it of legendItems) {
      shapes.push({ kind: 'rect', x, y: cy - 7, width: 14, height: 14, fill: colors[it.k] as string });
      text(x + 22, cy, it.label, 'start');
      x += itemW(it);
    }
  }
  return { width, height, background: '#ffffff', title: data.title ?? 'Overlay', shapes };
}

/** The overlay figure as SVG (the tiles embedded as PNG). */
export function overlayFigureSvg(data: OverlayFigureData): string {
  return sceneToSvg(overlayFigureScene(data));
}

/** The overlay figure as a PNG file, one pixel per scene unit (the tiles are already upscaled). */
export function overlayFigurePng(data: OverlayFigureData): Uint8Array {
  return sceneToPng(overlayFigureScene(data), { scale: 1 });
}

/** One slice with one label map as a PNG file (no captions). */
export function overlayPng(image: ArrayLike<number>, width: number, height: number, labels?: ArrayLike<number> | null, style?: OverlayStyle): Uint8Array {
  const o = overlayRgba(image, width, height, labels, style);
  return encodePng(o.rgba, o.width, o.height, 4);
}
