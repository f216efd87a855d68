// PNG files and a small anti-aliased rasteriser for the report's figures.
//
// The PNG codec itself is lib/util/png.ts.
// Raster draws filled rectangles with exact area coverage, lines and circles with a coverage
// from the distance to the shape, polygons by 4 x 4 supersampling, and text with the 5 x 7
// bitmap font in font.ts (each lit dot is a small filled rectangle, so any size works).

import { encodePng } from '../util/png.js';
export { encodePng, decodePng, crc32, PNG_SIGNATURE, type DecodedPng } from '../util/png.js';
import { boxPlotScene, lineChartScene, textWidth, type BoxPlotData, type ChartOptions, type LineChartData, type Scene, type Shape } from './charts.js';
import { CAP_HEIGHT, CHAR_ADVANCE, glyphDots } from './font.js';

// ---------------------------------------------------------------- colours

export type RGB = [number, number, number];

/** Parses '#rgb' or '#rrggbb'. */
export function parseColor(color: string): RGB {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) throw new RangeError(`color: expected #rgb or #rrggbb, got ${color}`);
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

// ---------------------------------------------------------------- rasteriser

export interface TextStyle {
  size: number;
  color?: string;
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
  rotate?: 0 | -90;
}

/** An RGBA canvas (straight alpha, row-major) with anti-aliased drawing. */
export class Raster {
  readonly data: Uint8ClampedArray;

  constructor(
    readonly width: number,
    readonly height: number,
    background: string | null = '#ffffff',
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new RangeError(`width, height: ${width} x ${height} is not a positive image size`);
    this.data = new Uint8ClampedArray(width * height * 4);
    if (background) {
      const [r, g, b] = parseColor(background);
      for (let i = 0; i < width * height; i++) this.data.set([r, g, b, 255], i * 4);
    }
  }

  /** Source-over blend of one pixel with coverage `alpha` in [0, 1]. */
  blend(x: number, y: number, rgb: RGB, alpha: number): void {
    if (alpha <= 0 || x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const a = Math.min(1, alpha);
    const i = (y * this.width + x) * 4;
    const d = this.data;
    const dstA = d[i + 3] / 255;
    const outA = a + dstA * (1 - a);
    for (let c = 0; c < 3; c++) d[i + c] = Math.round((rgb[c] * a + d[i + c] * dstA * (1 - a)) / outA);
    d[i + 3] = Math.round(outA * 255);
  }

  /** Fills the axis-aligned rectangle [x0, x1] x [y0, y1] (fractional edges give partial coverage). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: string, opacity = 1): void {
    const rgb = parseColor(color);
    if (x1 < x0) [x0, x1] = [x1, x0];
    if (y1 < y0) [y0, y1] = [y1, y0];
    const px0 = Math.max(0, Math.floor(x0));
    const px1 = Math.min(this.width - 1, Math.ceil(x1) - 1);
    const py0 = Math.max(0, Math.floor(y0));
    const py1 = Math.min(this.height - 1, Math.ceil(y1) - 1);
    for (let y = py0; y <= py1; y++) {
      const cy = Math.min(y + 1, y1) - Math.max(y, y0);
      for (let x = px0; x <= px1; x++) {
        const cx = Math.min(x + 1, x1) - Math.max(x, x0);
        this.blend(x, y, rgb, cx * cy * opacity);
      }
    }
  }

  /** A straight line of the given width with round ends; `dash` draws dashes of that length. */
  line(x1: number, y1: number, x2: number, y2: number, color: string, width = 1, dash?: number): void {
    if (dash && dash > 0) {
      const length = Math.hypot(x2 - x1, y2 - y1);
      const gap = dash * 0.75;
      for (let s = 0; s < length; s += dash + gap) {
        const e = Math.min(length, s + dash);
        const t0 = s / length;
        const t1 = e / length;
        this.line(x1 + (x2 - x1) * t0, y1 + (y2 - y1) * t0, x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1, color, width);
      }
      return;
    }
    const rgb = parseColor(color);
    const half = width / 2;
    const dx = x2 - x1;
    const dy = y2 - y1;
    const len2 = dx * dx + dy * dy;
    const xa = Math.max(0, Math.floor(Math.min(x1, x2) - half - 1));
    const xb = Math.min(this.width - 1, Math.ceil(Math.max(x1, x2) + half + 1));
    const ya = Math.max(0, Math.floor(Math.min(y1, y2) - half - 1));
    const yb = Math.min(this.height - 1, Math.ceil(Math.max(y1, y2) + half + 1));
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2));
        const dist = Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
        this.blend(x, y, rgb, Math.min(1, half + 0.5 - dist));
      }
    }
  }

  polyline(points: [number, number][], color: string, width = 1, dash?: number): void {
    for (let i = 1; i < points.length; i++) this.line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1], color, width, dash);
  }

  /** A filled disc, and / or its outline of `strokeWidth` in `stroke`. */
  circle(cx: number, cy: number, r: number, fill: string | null, stroke?: string, strokeWidth = 1): void {
    const fillRgb = fill ? parseColor(fill) : null;
    const strokeRgb = stroke ? parseColor(stroke) : null;
    const reach = r + strokeWidth + 1;
    for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(this.height - 1, Math.ceil(cy + reach)); y++) {
      for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(this.width - 1, Math.ceil(cx + reach)); x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        if (fillRgb) this.blend(x, y, fillRgb, Math.min(1, r + 0.5 - d));
        if (strokeRgb) this.blend(x, y, strokeRgb, Math.min(1, strokeWidth / 2 + 0.5 - Math.abs(d - r)));
      }
    }
  }

  /** A filled polygon (even-odd rule), anti-aliased by 4 x 4 samples per pixel. */
  polygon(points: [number, number][], fill: string, stroke?: string, strokeWidth = 1): void {
    const rgb = parseColor(fill);
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const inside = (px: number, py: number): boolean => {
      let hit = false;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [xi, yi] = points[i];
        const [xj, yj] = points[j];
        if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) hit = !hit;
      }
      return hit;
    };
    for (let y = Math.max(0, Math.floor(Math.min(...ys))); y <= Math.min(this.height - 1, Math.ceil(Math.max(...ys))); y++) {
      for (let x = Math.max(0, Math.floor(Math.min(...xs))); x <= Math.min(this.width - 1, Math.ceil(Math.max(...xs))); x++) {
        let hits = 0;
        for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4)) hits++;
        this.blend(x, y, rgb, hits / 16);
      }
    }
    if (stroke) for (let i = 0; i < points.length; i++) this.line(...points[i], ...points[(i + 1) % points.length], stroke, strokeWidth);
  }

  /**
   * Text in the bitmap font, vertically centred on y (capital height = 0.7 x size), anchored
   * horizontally; rotate -90 turns it to read bottom to top around (x, y).
   */
  text(x: number, y: number, text: string, style: TextStyle): void {
    const unit = style.size / 10;
    const color = style.color ?? '#000000';
    const width = textWidth(text, style.size) - unit; // the last character has no gap
    const start = style.anchor === 'middle' ? -width / 2 : style.anchor === 'end' ? -width : 0;
    const top = -(CAP_HEIGHT * unit) / 2;
    const grow = style.bold ? unit * 0.45 : 0;
    const chars = [...text];
    chars.forEach((ch, k) => {
      for (const [col, row] of glyphDots(ch)) {
        // in text coordinates: u along the reading direction, v downwards across it
        const u0 = start + (k * CHAR_ADVANCE + col) * unit;
        const v0 = top + row * unit;
        const u1 = u0 + unit + grow;
        const v1 = v0 + unit;
        if (style.rotate === -90) this.fillRect(x + v0, y - u1, x + v1, y - u0, color);
        else this.fillRect(x + u0, y + v0, x + u1, y + v1, color);
      }
    });
  }

  /** The canvas as a PNG file. */
  toPng(): Uint8Array {
    return encodePng(new Uint8Array(this.data.buffer, this.data.byteOffset, this.data.byteLength), this.width, this.height, 4);
  }
}

