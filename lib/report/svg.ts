// SVG output of scenes: box plots per organ, the low-data line chart, overlay figures.

import { boxPlotScene, lineChartScene, type BoxPlotData, type ChartOptions, type LineChartData, type Scene, type Shape } from './charts.js';

/** Escapes text for XML / HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

function strokeAttrs(stroke: string | undefined, width: number | undefined, dash?: number): string {
  if (!stroke) return '';
  const w = width ?? 1;
  return ` stroke="${escapeXml(stroke)}" stroke-width="${num(w)}"${dash ? ` stroke-dasharray="${num(dash)} ${num(dash * 0.75)}"` : ''}`;
}

function shapeToSvg(s: Shape): string {
  switch (s.kind) {
    case 'rect':
      return `<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.width)}" height="${num(s.height)}" fill="${escapeXml(s.fill ?? 'none')}"${s.fillOpacity !== undefined ? ` fill-opacity="${s.fillOpacity}"` : ''}${strokeAttrs(s.stroke, s.strokeWidth)}/>`;
    case 'line':
      return `<line x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}"${strokeAttrs(s.stroke, s.strokeWidth, s.dash)}/>`;
    case 'polyline':
      return `<polyline points="${s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ')}" fill="none" stroke-linejoin="round"${strokeAttrs(s.stroke, s.strokeWidth, s.dash)}/>`;
    case 'circle':
      return `<circle cx="${num(s.cx)}" cy="${num(s.cy)}" r="${num(s.r)}" fill="${escapeXml(s.fill ?? 'none')}"${strokeAttrs(s.stroke, s.strokeWidth)}/>`;
    case 'polygon':
      return `<polygon points="${s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ')}" fill="${escapeXml(s.fill)}"${strokeAttrs(s.stroke, s.strokeWidth)}/>`;
    case 'text': {
      const anchor = s.anchor ?? 'start';
      const rotate = s.rotate ? ` transform="rotate(${s.rotate} ${num(s.x)} ${num(s.y)})"` : '';
      return `<text x="${num(s.x)}" y="${num(s.y)}" font-size="${num(s.size)}" text-anchor="${anchor}" dominant-baseline="central" fill="${escapeXml(s.color ?? '#000000')}"${s.bold ? ' font-weight="bold"' : ''}${rotate}>${escapeXml(s.text)}</text>`;
    }
    case 'image':
      return `<image x="${num(s.x)}" y="${num(s.y)}" width="${num(s.width)}" height="${num(s.height)}" image-rendering="pixelated" style="image-rendering:pixelated" href="data:image/png;base64,${Buffer.from(s.png).toString('base64')}"/>`;
  }
}

/** A standalone SVG document (no XML prolog, so it can also be inlined in HTML). */
export function sceneToSvg(scene: Scene): string {
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" role="img" aria-label="${escapeXml(scene.title)}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(scene.title)}</title>`,
    `<rect x="0" y="0" width="${scene.width}" height="${scene.height}" fill="${escapeXml(scene.background)}"/>`,
    ...scene.shapes.map(shapeToSvg),
    '</svg>',
  ];
  return lines.join('\n');
}

/** Grouped box plots (e.g. Dice per organ, with and without distillation) as SVG. */
export function boxPlotSvg(data: BoxPlotData, options?: ChartOptions): string {
  return sceneToSvg(boxPlotScene(data, options));
}

/** A line chart (e.g. mean Dice against the number of training subjects) as SVG. */
export function lineChartSvg(data: LineChartData, options?: ChartOptions): string {
  return sceneToSvg(lineChartScene(data, options));
}
