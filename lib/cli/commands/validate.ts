// slice-distill validate DIR: every problem of a dataset at once, a summary per kind and
// split, and the teacher's data warnings; exit 1 on problems.
import type { CommandSpec } from '../args.js';

export const validateCommand: CommandSpec = {
  name: 'validate',
  summary: 'Check a dataset folder (every problem at once) and summarise subjects, shapes, spacings and classes per split.',
  description:
    'Reads dataset.json and every file it lists. Problems (missing or unreadable files, labels that do not\n' +
    'match their image, values outside the label map, non-axial or multi-slice "slices") are all listed;\n' +
    'the exit code is 1 when there is any. The splits are those the pipeline would make: from --config\n' +
    'when given, else the default split (0.6 / 0.2 / 0.2 of slice subjects, teacher.valFraction 0.2, seed 0).',
  positionals: [{ name: 'dataset', description: 'A dataset folder (or its dataset.json)' }],
  options: {
    config: { type: 'string', description: 'Take split, seed and teacher.valFraction / phases from this pipeline config', short: 'c', placeholder: 'FILE' },
  },
  examples: ['slice-distill validate data/my-abdomen', 'slice-distill validate data/my-abdomen --config run.json'],
  async run(args, io) {
    const { loadDataset, validateDataset, subjectsOf } = await import('../../data/dataset.js');
    const { DatasetError } = await import('../../data/errors.js');
    const { summarise, rowsOf, formatSummary } = await import('../../data/dataset-summary.js');
    const { resolveConfig, loadConfig } = await import('../../pipeline/config.js');
    const { splitSubjects } = await import('../../data/splits.js');
    const { volumeSplit } = await import('../../pipeline/context.js');
    const { studentDataWarnings, teacherDataWarnings } = await import('../../pipeline/data-warnings.js');
    const location = args.positionals[0]!;
    let dataset;
    try {
      dataset = await loadDataset(location);
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e;
      io.stderr(e.message + '\n');
      return 1;
    }
    const config = args.options.config
      ? await loadConfig(String(args.options.config), { dataset: dataset.root })
      : resolveConfig({ dataset: dataset.root, runDir: '.' }, process.cwd());
    const report = await validateDataset(dataset);
    const out: string[] = [`${dataset.file}: ${dataset.volumes.length} volumes, ${dataset.slices.length} slices`];
    if (report.volumes.length) {
      out.push(formatSummary(summarise('volumes', report.volumes)));
      try {
        const vs = volumeSplit(config, dataset);
        out.push(
          formatSummary(summarise('  teacher train', rowsOf(report.volumes, vs.train))),
          formatSummary(summarise('  teacher val', rowsOf(report.volumes, vs.val))),
        );
      } catch (e) {
        out.push(`  (no teacher split: ${(e as Error).message})`);
      }
    }
    if (report.slices.length) {
      out.push(formatSummary(summarise('slices', report.slices)));
      const split = splitSubjects(subjectsOf(dataset, 'slices'), config.split, config.seed);
      for (const part of ['train', 'val', 'test'] as const) out.push(formatSummary(summarise(`  ${part}`, rowsOf(report.slices, split[part]))));
    }
    if (report.problems.length === 0) {
      if (report.volumes.length) out.push(...teacherDataWarnings(config, dataset, report));
      if (report.slices.length) out.push(...studentDataWarnings(config, dataset, report));
    }
    io.stdout(out.join('\n') + '\n');
    if (report.problems.length) {
      io.stderr(new DatasetError(dataset.file, report.problems).message + '\n');
      return 1;
    }
    io.stdout('no problems\n');
    return 0;
  },
};
