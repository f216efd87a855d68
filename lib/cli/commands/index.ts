// The subcommands of `slice-distill`. To add one: write lib/cli/commands/NAME.ts exporting a
// CommandSpec (see args.ts) and list it here.
import type { CommandSpec } from '../args.js';
import { phantomCommand } from './phantom.js';
import { previewCommand } from './preview.js';

export const COMMANDS: readonly CommandSpec[] = [phantomCommand, previewCommand];
