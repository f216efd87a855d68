// Chart layout: a figure is first laid out as a list of simple shapes in pixel coordinates (a
// Scene), then written as SVG (svg.ts), which png.ts renders to PNG.

export type Anchor = 'start' | 'middle' | 'end';

export type Shape =
  | { kind: 'rect'; x: number; y: number; width: number; height: number; fill?: string; fillOpacity?: number; stroke?: string; strokeWidth?: number }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; stroke: string; strokeWidth?: number; dash?: number }
  | { kind: 'polyline'; points: [number, number][]; stroke: string; strokeWidth?: number; dash?: number }
  | { kind: 'circle'; cx: number; cy: number; r: number; fill?: string; stroke?: string; strokeWidth?: number }
  | { kind: 'polygon'; points: [number, number][]; fill: string; stroke?: string; strokeWidth?: number }
  /** Text centred vertically on y; rotate -90 reads bottom to top around (x, y). */
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor?: Anchor; color?: string; bold?: boolean; rotate?: 0 | -90 }
  /** A PNG drawn pixel for pixel (no smoothing), e.g. a slice with its label overlay. */
  | { kind: 'image'; x: number; y: number; width: number; height: number; png: Uint8Array };

export interface Scene {
  width: number;
  height: number;
  background: string;
  /** Used as the SVG title / accessible name. */
  title: string;
  shapes: Shape[];
}

/** Okabe-Ito colours (distinguishable with the common colour-vision deficiencies). */
export const SERIES_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';
const MARKERS: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];

const AXIS = '#333333';
const GRID = '#dddddd';
const TEXT = '#222222';

// ---------------------------------------------------------------- numbers

/** Quantile with linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BoxStats {
  n: number;
  q1: number;
  median: number;
  q3: number;
  mean: number;
  /** The most extreme values inside [q1 - 1.5 IQR, q3 + 1.5 IQR] (Tukey's whiskers). */
  whiskerLow: number;
  whiskerHigh: number;
  outliers: number[];
}

/** Box-plot statistics of finite values (NaN / null entries are dropped); null when none is left. */
export function boxStats(values: readonly (number | null)[]): BoxStats | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const q1 = quantile(v, 0.25);
  const q3 = quantile(v, 0.75);
  const iqr = q3 - q1;
  const lowFence = q1 - 1.5 * iqr;
  const highFence = q3 + 1.5 * iqr;
  const inside = v.filter((x) => x >= lowFence && x <= highFence);
  return {
    n: v.length,
    q1,
    median: quantile(v, 0.5),
    q3,
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    whiskerLow: inside[0],
    whiskerHigh: inside[inside.length - 1],
    outliers: v.filter((x) => x < lowFence || x > highFence),
  };
}

/** About `count` round tick values (steps 1, 2, 2.5 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = first + i * step;
    ticks.push(Number(t.toPrecision(12)));
    if (t >= max - step * 1e-9) break;
  }
  return ticks;
}

/** A tick label with just the decimals the step needs. */
export function formatTick(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9) + (String(step).includes('25') ? 1 : 0)));
  return value.toFixed(decimals);
}

/** Approximate text width in pixels for layout (DejaVu Sans averages about 0.6 em per character). */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * 0.6;
}

// ---------------------------------------------------------------- common layout

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

interface LegendItem {
  label: string;
  color: string;
  marker?: MarkerShape;
  line?: boolean;
  dash?: boolean;
}

function markerShape(shape: MarkerShape, x: number, y: number, size: number, color: string): Shape {
  const s = size;
  switch (shape) {
    case 'circle':
      return { kind: 'circle', cx: x, cy: y, r: s, fill: color, stroke: '#ffffff', strokeWidth: 1 };
    case 'square':
      return { kind: 'rect', x: x - s, y: y - s, width: 2 * s, height: 2 * s, fill: color, stroke: '#ffffff', strokeWidth: 1 };
    case 'triangle':
      return {
        kind: 'polygon',
        points: [
          [x, y - 1.2 * s],
          [x + 1.15 * s, y + 0.9 * s],
          [x - 1.15 * s, y + 0.9 * s],
        ],
        fill: color,
        stroke: '#ffffff',
        strokeWidth: 1,
      };
    case 'diamond':
      return {
        kind: 'polygon',
        points: [
          [x, y - 1.3 * s],
          [x + 1.3 * s, y],
          [x, y + 1.3 * s],
          [x - 1.3 * s, y],
        ],
        fill: color,
        stroke: '#ffffff',
        strokeWidth: 1,
      };
  }
}

