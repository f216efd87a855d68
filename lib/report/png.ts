// PNG figures: the report's SVG drawn by resvg (a maintained renderer, a prebuilt binary per
// platform) with the DejaVu fonts of the npm package and no system fonts, so a figure's text
// looks the same on every machine.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Resvg as ResvgClass } from '@resvg/resvg-js';
import { boxPlotScene, lineChartScene, type BoxPlotData, type ChartOptions, type LineChartData, type Scene } from './charts.js';
import { sceneToSvg } from './svg.js';

export type RGB = [number, number, number];

/** Parses '#rgb' or '#rrggbb'. */
export function parseColor(color: string): RGB {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!m) throw new RangeError(`color: expected #rgb or #rrggbb, got ${color}`);
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export interface PngOptions {
  /** Pixels per SVG unit (default 2: a 640 x 420 chart becomes a 1280 x 840 PNG). */
  scale?: number;
}

const require = createRequire(import.meta.url);
let renderer: { Resvg: typeof ResvgClass; fontFiles: string[] } | undefined;

// Loaded on the first figure: importing the library does not load resvg's binary.
function resvg(): { Resvg: typeof ResvgClass; fontFiles: string[] } {
  if (!renderer) {
    const fonts = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    renderer = {
      Resvg: (require('@resvg/resvg-js') as { Resvg: typeof ResvgClass }).Resvg,
      fontFiles: ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(fonts, f)),
    };
  }
  return renderer;
}

/** An SVG document as a PNG file. */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const k = options.scale ?? 2;
  if (!(k > 0)) throw new RangeError(`scale: expected a positive number, got ${k}`);
  const { Resvg, fontFiles } = resvg();
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: k },
    font: { fontFiles, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    shapeRendering: 2,
    textRendering: 1,
    imageRendering: 1, // embedded label overlays stay crisp (optimizeSpeed: nearest neighbour)
  });
  return new Uint8Array(image.render().asPng());
}

/** A scene as a PNG file (the same drawing as sceneToSvg). */
export function sceneToPng(scene: Scene, options?: PngOptions): Uint8Array {
  return svgToPng(sceneToSvg(scene), options);
}

/** Grouped box plots as PNG (the same layout as boxPlotSvg). */
export function boxPlotPng(data: BoxPlotData, options: ChartOptions & PngOptions = {}): Uint8Array {
  return sceneToPng(boxPlotScene(data, options), options);
}

/** A line chart as PNG (the same layout as lineChartSvg). */
export function lineChartPng(data: LineChartData, options: ChartOptions & PngOptions = {}): Uint8Array {
  return sceneToPng(lineChartScene(data, options), options);
}
