// slice-distill evaluate: Dice of student checkpoints on the test split, and the paired
// comparisons of the arms (distilled vs control and vs pretrained, control vs pretrained).
import type { CommandSpec } from '../args.js';
import { UsageError } from '../args.js';
import type { ModelToEvaluate } from '../../pipeline/results-file.js';
import { CONFIG_OPTIONS, configFromArgs, withStageOptions } from './stage-common.js';

const SPEC = /^([^:=]+):([^=@]+?)(?:@(\d+))?=(.+)$/;

/** NAME:VARIANT[@N]=PATH; NAME may be an architecture id (deeplabv3 -> DeepLabv3). */
export function parseCheckpointSpec(spec: string, names: Record<string, string>): ModelToEvaluate {
  const m = SPEC.exec(spec);
  if (!m)
    throw new UsageError(`--checkpoint expects NAME:VARIANT=PATH (e.g. deeplabv3:none=run/students/deeplabv3/pretrain/best.ckpt), got '${spec}'`, 'evaluate');
  const [, name, variant, n, file] = m as unknown as [string, string, string, string | undefined, string];
  const model: ModelToEvaluate = { model: names[name] ?? name, variant, checkpoint: file };
  if (n !== undefined) model.trainingSubjects = Number(n);
  return model;
}

const { 'run-dir': runDir, device, seed, progress, force } = CONFIG_OPTIONS;
// not required: --pred / --ref scores label folders without a pipeline config
const config = { ...CONFIG_OPTIONS.config!, required: false, description: 'Pipeline configuration (JSON; see docs/config.md); not with --pred' };

export const evaluateCommand: CommandSpec = {
  name: 'evaluate',
  summary:
    'Dice, IoU, HD95 and surface Dice per organ and subject of student checkpoints (or of any label folders: --pred / --ref), with paired comparisons (CI, Wilcoxon, Holm).',
  description:
    'Predictions at student.size are resized back to each slice and scored at its own resolution. Each\n' +
    "distilled variant is compared with its model's control 'continued' (primary) and with 'none'\n" +
    "(secondary), the control with 'none': per organ and on the subjects' mean Dice, the mean\n" +
    'difference, a paired bootstrap 95% CI, the two-sided Wilcoxon signed-rank p and the Holm p over\n' +
    'the organs and the mean. Without --checkpoint: every best.ckpt of pretrain (variant none),\n' +
    'distill-continued and distill-TEACHER under RUN/students (-s<S> folders: seed S). Writes\n' +
    'RUN/NAME/results.json, dice.csv, summary.csv, comparisons.csv and manifest.json; unchanged\n' +
    'checkpoints are not scored again.',
  options: {
    config,
    'run-dir': runDir,
    device,
    seed,
    progress,
    force,
    checkpoint: {
      type: 'string',
      multiple: true,
      description:
        'A model to score: student (deeplabv3 or a display name), variant (none or the teacher) and file; NAME:VARIANT@N=PATH adds its training-subject count',
      placeholder: 'NAME:VARIANT=PATH',
    },
    name: { type: 'string', description: 'Output folder inside the run', default: 'evaluate', placeholder: 'NAME' },
    subjects: { type: 'string', description: 'Split to score: test or val', default: 'test', placeholder: 'SPLIT' },
    pred: {
      type: 'string',
      multiple: true,
      description: 'A folder of predicted label files to score against --ref (no config); two or more are compared with the first',
      placeholder: 'DIR',
    },
    ref: { type: 'string', description: 'Reference label files, matched to --pred by name (NAME[_seg].nii[.gz])', placeholder: 'DIR' },
    images: { type: 'string', description: 'With --pred: the CT images, for the organ measurements (measurements.csv)', placeholder: 'DIR' },
    out: { type: 'string', description: 'With --pred: output folder', placeholder: 'DIR' },
    tolerance: { type: 'number', description: 'Normalised surface Dice tolerance in mm', default: 2 },
  },
  examples: [
    'slice-distill evaluate --config run.json',
    'slice-distill evaluate -c run.json --checkpoint deeplabv3:none=a/best.ckpt --checkpoint deeplabv3:unest=b/best.ckpt',
    'slice-distill evaluate --pred nnunet/ --pred preds/ --ref labels/ --images images/ --out eval-external/',
  ],
  async run(args, io) {
    const o = args.options;
    const tolerance = o.tolerance as number;
    if (!(Number.isFinite(tolerance) && tolerance >= 0)) throw new UsageError(`--tolerance expects mm >= 0, got ${o.tolerance}`, 'evaluate');
    const pred = o.pred as string[];
    if (pred.length) {
      if (o.config !== undefined) throw new UsageError('--pred scores label folders without a config: leave out --config', 'evaluate');
      if (o.ref === undefined || o.out === undefined) throw new UsageError('--pred needs --ref DIR and --out DIR', 'evaluate');
      const { evaluateFolders } = await import('../../pipeline/external-evaluate.js');
      const r = await evaluateFolders({
        pred,
        ref: String(o.ref),
        images: o.images === undefined ? undefined : String(o.images),
        out: String(o.out),
        toleranceMm: tolerance,
        log: (line) => io.stderr(line + '\n'),
      });
      io.stdout(`evaluation: ${r.file}\n`);
      return;
    }
    if (o.config === undefined) throw new UsageError('--config is required (or --pred DIR --ref DIR to score label folders)', 'evaluate');
    if (o.ref !== undefined || o.images !== undefined || o.out !== undefined) throw new UsageError('--ref, --images and --out go with --pred', 'evaluate');
    const which = String(o.subjects);
    if (which !== 'test' && which !== 'val') throw new UsageError(`--subjects expects test or val, got '${which}'`, 'evaluate');
    const name = String(o.name);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new UsageError(`--name '${name}': use letters, digits, '.', '_' and '-' (it names a folder in the run)`, 'evaluate');
    const { STUDENT_NAMES } = await import('../../pipeline/layout.js');
    const given = (o.checkpoint as string[]).map((s) => parseCheckpointSpec(s, STUDENT_NAMES));
    const cfg = await configFromArgs(args, 'evaluate');
    const { runCheckpoints } = await import('../../pipeline/run-checkpoints.js');
    const models = given.length ? given : await runCheckpoints(cfg);
    if (models.length === 0)
      throw new UsageError(`no best.ckpt under ${cfg.runDir}/students; run pretrain / distill first, or name checkpoints with --checkpoint`, 'evaluate');
    const { evaluate } = await import('../../pipeline/stages/evaluate.js');
    const r = await withStageOptions(args, io, (so) => evaluate(cfg, models, { ...so, name, subjects: which, toleranceMm: tolerance }));
    io.stdout(`evaluation: ${r.file}\n`);
  },
};
