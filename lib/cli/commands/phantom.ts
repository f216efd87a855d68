// slice-distill phantom: writes a synthetic abdominal CT dataset folder.
import path from 'node:path';
import type { CommandSpec } from '../args.js';

export const phantomCommand: CommandSpec = {
  name: 'phantom',
  summary: 'Generate a synthetic abdominal CT dataset (3D volumes and unpaired 2D slices) with dataset.json.',
  description:
    'Volumes alternate non-contrast and portal-venous phases; single slices come from other subjects at\n' +
    'vertebral levels between about L4 and T10. The same seed gives byte-identical files.',
  options: {
    out: { type: 'string', description: 'Output folder (created)', required: true, placeholder: 'DIR', short: 'o' },
    volumes: { type: 'integer', description: 'Number of 3D volumes', default: 8 },
    slices: { type: 'integer', description: 'Number of 2D single slices', default: 40 },
    seed: { type: 'integer', description: 'Random seed', default: 0 },
    'volume-size': { type: 'string', description: 'Volume shape X,Y,Z', default: '64,64,48', placeholder: 'X,Y,Z' },
    'z-spacing': { type: 'number', description: 'Slice spacing of the volumes in mm', default: 6, placeholder: 'MM' },
    'slice-size': { type: 'integer', description: 'Single-slice width and height in pixels', default: 128 },
    'slice-phase': {
      type: 'string',
      description: 'Phase of the single slices: non-contrast, portal-venous or mixed',
      default: 'non-contrast',
      placeholder: 'PHASE',
    },
  },
  examples: ['slice-distill phantom --out data/phantom', 'slice-distill phantom --out /tmp/p --volumes 2 --slices 10 --seed 7'],
  async run(args, io) {
    const { generatePhantom, PHASES } = await import('../../data/phantom.js');
    const { UsageError } = await import('../args.js');
    const o = args.options;
    const shape = String(o['volume-size']).split(',').map(Number);
    if (shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
      throw new UsageError(`--volume-size expects three positive integers like 64,64,48, got '${o['volume-size']}'`, 'phantom');
    }
    const phase = String(o['slice-phase']);
    const choices: readonly string[] = [...PHASES, 'mixed'];
    if (!choices.includes(phase)) throw new UsageError(`--slice-phase expects ${choices.join(', ')}, got '${phase}'`, 'phantom');
    for (const k of ['volumes', 'slices', 'slice-size'] as const) {
      if ((o[k] as number) < 0 || (k === 'slice-size' && (o[k] as number) < 8)) throw new UsageError(`--${k} is too small: ${o[k]}`, 'phantom');
    }
    if (!((o['z-spacing'] as number) > 0)) throw new UsageError(`--z-spacing must be positive`, 'phantom');
    const t0 = performance.now();
    const result = await generatePhantom({
      out: String(o.out),
      volumes: o.volumes as number,
      slices: o.slices as number,
      seed: o.seed as number,
      volumeShape: shape as [number, number, number],
      volumeZSpacing: o['z-spacing'] as number,
      sliceSize: o['slice-size'] as number,
      slicePhase: phase as (typeof PHASES)[number] | 'mixed',
    });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    io.stdout(
      `wrote ${result.volumes.length} volumes and ${result.slices.length} slices in ${seconds} s\n` +
        `dataset: ${path.relative(process.cwd(), result.datasetFile) || result.datasetFile}\n`,
    );
    return 0;
  },
};
