#!/usr/bin/env node
// slice-distill: the command-line entry. `slice-distill <command> [options]`; commands are
// listed in ./commands/index.ts.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseArgs, UsageError, type Io } from './args.js';
import { COMMANDS } from './commands/index.js';
import { signalExitCode } from './commands/stage-common.js';
import { packageVersion } from './version.js';

const PROGRAM = 'slice-distill';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
    '',
  ].join('\n');
}

const defaultIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Runs the CLI on argv (without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout(target ? formatHelp(target, PROGRAM) : mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`${PROGRAM} ${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) {
      const known = COMMANDS.map((c) => c.name);
      const { suggest } = await import('../util/suggest.js');
      const hint = suggest(name, known);
      throw new UsageError(`unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; commands: ${known.join(', ')}`);
    }
    const args = parseArgs(command, rest);
    if (args.help) {
      io.stdout(formatHelp(command, PROGRAM));
      return 0;
    }
    const code = (await command.run(args, io)) ?? 0;
    return signalExitCode() ?? code; // stopped by Ctrl-C: 130, as shells expect
  } catch (e) {
    if (e instanceof UsageError) {
      const where = e.command ?? command?.name;
      io.stderr(`${PROGRAM}${where ? ` ${where}` : ''}: ${e.message}\nRun '${PROGRAM}${where ? ` ${where}` : ''} --help' for usage.\n`);
      return 2;
    }
    const err = e as Error;
    io.stderr(`${PROGRAM}${command ? ` ${command.name}` : ''}: ${err?.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err?.message ?? String(e)}\n`);
    return signalExitCode() ?? 1;
  }
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// No top-level await, so the module also loads through require(esm).
if (isEntry()) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
