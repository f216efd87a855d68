// The subcommands of `slice-distill`. To add one: write lib/cli/commands/NAME.ts exporting a
// CommandSpec (see args.ts) and list it here.
import type { CommandSpec } from '../args.js';
import { distillCommand } from './distill.js';
import { experimentCommand } from './experiment.js';
import { phantomCommand } from './phantom.js';
import { pretrainCommand } from './pretrain.js';
import { prototypeCommand } from './prototype.js';
import { trainTeacherCommand } from './train-teacher.js';
import { previewCommand } from './preview.js';
import { evaluateCommand } from './evaluate.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { validateCommand } from './validate.js';
import { importCommand } from './import.js';
import { makeSlicesCommand } from './make-slices.js';
import { launchCommand } from './launch.js';

export const COMMANDS: readonly CommandSpec[] = [
  phantomCommand,
  importCommand,
  makeSlicesCommand,
  validateCommand,
  previewCommand,
  trainTeacherCommand,
  prototypeCommand,
  pretrainCommand,
  distillCommand,
  evaluateCommand,
  reportCommand,
  predictCommand,
  experimentCommand,
  launchCommand,
];
