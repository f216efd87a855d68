// One palette for every picture of the seven classes: preview PNGs, the report's overlays and
// legends, and the label descriptions written beside predictions (ITK-SNAP, 3D Slicer), so an
// organ has the same colour wherever a user meets it.

/** Colours per class id as hex: 0 background (none), 1 spleen, 2 right kidney, 3 left kidney, 4 liver, 5 stomach, 6 aorta. */
export const CLASS_COLORS: readonly (string | null)[] = [null, '#9b59d0', '#f0c419', '#2ec4b6', '#e4572e', '#4f8ff0', '#ff3fa4'];

function rgb(hex: string | null): [number, number, number] {
  if (!hex) return [0, 0, 0];
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The same colours as [r, g, b] bytes (background black). */
export const CLASS_RGB: readonly [number, number, number][] = CLASS_COLORS.map(rgb);