function drawShape(r: Raster, s: Shape, k: number): void {
  switch (s.kind) {
    case 'rect':
      if (s.fill && s.fill !== 'none') r.fillRect(s.x * k, s.y * k, (s.x + s.width) * k, (s.y + s.height) * k, s.fill, s.fillOpacity ?? 1);
      if (s.stroke) {
        const x0 = s.x * k;
        const y0 = s.y * k;
        const x1 = (s.x + s.width) * k;
        const y1 = (s.y + s.height) * k;
        const w = (s.strokeWidth ?? 1) * k;
        r.polyline(
          [
            [x0, y0],
            [x1, y0],
            [x1, y1],
            [x0, y1],
            [x0, y0],
          ],
          s.stroke,
          w,
        );
      }
      break;
    case 'line':
      r.line(s.x1 * k, s.y1 * k, s.x2 * k, s.y2 * k, s.stroke, (s.strokeWidth ?? 1) * k, s.dash ? s.dash * k : undefined);
      break;
    case 'polyline':
      r.polyline(
        s.points.map(([x, y]): [number, number] => [x * k, y * k]),
        s.stroke,
        (s.strokeWidth ?? 1) * k,
        s.dash ? s.dash * k : undefined,
      );
      break;
    case 'circle':
      r.circle(s.cx * k, s.cy * k, s.r * k, s.fill && s.fill !== 'none' ? s.fill : null, s.stroke, (s.strokeWidth ?? 1) * k);
      break;
    case 'polygon':
      r.polygon(
        s.points.map(([x, y]): [number, number] => [x * k, y * k]),
        s.fill,
        s.stroke,
        (s.strokeWidth ?? 1) * k,
      );
      break;
    case 'text':
      r.text(s.x * k, s.y * k, s.text, { size: s.size * k, color: s.color, anchor: s.anchor, bold: s.bold, rotate: s.rotate });
      break;
  }
}

export interface RasterOptions {
  /** Pixels per scene unit (default 2: a 640 x 420 chart becomes a 1280 x 840 PNG). */
  scale?: number;
}

/** Draws a scene into a new Raster. */
export function rasterizeScene(scene: Scene, options: RasterOptions = {}): Raster {
  const k = options.scale ?? 2;
  if (!(k > 0)) throw new RangeError(`scale: expected a positive number, got ${k}`);
  const r = new Raster(Math.round(scene.width * k), Math.round(scene.height * k), scene.background);
  for (const s of scene.shapes) drawShape(r, s, k);
  return r;
}

/** A scene as a PNG file. */
export function sceneToPng(scene: Scene, options?: RasterOptions): Uint8Array {
  return rasterizeScene(scene, options).toPng();
}

/** Grouped box plots as PNG (the same layout as boxPlotSvg). */
export function boxPlotPng(data: BoxPlotData, options: ChartOptions & RasterOptions = {}): Uint8Array {
  return sceneToPng(boxPlotScene(data, options), options);
}

/** A line chart as PNG (the same layout as lineChartSvg). */
export function lineChartPng(data: LineChartData, options: ChartOptions & RasterOptions = {}): Uint8Array {
  return sceneToPng(lineChartScene(data, options), options);
}
