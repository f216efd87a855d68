// slice-distill pretrain: a 2D student on the training slices.
import type { CommandSpec } from '../args.js';
import { ARCH_OPTION, CONFIG_OPTIONS, SUBJECTS_OPTION, archFromArgs, configFromArgs, withStageOptions } from './stage-common.js';

export const pretrainCommand: CommandSpec = {
  name: 'pretrain',
  summary: 'Train a 2D student on the labelled single slices (L_seg); best checkpoint on validation Dice.',
  description:
    "L_seg = 0.4 cross-entropy + 0.6 soft Dice, SGD with momentum and a poly schedule, the recipe's\n" +
    'augmentation. Writes RUN/students/ARCH[-nN]/pretrain/{best,last}.ckpt, train-log.jsonl, manifest.json.',
  options: { ...CONFIG_OPTIONS, student: ARCH_OPTION, 'train-subjects': SUBJECTS_OPTION, epochs: { type: 'integer', description: 'Override student.epochs' } },
  examples: ['slice-distill pretrain --config run.json --student swin_unet', 'slice-distill pretrain -c run.json --train-subjects 100'],
  async run(args, io) {
    const epochs = args.options.epochs as number | undefined;
    const config = await configFromArgs(args, 'pretrain', epochs === undefined ? {} : { student: { epochs } });
    const arch = archFromArgs(args, config, 'pretrain');
    const { pretrain } = await import('../../pipeline/stages/pretrain.js');
    const r = await withStageOptions(
      args,
      io,
      (o) => pretrain(config, { ...o, arch, trainSubjects: args.options['train-subjects'] as number | undefined }),
      config,
    );
    io.stdout(
      `pretrained: ${r.bestCheckpoint}${r.bestMetric !== null ? ` (validation Dice ${r.bestMetric.toFixed(4)} at epoch ${(r.bestEpoch ?? 0) + 1})` : ''}\n`,
    );
  },
};
