// What the pipeline's subcommands share: the config file plus overriding flags (all checked
// before any work), the progress mode, and Ctrl-C / SIGTERM as an AbortSignal so a stage
// stops at the next batch with a checkpoint (a second Ctrl-C exits at once).
import { existsSync } from 'node:fs';
import type { ParsedArgs, OptionSpec } from '../args.js';
import { UsageError } from '../args.js';
import type { PartialConfig, PipelineConfig, TeacherVariant } from '../../pipeline/config.js';
import type { StageOptions } from '../../pipeline/context.js';
import type { ProgressMode } from '../../train/progress.js';
import { STUDENT_ARCHS } from '../../models/archs.js';

export const CONFIG_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'Pipeline configuration (JSON; see docs/config.md)', required: true, short: 'c', placeholder: 'FILE' },
  'run-dir': { type: 'string', description: 'Override runDir of the config', placeholder: 'DIR' },
  device: { type: 'string', description: 'Override device: cpu, cuda or cuda:N', placeholder: 'DEVICE' },
  seed: { type: 'integer', description: 'Override seed' },
  progress: { type: 'string', description: 'auto (a bar on a terminal, JSON lines otherwise), bar, json or none', default: 'auto', placeholder: 'MODE' },
  force: { type: 'boolean', description: 'Redo the stage even where it finished with the same inputs and config' },
  resume: { type: 'boolean', description: 'Continue an interrupted training from its last checkpoint (--no-resume starts over)', default: true },
};

const PROGRESS = ['auto', 'bar', 'json', 'none'];

/** Reads the config named by --config with the flags' overrides; a ConfigError lists every problem. */
export async function configFromArgs(args: ParsedArgs, command: string, overrides: PartialConfig = {}): Promise<PipelineConfig> {
  const o = args.options;
  const file = String(o.config);
  if (!existsSync(file)) throw new UsageError(`--config: ${file} does not exist`, command);
  if (!PROGRESS.includes(String(o.progress))) throw new UsageError(`--progress expects one of ${PROGRESS.join(', ')}, got '${o.progress}'`, command);
  const { loadConfig } = await import('../../pipeline/config.js');
  const flags: PartialConfig = { ...overrides };
  if (o['run-dir'] !== undefined) flags.runDir = String(o['run-dir']);
  if (o.device !== undefined) flags.device = String(o.device) as PipelineConfig['device'];
  if (o.seed !== undefined) flags.seed = o.seed as number;
  const config = await loadConfig(file, flags);
  const { rankDevice } = await import('../../distributed/join.js');
  return { ...config, device: rankDevice(config.device) }; // cuda:LOCAL_RANK under launch
}

/** The teacher variant called `name` (config.teacher when absent or its own name). */
export function teacherVariant(config: PipelineConfig, name: string | undefined, command: string): TeacherVariant | undefined {
  if (name === undefined || name === config.teacher.name) return undefined;
  const v = config.experiment.teachers.find((t) => t.name === name);
  if (!v) {
    const known = [config.teacher.name, ...config.experiment.teachers.map((t) => t.name)];
    throw new UsageError(`--teacher: no teacher '${name}' in the config (known: ${known.join(', ')})`, command);
  }
  return v;
}

/** Stage options from the flags, with an AbortSignal wired to SIGINT / SIGTERM; call release() when done. */
let interrupted: NodeJS.Signals | null = null;

/** The exit status of a run stopped by a signal: 128 + its number (130 for SIGINT), or null. */
export function signalExitCode(): number | null {
  return interrupted === null ? null : 128 + (interrupted === 'SIGINT' ? 2 : interrupted === 'SIGTERM' ? 15 : 1);
}

export function stageOptions(args: ParsedArgs, io: { stderr: (t: string) => void }): StageOptions & { release: () => void } {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    interrupted = sig;
    if (signals > 1) process.exit(130);
    io.stderr(`\n${sig}: stopping at the next batch and writing a checkpoint (again to exit at once)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    progress: String(args.options.progress) as ProgressMode,
    force: Boolean(args.options.force),
    resume: args.options.resume !== false,
    log: (line) => io.stderr(line + '\n'),
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs a stage with the options above, releasing the signal handlers afterwards. A training
 * stage (given its config) started by `launch` joins the ranks' process group first; ranks
 * other than 0 show no progress (rank 0's stands for all).
 */
export async function withStageOptions<T>(
  args: ParsedArgs,
  io: { stderr: (t: string) => void },
  run: (options: StageOptions) => Promise<T>,
  training?: PipelineConfig,
): Promise<T> {
  const options = stageOptions(args, io);
  try {
    if (!training) return await run(options);
    const { withEnvironmentGroup } = await import('../../distributed/join.js');
    const { rank } = await import('../../distributed/process-group.js');
    return await withEnvironmentGroup(training.device, (parallel) => run(parallel && rank() > 0 ? { ...options, progress: 'none' } : options));
  } finally {
    options.release();
  }
}

export const ARCH_OPTION: OptionSpec = {
  type: 'string',
  description: `Student: ${STUDENT_ARCHS.join(', ')} (default: student.arch of the config)`,
  placeholder: 'ARCH',
};
export const TEACHER_OPTION: OptionSpec = {
  type: 'string',
  description: 'Teacher name (default: teacher.name of the config; others from experiment.teachers)',
  placeholder: 'NAME',
};
export const SUBJECTS_OPTION: OptionSpec = {
  type: 'integer',
  description: 'Train on this many training subjects only (a nested low-data subset)',
  placeholder: 'N',
  min: 1,
};

export function archFromArgs(args: ParsedArgs, config: PipelineConfig, command: string): PipelineConfig['student']['arch'] {
  const a = args.options.student;
  if (a === undefined) return config.student.arch;
  if (!(STUDENT_ARCHS as readonly string[]).includes(String(a))) throw new UsageError(`--student expects ${STUDENT_ARCHS.join(', ')}, got '${a}'`, command);
  return a as PipelineConfig['student']['arch'];
}
