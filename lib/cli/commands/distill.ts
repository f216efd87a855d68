// slice-distill distill: fine-tune a pretrained student with the teacher prototype.
import type { CommandSpec } from '../args.js';
import {
  ARCH_OPTION,
  CONFIG_OPTIONS,
  SUBJECTS_OPTION,
  TEACHER_OPTION,
  archFromArgs,
  configFromArgs,
  teacherVariant,
  withStageOptions,
} from './stage-common.js';

export const distillCommand: CommandSpec = {
  name: 'distill',
  summary: 'Fine-tune a pretrained student with L_seg + beta * L_DIST against the teacher prototype.',
  description:
    "Starts from the pretrain stage's best checkpoint (or --from) and the prototype stage's file (or\n" +
    '--prototype). Writes RUN/students/ARCH[-nN]/distill-TEACHER/{best,last}.ckpt, train-log.jsonl, manifest.json.',
  options: {
    ...CONFIG_OPTIONS,
    student: ARCH_OPTION,
    teacher: TEACHER_OPTION,
    'train-subjects': SUBJECTS_OPTION,
    prototype: { type: 'string', description: "Teacher prototype file (default: the run's, of --teacher)", placeholder: 'FILE' },
    from: { type: 'string', description: "Student checkpoint to start from (default: the run's pretrain best.ckpt)", placeholder: 'FILE' },
    epochs: { type: 'integer', description: 'Override distill.epochs' },
    beta: { type: 'number', description: 'Override distill.beta (weight of L_DIST)' },
    control: {
      type: 'boolean',
      description: "The epoch-matched control instead: the same epochs with L_seg only (variant 'continued', folder distill-continued)",
    },
  },
  examples: [
    'slice-distill distill --config run.json --student deeplabv3',
    'slice-distill distill -c run.json --prototype proto.json --from pretrained.ckpt --beta 0.5',
    'slice-distill distill -c run.json --student deeplabv3 --control',
  ],
  async run(args, io) {
    const o = args.options;
    const distillOverrides = { ...(o.epochs !== undefined ? { epochs: o.epochs as number } : {}), ...(o.beta !== undefined ? { beta: o.beta as number } : {}) };
    const config = await configFromArgs(args, 'distill', { distill: distillOverrides });
    const arch = archFromArgs(args, config, 'distill');
    const teacher = teacherVariant(config, o.teacher as string | undefined, 'distill')?.name ?? config.teacher.name;
    const { distill } = await import('../../pipeline/stages/distill.js');
    const r = await withStageOptions(
      args,
      io,
      (so) =>
        distill(config, {
          ...so,
          arch,
          teacher,
          control: o.control === true,
          trainSubjects: o['train-subjects'] as number | undefined,
          prototype: o.prototype as string | undefined,
          from: o.from as string | undefined,
        }),
      config,
    );
    io.stdout(
      `distilled: ${r.bestCheckpoint}${r.bestMetric !== null ? ` (validation Dice ${r.bestMetric.toFixed(4)} at epoch ${(r.bestEpoch ?? 0) + 1})` : ''}\n`,
    );
  },
};
