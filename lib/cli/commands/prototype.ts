// slice-distill prototype: the teacher's class prototype over the training volumes.
import type { CommandSpec } from '../args.js';
import { CONFIG_OPTIONS, TEACHER_OPTION, configFromArgs, teacherVariant, withStageOptions } from './stage-common.js';

export const prototypeCommand: CommandSpec = {
  name: 'prototype',
  summary: "Compute the frozen teacher's class prototype over the training volumes (lumbar crop, sliding windows).",
  description:
    'Each volume is cut to the lumbar range (prototype.crop: kidneys, z-range, regressor or none), windowed,\n' +
    'resampled to teacher.spacing and segmented whole with Gaussian-weighted windows of teacher.roi; the\n' +
    'logits and labels feed the PrototypeAccumulator (prototype.mode). Writes\n' +
    'RUN/prototypes/NAME/teacher-prototype.json with its provenance.',
  options: {
    ...CONFIG_OPTIONS,
    teacher: TEACHER_OPTION,
    model: {
      type: 'string',
      description: 'Teacher TorchScript file or checkpoint (default: teacher.model, else the train-teacher result)',
      placeholder: 'FILE',
    },
  },
  examples: ['slice-distill prototype --config run.json', 'slice-distill prototype -c run.json --model unest_from_python.pt'],
  async run(args, io) {
    const model = args.options.model as string | undefined;
    const config = await configFromArgs(args, 'prototype', model ? { teacher: { model } } : {});
    const teacher = teacherVariant(config, args.options.teacher as string | undefined, 'prototype');
    const { extractPrototype } = await import('../../pipeline/stages/prototype.js');
    const r = await withStageOptions(args, io, (o) => extractPrototype(config, { ...o, teacher }));
    io.stdout(`prototype: ${r.file} (${r.volumes} volumes, ${r.slices} slices)\n`);
  },
};
