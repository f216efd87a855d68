// slice-distill experiment table1|lowdata: the paper's experiments end to end, resumable.
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';
import { CONFIG_OPTIONS, configFromArgs, withStageOptions } from './stage-common.js';

export const experimentCommand: CommandSpec = {
  name: 'experiment',
  summary: "Run one of the paper's experiments end to end: table1 (students x teachers) or lowdata.",
  description:
    'table1: every teacher of experiment.teachers (trained, or brought as teacher.model) and its prototype;\n' +
    'every student of experiment.students pretrained, trained on with L_seg alone (the control, with\n' +
    'experiment.control, default) and distilled with each teacher; all evaluated on the test split (Dice;\n' +
    'distilled vs control, then vs pretrained: bootstrap CI, Wilcoxon, Holm) and reported (RUN/evaluate,\n' +
    'RUN/report).\n' +
    'lowdata: experiment.lowData.student pretrained, its control and distilled on nested subsets of\n' +
    'experiment.lowData.subjects training subjects and on all (RUN/evaluate-lowdata, RUN/report-lowdata).\n' +
    'Every student arm is repeated per experiment.seeds (training seeds; splits stay fixed by seed).\n' +
    'Finished stages are not redone; an interrupted one resumes from its last checkpoint.',
  positionals: [{ name: 'which', description: 'table1 or lowdata' }],
  options: { ...CONFIG_OPTIONS },
  examples: ['slice-distill experiment table1 --config run.json', 'slice-distill experiment lowdata -c run.json --progress json'],
  async run(args, io) {
    const which = args.positionals[0];
    if (which !== 'table1' && which !== 'lowdata') throw new UsageError(`expected table1 or lowdata, got '${which}'`, 'experiment');
    const config = await configFromArgs(args, 'experiment');
    const { runTable1, runLowData } = await import('../../pipeline/experiments.js');
    const r = await withStageOptions(args, io, (o) => (which === 'table1' ? runTable1(config, o) : runLowData(config, o)));
    io.stdout(`evaluation: ${r.evaluation}\nreport: ${r.report}/index.html\n`);
  },
};
