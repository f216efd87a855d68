// slice-distill train-teacher: the 3D teacher on the dataset's volumes.
import type { CommandSpec } from '../args.js';
import { CONFIG_OPTIONS, TEACHER_OPTION, configFromArgs, teacherVariant, withStageOptions } from './stage-common.js';

export const trainTeacherCommand: CommandSpec = {
  name: 'train-teacher',
  summary: 'Train the 3D teacher (UNesT) on the dataset volumes; best checkpoint on validation Dice.',
  description:
    'Random crops of teacher.roi with positive / negative sampling, L_seg (0.4 CE + 0.6 soft Dice), AdamW with warmup and cosine\n' +
    'decay. Writes RUN/teachers/NAME/{best,last}.ckpt, train-log.jsonl and manifest.json. Skipped\n' +
    'where the config brings a trained TorchScript teacher (teacher.model).',
  options: { ...CONFIG_OPTIONS, teacher: TEACHER_OPTION, epochs: { type: 'integer', description: 'Override teacher.epochs' } },
  examples: ['slice-distill train-teacher --config run.json', 'slice-distill train-teacher -c run.json --teacher non-contrast --epochs 50'],
  async run(args, io) {
    const epochs = args.options.epochs as number | undefined;
    const config = await configFromArgs(args, 'train-teacher', epochs === undefined ? {} : { teacher: { epochs } });
    const teacher = teacherVariant(config, args.options.teacher as string | undefined, 'train-teacher');
    const { trainTeacher } = await import('../../pipeline/stages/train-teacher.js');
    const r = await withStageOptions(args, io, (o) => trainTeacher(config, { ...o, teacher }), config);
    io.stdout(`teacher: ${r.bestCheckpoint}${'bestMetric' in r && r.bestMetric !== null ? ` (validation Dice ${r.bestMetric.toFixed(4)})` : ''}\n`);
  },
};
