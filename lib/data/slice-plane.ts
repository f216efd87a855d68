// A single slice must be axial: a coronal or sagittal plane put into RAS order would become
// many axial slices one pixel thick, which a 2D student would segment as nonsense.
import { axisDirections, orientationOf, type Affine } from './geometry.js';

/** The problem with a one-slice image whose plane is not axial, or null (axial, or not one slice). */
export function nonAxialSliceProblem(shape: readonly number[], affine: Affine): string | null {
  const flat = shape.findIndex((n) => n === 1);
  if (flat < 0 || shape.filter((n) => n === 1).length !== 1) return null;
  const dirs = axisDirections(affine);
  const world = dirs[flat]!.axis; // 0 x (sagittal plane), 1 y (coronal), 2 z (axial)
  if (world === 2) return null;
  const superior = shape[dirs.findIndex((d) => d.axis === 2)]!;
  const plane = world === 0 ? 'sagittal' : 'coronal';
  return `a ${plane} single slice (orientation ${orientationOf(affine)}, shape [${shape.join(', ')}]); only axial slices can be segmented (a ${plane} plane is not reoriented: it would read as ${superior} one-pixel-thick axial slices)`;
}