/** Legend items laid out in rows centred at `y`, wrapping within [left, right]; returns the height used. */
function legend(shapes: Shape[], items: LegendItem[], left: number, right: number, y: number, size: number): number {
  const rows: LegendItem[][] = [[]];
  const itemWidth = (it: LegendItem): number => 28 + textWidth(it.label, size) + 16;
  let used = 0;
  for (const it of items) {
    const w = itemWidth(it);
    if (used + w > right - left && rows[rows.length - 1].length > 0) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(it);
    used += w;
  }
  const rowHeight = size + 8;
  rows.forEach((row, r) => {
    const total = row.reduce((s, it) => s + itemWidth(it), 0) - 16;
    let x = (left + right) / 2 - total / 2;
    const cy = y + r * rowHeight;
    for (const it of row) {
      if (it.line) {
        shapes.push({ kind: 'line', x1: x, y1: cy, x2: x + 22, y2: cy, stroke: it.color, strokeWidth: 2, dash: it.dash ? 4 : undefined });
        if (it.marker) shapes.push(markerShape(it.marker, x + 11, cy, 4, it.color));
      } else {
        shapes.push({ kind: 'rect', x: x + 3, y: cy - 7, width: 16, height: 14, fill: it.color, fillOpacity: 0.45, stroke: it.color, strokeWidth: 1.5 });
      }
      shapes.push({ kind: 'text', x: x + 28, y: cy, text: it.label, size, anchor: 'start', color: TEXT });
      x += itemWidth(it);
    }
  });
  return rows.length * rowHeight;
}

function yAxis(shapes: Shape[], frame: Frame, ticks: number[], toY: (v: number) => number, label: string | undefined, size: number): void {
  for (const t of ticks) {
    const y = Math.round(toY(t));
    shapes.push({ kind: 'line', x1: frame.left, y1: y, x2: frame.right, y2: y, stroke: GRID, strokeWidth: 1 });
    shapes.push({ kind: 'line', x1: frame.left - 5, y1: y, x2: frame.left, y2: y, stroke: AXIS, strokeWidth: 1 });
    shapes.push({ kind: 'text', x: frame.left - 8, y, text: formatTick(t, ticks), size, anchor: 'end', color: TEXT });
  }
  shapes.push({ kind: 'line', x1: frame.left, y1: frame.top, x2: frame.left, y2: frame.bottom, stroke: AXIS, strokeWidth: 1 });
  if (label) {
    const widest = Math.max(0, ...ticks.map((t) => textWidth(formatTick(t, ticks), size)));
    shapes.push({
      kind: 'text',
      x: frame.left - 16 - widest - size / 2,
      y: (frame.top + frame.bottom) / 2,
      text: label,
      size,
      anchor: 'middle',
      color: TEXT,
      rotate: -90,
    });
  }
}

// ---------------------------------------------------------------- box plot

export interface BoxPlotSeries {
  /** Legend name, e.g. 'no distillation' or 'distilled (UNesT)'. */
  name: string;
  /** One array of values per group (organ), aligned with BoxPlotData.groups; null entries are skipped. */
  values: (number | null)[][];
  color?: string;
}

export interface BoxPlotData {
  title: string;
  /** Group (x axis) labels, e.g. organ names. */
  groups: string[];
  series: BoxPlotSeries[];
  yLabel?: string;
  /** Fixed y range; default: the data range, rounded to ticks. */
  yRange?: [number, number];
}

export interface ChartOptions {
  width?: number;
  height?: number;
  fontSize?: number;
}

