// slice-distill report: the HTML report of an evaluation (table, box plots, low-data curve, overlays).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';
import { CONFIG_OPTIONS, configFromArgs, withStageOptions } from './stage-common.js';

const { 'run-dir': runDir, device, progress, force } = CONFIG_OPTIONS;

export const reportCommand: CommandSpec = {
  name: 'report',
  summary: 'Write the HTML report of an evaluation: Dice table with Wilcoxon p-values, box plots, low-data curve, overlays.',
  description:
    'Reads RUN/evaluate/results.json (or --evaluation) and, when it exists, RUN/evaluate-lowdata/results.json\n' +
    'for the low-data curve (or --low-data). Overlays re-run the evaluated checkpoints on a few test slices.\n' +
    'Writes OUT/index.html with its figures as PNG and SVG, report.json, table.csv and dice_per_subject.csv.\n' +
    'Without --config, --evaluation is needed and OUT defaults to report/ beside its folder.',
  options: {
    config: { ...CONFIG_OPTIONS.config, required: false },
    'run-dir': runDir,
    device,
    progress,
    force,
    evaluation: { type: 'string', description: 'results.json of evaluate (default: RUN/evaluate/results.json)', placeholder: 'FILE' },
    'low-data': {
      type: 'string',
      description: 'results.json of a low-data evaluation (default: RUN/evaluate-lowdata/results.json if present)',
      placeholder: 'FILE',
    },
    out: { type: 'string', description: 'Output folder (default: RUN/report)', placeholder: 'DIR', short: 'o' },
    overlays: { type: 'integer', description: 'Test slices shown with predictions (0: none)', default: 3 },
    title: { type: 'string', description: 'Report title', placeholder: 'TEXT' },
    dataset: { type: 'string', description: 'Dataset of the overlay slices (default: the one evaluated)', placeholder: 'DIR' },
  },
  examples: ['slice-distill report --config run.json', 'slice-distill report --evaluation run/evaluate/results.json --out report/ --overlays 5'],
  async run(args, io) {
    const o = args.options;
    if (o.config === undefined && o.evaluation === undefined)
      throw new UsageError("give --config (to use the run's evaluation) or --evaluation FILE", 'report');
    if (!((o.overlays as number) >= 0)) throw new UsageError(`--overlays expects a count >= 0, got ${o.overlays}`, 'report');
    const config = o.config === undefined ? null : await configFromArgs(args, 'report');
    const { runLayout } = await import('../../pipeline/layout.js');
    const { RESULTS_FILE } = await import('../../pipeline/results-file.js');
    const layout = config && runLayout(config.runDir);
    const evaluation = o.evaluation !== undefined ? String(o.evaluation) : path.join(layout!.evaluate(), RESULTS_FILE);
    const lowDefault = layout && path.join(layout.evaluate('evaluate-lowdata'), RESULTS_FILE);
    const lowData = o['low-data'] !== undefined ? String(o['low-data']) : lowDefault && existsSync(lowDefault) ? lowDefault : undefined;
    const { report } = await import('../../pipeline/stages/report.js');
    const r = await withStageOptions(args, io, (so) =>
      report(config, {
        ...so,
        evaluation,
        lowData,
        out: o.out as string | undefined,
        overlays: o.overlays as number,
        title: o.title as string | undefined,
        dataset: o.dataset as string | undefined,
      }),
    );
    io.stdout(`report: ${r.html}\n`);
  },
};
