// Label descriptions that viewers read beside a label map, so they show organ names in the
// report's colours: an ITK-SNAP label description file and a 3D Slicer colour table.
import { CLASS_RGB } from './class-colors.js';
import { CLASSES } from './labels.js';

/** File names written beside predictions. */
export const ITKSNAP_LABELS_FILE = 'labels.itksnap.txt';
export const SLICER_COLORS_FILE = 'labels.ctbl';

/** ITK-SNAP's "Label Description File": IDX R G B A VIS MSH "LABEL" per line. */
export function itkSnapLabels(): string {
  const head = [
    '################################################',
    '# ITK-SnAP Label Description File',
    '# File format:',
    '# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL',
    '# slice-distill classes (0 background is clear)',
    '################################################',
  ];
  const rows = CLASSES.map((name, k) => {
    const [r, g, b] = CLASS_RGB[k]!;
    const visible = k === 0 ? 0 : 1;
    return `${String(k).padStart(5)} ${String(r).padStart(5)} ${String(g).padStart(4)} ${String(b).padStart(4)}  ${visible.toFixed(2)}  ${visible}  ${visible}    "${k === 0 ? 'Clear Label' : name}"`;
  });
  return [...head, ...rows].join('\n') + '\n';
}

/** 3D Slicer's colour table (.ctbl): "index name r g b a" per line; spaces in names become underscores, as Slicer's own tables write them. */
export function slicerColorTable(): string {
  const rows = CLASSES.map((name, k) => {
    const [r, g, b] = CLASS_RGB[k]!;
    return `${k} ${name.replace(/\s+/g, '_')} ${r} ${g} ${b} ${k === 0 ? 0 : 255}`;
  });
  return ['# Color table file slice-distill classes', `# ${CLASSES.length} values`, ...rows].join('\n') + '\n';
}
