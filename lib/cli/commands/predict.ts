// slice-distill predict: segment the user's NIfTI slices with a trained student.
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';
import { parseWindowOption } from '../window-option.js';
import type { Device } from '../../tensor/dtype.js';

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Segment NIfTI slices (or every axial slice of a volume) with a trained student; writes NAME_seg.nii.gz.',
  description:
    'Each input NAME.nii[.gz] gives OUT/NAME_seg.nii.gz: class ids (uint8: 0 background, 1 spleen, 2 right\n' +
    "kidney, 3 left kidney, 4 liver, 5 stomach, 6 aorta) on the input's own grid and geometry, so it opens\n" +
    'aligned over the input in a viewer. Folders are searched for .nii / .nii.gz files (not recursively).\n' +
    "Beside them: labels.itksnap.txt (ITK-SNAP) and labels.ctbl (3D Slicer) name the classes in the report's\n" +
    'colours; --stats adds stats.csv and stats.json (per slice and organ: pixels, area in mm2, HU of the input).',
  positionals: [{ name: 'input', description: 'NIfTI files (2D or 3D) or folders of them', variadic: true }],
  options: {
    checkpoint: { type: 'string', description: 'A student checkpoint (.ckpt) or TorchScript file (.pt)', required: true, placeholder: 'FILE' },
    out: { type: 'string', description: 'Output folder (created)', required: true, placeholder: 'DIR', short: 'o' },
    size: { type: 'integer', description: "Model input size (default: the model's recorded input size)" },
    window: { type: 'string', description: "HU window LO,HI (default: the checkpoint's recorded hu.window, else -175,250)", placeholder: 'LO,HI' },
    'fov-mm': {
      type: 'number',
      description: "The model grid's field of view in mm (default: the checkpoint's recorded student.fieldOfViewMm, else none)",
      placeholder: 'MM',
    },
    device: { type: 'string', description: 'cpu, cuda or cuda:N', default: 'cpu', placeholder: 'DEVICE' },
    'batch-size': { type: 'integer', description: 'Slices per forward pass', default: 16 },
    stats: { type: 'boolean', description: 'Also write stats.csv / stats.json: per slice and organ the pixels, area in mm2 and HU mean / SD / median / IQR' },
  },
  examples: ['slice-distill predict --checkpoint run/students/deeplabv3/distill-unest/best.ckpt --out seg/ slice1.nii.gz slices/'],
  async run(args, io) {
    const o = args.options;
    const device = String(o.device);
    if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device expects cpu, cuda or cuda:N, got '${device}'`, 'predict');
    if (!((o['batch-size'] as number) >= 1)) throw new UsageError(`--batch-size expects at least 1, got ${o['batch-size']}`, 'predict');
    const { predict } = await import('../../pipeline/stages/predict.js');
    const written = await predict({
      checkpoint: String(o.checkpoint),
      inputs: args.positionals,
      out: String(o.out),
      size: o.size as number | undefined,
      window: o.window === undefined ? undefined : parseWindowOption(o.window, 'predict'),
      fieldOfViewMm: o['fov-mm'] as number | undefined,
      device: device as Device,
      batchSize: o['batch-size'] as number,
      stats: o.stats === true,
      log: (line) => io.stderr(line + '\n'),
    });
    io.stdout(written.map((w) => w.output).join('\n') + '\n');
  },
};
