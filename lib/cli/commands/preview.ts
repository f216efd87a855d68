// slice-distill preview: one axial slice of a NIfTI image, windowed, labels overlaid, as PNG.
import { parseWindowOption } from '../window-option.js';
import { writeFile } from 'node:fs/promises';
import type { CommandSpec } from '../args.js';

export const previewCommand: CommandSpec = {
  name: 'preview',
  summary: 'Render an axial slice of a NIfTI image (with its labels as colours) to a PNG file.',
  description:
    'The slice is shown radiologically (patient right on the left, anterior at the top) after\n' +
    'reorientation to RAS; Z counts RAS slices from the bottom (inferior). Colours: spleen purple,\n' +
    'right kidney yellow, left kidney orange, liver red, stomach green, aorta blue.',
  positionals: [{ name: 'file', description: 'The image (.nii or .nii.gz)' }],
  options: {
    labels: { type: 'string', description: 'Label image on the same grid (class ids 0..6)', placeholder: 'FILE', short: 'l' },
    z: { type: 'integer', description: 'RAS slice index (default: the slice with most labels, else the middle)', placeholder: 'Z' },
    out: { type: 'string', description: 'PNG file to write', required: true, placeholder: 'FILE', short: 'o' },
    window: { type: 'string', description: 'HU window LO,HI', default: '-175,250', placeholder: 'LO,HI' },
    size: { type: 'integer', description: 'Pixels along the longer side', default: 512 },
    alpha: { type: 'number', description: 'Overlay opacity 0..1', default: 0.4 },
  },
  examples: ['slice-distill preview ct.nii.gz --labels seg.nii.gz --z 85 --out slice.png'],
  async run(args, io) {
    const nifti = await import('../../data/nifti.js');
    const { renderPreview } = await import('../../data/preview.js');
    const { CLASSES } = await import('../../data/labels.js');
    const { UsageError } = await import('../args.js');
    const o = args.options;
    const win = parseWindowOption(o.window, 'preview');
    const alpha = o.alpha as number;
    if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha expects a number in 0..1, got ${alpha}`, 'preview');
    if (!((o.size as number) >= 16)) throw new UsageError(`--size expects at least 16, got ${o.size}`, 'preview');
    const image = await nifti.read(args.positionals[0]);
    const labels = o.labels ? await nifti.read(String(o.labels)) : null;
    if (o.z !== undefined && !((o.z as number) >= 0 && (o.z as number) < image.shape[2])) {
      throw new UsageError(`--z ${o.z} is outside 0..${image.shape[2] - 1} (the image has ${image.shape[2]} slices)`, 'preview');
    }
    if (labels && labels.shape.some((v, i) => v !== image.shape[i])) {
      throw new UsageError(`--labels has shape [${labels.shape.join(', ')}] but the image has [${image.shape.join(', ')}]`, 'preview');
    }
    const p = renderPreview(image, labels, { z: o.z as number | undefined, window: win, alpha, size: o.size as number });
    await writeFile(String(o.out), p.png);
    const present = p.counts
      .map((c, k) => [k, c])
      .filter(([k, c]) => k > 0 && c > 0)
      .map(([k, c]) => `${CLASSES[k]} ${c}`);
    io.stdout(
      `wrote ${o.out} (${p.width} x ${p.height}), slice z = ${p.z} of ${image.shape[2]}${labels ? `; labelled voxels: ${present.join(', ') || 'none'}` : ''}\n`,
    );
    return 0;
  },
};