/** Grouped box plots (one box per series in every group), whiskers at 1.5 IQR, outliers as dots. */
export function boxPlotScene(data: BoxPlotData, options: ChartOptions = {}): Scene {
  const size = options.fontSize ?? 12;
  const nSeries = Math.max(1, data.series.length);
  const groupWidth = Math.max(112, nSeries * 30 + 40);
  const width = options.width ?? Math.max(560, 90 + data.groups.length * groupWidth + 20);
  const height = options.height ?? 420;
  const shapes: Shape[] = [];
  shapes.push({ kind: 'text', x: width / 2, y: 18, text: data.title, size: size + 4, anchor: 'middle', color: TEXT, bold: true });
  const legendHeight = legend(
    shapes,
    data.series.map((s, i) => ({ label: s.name, color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length] })),
    20,
    width - 20,
    44,
    size,
  );
  // a second row under the organ names: n per box
  const frame: Frame = { left: 78, top: 44 + legendHeight + 4, right: width - 16, bottom: height - 54 };

  const stats = data.series.map((s) => data.groups.map((_, g) => boxStats(s.values[g] ?? [])));
  const all = stats.flat().filter((b): b is BoxStats => b !== null);
  let lo = data.yRange?.[0] ?? Math.min(...all.map((b) => Math.min(b.whiskerLow, ...b.outliers)));
  let hi = data.yRange?.[1] ?? Math.max(...all.map((b) => Math.max(b.whiskerHigh, ...b.outliers)));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  const ticks = niceTicks(lo, hi, 6);
  const y0 = data.yRange ? data.yRange[0] : Math.min(lo, ticks[0]);
  const y1 = data.yRange ? data.yRange[1] : Math.max(hi, ticks[ticks.length - 1]);
  const toY = (v: number): number => frame.bottom - ((v - y0) / (y1 - y0 || 1)) * (frame.bottom - frame.top);
  yAxis(
    shapes,
    frame,
    ticks.filter((t) => t >= y0 - 1e-12 && t <= y1 + 1e-12),
    toY,
    data.yLabel,
    size,
  );
  shapes.push({ kind: 'line', x1: frame.left, y1: frame.bottom, x2: frame.right, y2: frame.bottom, stroke: AXIS, strokeWidth: 1 });

  const slot = (frame.right - frame.left) / Math.max(1, data.groups.length);
  const boxWidth = Math.min(26, (slot * 0.8) / nSeries - 4);
  data.groups.forEach((group, g) => {
    const cx = frame.left + slot * (g + 0.5);
    shapes.push({ kind: 'text', x: cx, y: frame.bottom + 16, text: group, size, anchor: 'middle', color: TEXT });
    if (g > 0) {
      const sep = Math.round(frame.left + slot * g);
      shapes.push({ kind: 'line', x1: sep, y1: frame.bottom, x2: sep, y2: frame.bottom + 5, stroke: AXIS, strokeWidth: 1 });
    }
    data.series.forEach((s, i) => {
      const b = stats[i][g];
      if (!b) return;
      const color = s.color ?? SERIES_COLORS[i % SERIES_COLORS.length];
      const x = cx + (i - (nSeries - 1) / 2) * (boxWidth + 4);
      const half = boxWidth / 2;
      shapes.push({ kind: 'line', x1: x, y1: toY(b.q3), x2: x, y2: toY(b.whiskerHigh), stroke: color, strokeWidth: 1.5 });
      shapes.push({ kind: 'line', x1: x, y1: toY(b.q1), x2: x, y2: toY(b.whiskerLow), stroke: color, strokeWidth: 1.5 });
      shapes.push({ kind: 'line', x1: x - half / 2, y1: toY(b.whiskerHigh), x2: x + half / 2, y2: toY(b.whiskerHigh), stroke: color, strokeWidth: 1.5 });
      shapes.push({ kind: 'line', x1: x - half / 2, y1: toY(b.whiskerLow), x2: x + half / 2, y2: toY(b.whiskerLow), stroke: color, strokeWidth: 1.5 });
      shapes.push({
        kind: 'rect',
        x: x - half,
        y: toY(b.q3),
        width: boxWidth,
        height: Math.max(1, toY(b.q1) - toY(b.q3)),
        fill: color,
        fillOpacity: 0.35,
        stroke: color,
        strokeWidth: 1.5,
      });
      shapes.push({ kind: 'line', x1: x - half, y1: toY(b.median), x2: x + half, y2: toY(b.median), stroke: '#111111', strokeWidth: 2 });
      for (const o of b.outliers) shapes.push({ kind: 'circle', cx: x, cy: toY(o), r: 2.5, fill: color });
      shapes.push({ kind: 'text', x, y: frame.bottom + 32, text: String(b.n), size: size - 2, anchor: 'middle', color });
    });
  });
  return { width, height, background: '#ffffff', title: data.title, shapes };
}

// ---------------------------------------------------------------- line chart

export interface LineSeries {
  name: string;
  /** sd: drawn as an error bar of ± sd (e.g. the spread across seeds). */
  points: { x: number; y: number; sd?: number | null }[];
  color?: string;
  marker?: MarkerShape;
  dashed?: boolean;
}

export interface LineChartData {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: LineSeries[];
  /** Horizontal reference lines, e.g. the undistilled model trained on every subject. */
  references?: { y: number; label: string; color?: string }[];
  /** Tick positions on x; default: the distinct x values when there are at most 10, else round ticks. */
  xTicks?: number[];
  yRange?: [number, number];
}

