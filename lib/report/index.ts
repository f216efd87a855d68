// Report: the comparison table, SVG / PNG charts, slice overlays and the self-contained HTML report.
export {
  buildTable,
  boxPlotFromResults,
  lowDataFromResults,
  type ComparisonTable,
  type TableRow,
  type TableCell,
  type TableTest,
  type TableOptions,
} from './table.js';
export {
  renderReport,
  writeReport,
  buildReport,
  formatP,
  type ReportData,
  type Figure,
  type RenderedFigure,
  type BuiltReport,
  type ReportJson,
  type ResultJson,
} from './html.js';
export {
  boxPlotScene,
  lineChartScene,
  boxStats,
  quantile,
  niceTicks,
  SERIES_COLORS,
  type Scene,
  type Shape,
  type BoxStats,
  type BoxPlotData,
  type BoxPlotSeries,
  type LineChartData,
  type LineSeries,
  type ChartOptions,
  type MarkerShape,
} from './charts.js';
export { sceneToSvg, boxPlotSvg, lineChartSvg, escapeXml } from './svg.js';
export { svgToPng, sceneToPng, boxPlotPng, lineChartPng, parseColor, type PngOptions } from './png.js';
/** The PNG codec (lib/util/png.ts), exported here only. */
export { encodePng, decodePng, crc32, type DecodedPng } from '../util/png.js';
export {
  CLASS_COLORS,
  CLASS_NAMES,
  HU_WINDOW,
  windowToGray,
  orient,
  overlayRgba,
  overlayFigureScene,
  overlayFigureSvg,
  overlayFigurePng,
  overlayPng,
  type OverlayStyle,
  type OverlayPanel,
  type OverlayFigureData,
  type Orientation,
} from './overlay.js';
export { diceTableText, primaryComparisonText, type ConsoleTableOptions } from './console-table.js';
export { armLabel, armLabels, comparisonLabel, type ArmNames } from './labels.js';
export { ciText, ciReading, signed, headlineSeed, primaryFor } from './comparison-format.js';
export { comparisonsHtml, unreachableNote } from './comparisons-html.js';