/** Lines with markers (x sorted), one per series; axis ticks and labels, legend and title. */
export function lineChartScene(data: LineChartData, options: ChartOptions = {}): Scene {
  const size = options.fontSize ?? 12;
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const shapes: Shape[] = [];
  shapes.push({ kind: 'text', x: width / 2, y: 18, text: data.title, size: size + 4, anchor: 'middle', color: TEXT, bold: true });
  const items: LegendItem[] = data.series.map((s, i) => ({
    label: s.name,
    color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length],
    marker: s.marker ?? MARKERS[i % MARKERS.length],
    line: true,
    dash: s.dashed,
  }));
  for (const r of data.references ?? []) items.push({ label: r.label, color: r.color ?? '#777777', line: true, dash: true });
  const legendHeight = legend(shapes, items, 20, width - 20, 44, size);
  const frame: Frame = { left: 78, top: 44 + legendHeight + 4, right: width - 24, bottom: height - (data.xLabel ? 56 : 40) };

  const xs = data.series.flatMap((s) => s.points.map((p) => p.x)).filter(Number.isFinite);
  const ys = [
    ...data.series.flatMap((s) => s.points.flatMap((p) => (p.sd ? [p.y - p.sd, p.y + p.sd] : [p.y]))),
    ...(data.references ?? []).map((r) => r.y),
  ].filter(Number.isFinite);
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const xTicks = data.xTicks ?? (distinct.length > 0 && distinct.length <= 10 ? distinct : niceTicks(Math.min(...xs, 0), Math.max(...xs, 1), 6));
  const xMin = Math.min(...xTicks, ...xs);
  const xMax = Math.max(...xTicks, ...xs);
  const xPad = (xMax - xMin || 1) * 0.06;
  const toX = (v: number): number => frame.left + ((v - (xMin - xPad)) / (xMax - xMin + 2 * xPad)) * (frame.right - frame.left);
  let lo = data.yRange?.[0] ?? (ys.length ? Math.min(...ys) : 0);
  let hi = data.yRange?.[1] ?? (ys.length ? Math.max(...ys) : 1);
  if (!data.yRange) {
    const pad = (hi - lo || Math.abs(hi) * 0.1 || 0.1) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const yTicks = niceTicks(lo, hi, 6).filter((t) => t >= lo - 1e-12 && t <= hi + 1e-12);
  const toY = (v: number): number => frame.bottom - ((v - lo) / (hi - lo || 1)) * (frame.bottom - frame.top);
  yAxis(shapes, frame, yTicks, toY, data.yLabel, size);
  shapes.push({ kind: 'line', x1: frame.left, y1: frame.bottom, x2: frame.right, y2: frame.bottom, stroke: AXIS, strokeWidth: 1 });
  for (const t of xTicks) {
    const x = Math.round(toX(t));
    shapes.push({ kind: 'line', x1: x, y1: frame.bottom, x2: x, y2: frame.bottom + 5, stroke: AXIS, strokeWidth: 1 });
    shapes.push({
      kind: 'text',
      x,
      y: frame.bottom + 16,
      text: distinct.length <= 10 && !data.xTicks ? String(t) : formatTick(t, xTicks),
      size,
      anchor: 'middle',
      color: TEXT,
    });
  }
  if (data.xLabel)
    shapes.push({ kind: 'text', x: (frame.left + frame.right) / 2, y: frame.bottom + 38, text: data.xLabel, size, anchor: 'middle', color: TEXT });

  for (const r of data.references ?? []) {
    const y = toY(r.y);
    shapes.push({ kind: 'line', x1: frame.left, y1: y, x2: frame.right, y2: y, stroke: r.color ?? '#777777', strokeWidth: 1.5, dash: 6 });
  }
  data.series.forEach((s, i) => {
    const color = items[i].color;
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    const xy = pts.map((p): [number, number] => [toX(p.x), toY(p.y)]);
    if (xy.length > 1) shapes.push({ kind: 'polyline', points: xy, stroke: color, strokeWidth: 2, dash: s.dashed ? 6 : undefined });
    pts.forEach((p, j) => {
      if (!(p.sd && Number.isFinite(p.sd))) return;
      const [x] = xy[j]!;
      const [top, bottom] = [toY(p.y + p.sd), toY(p.y - p.sd)];
      shapes.push({ kind: 'line', x1: x, y1: top, x2: x, y2: bottom, stroke: color, strokeWidth: 1.5 });
      for (const yy of [top, bottom]) shapes.push({ kind: 'line', x1: x - 4, y1: yy, x2: x + 4, y2: yy, stroke: color, strokeWidth: 1.5 });
    });
    for (const [x, y] of xy) shapes.push(markerShape(items[i].marker!, x, y, 4, color));
  });
  return { width, height, background: '#ffffff', title: data.title, shapes };
}
