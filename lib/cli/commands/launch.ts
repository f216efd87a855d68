// slice-distill launch: a training stage data-parallel over several processes (and nodes).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, type CommandSpec } from '../args.js';

/** The stages whose training runs data-parallel; the others run in one process. */
export const LAUNCHABLE = ['train-teacher', 'pretrain', 'distill'] as const;

function master(value: string | undefined): { masterAddr?: string; masterPort?: number } {
  if (value === undefined) return {};
  const m = /^(.+):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--master expects ADDR:PORT (e.g. 10.0.0.1:29500), got '${value}'`, 'launch');
  return { masterAddr: m[1], masterPort: port };
}

export const launchCommand: CommandSpec = {
  name: 'launch',
  summary: 'Run a training stage data-parallel: N processes per node (Gloo on CPU, NCCL on CUDA).',
  description:
    'Starts --nproc ranks of `slice-distill STAGE ...` on this node with RANK, WORLD_SIZE, LOCAL_RANK,\n' +
    'MASTER_ADDR and MASTER_PORT set, prefixes their output with the rank, forwards Ctrl-C / SIGTERM,\n' +
    'and exits with the first failure (stopping the other ranks). The configured batch sizes are\n' +
    'global: each rank trains on batchSize / WORLD_SIZE samples of every batch. Rank 0 validates and\n' +
    'writes the checkpoints. On CUDA each rank uses cuda:LOCAL_RANK. For several machines run the same\n' +
    `command on each with --nnodes, its --node-rank and rank 0's --master. Stages: ${LAUNCHABLE.join(', ')}.`,
  positionals: [{ name: 'stage', description: `The stage and its options, after --: ${LAUNCHABLE.join(' | ')} --config ...`, required: true, variadic: true }],
  options: {
    nproc: { type: 'integer', description: 'Processes on this node (e.g. one per GPU)', required: true, min: 1, placeholder: 'N' },
    nnodes: { type: 'integer', description: 'Machines in all', default: 1, min: 1, placeholder: 'M' },
    'node-rank': { type: 'integer', description: "This machine's index, 0..M-1", default: 0, min: 0, placeholder: 'R' },
    master: { type: 'string', description: "Rank 0's ADDR:PORT (required with --nnodes > 1; default 127.0.0.1 and a free port)", placeholder: 'ADDR:PORT' },
    backend: { type: 'string', description: 'gloo or nccl (default: nccl where the config trains on CUDA, else gloo)', placeholder: 'NAME' },
    'timeout-ms': { type: 'integer', description: 'How long a rank waits for the others (rendezvous and each collective)', min: 1000, placeholder: 'MS' },
  },
  examples: [
    'slice-distill launch --nproc 2 -- pretrain --config run.json',
    'slice-distill launch --nproc 8 --nnodes 2 --node-rank 0 --master 10.0.0.1:29500 -- train-teacher --config run.json',
  ],
  async run(args, io) {
    const [stage, ...rest] = args.positionals as [string, ...string[]];
    if (!(LAUNCHABLE as readonly string[]).includes(stage)) {
      throw new UsageError(`launch runs the training stages (${LAUNCHABLE.join(', ')}); '${stage}' runs in one process: call it without launch`, 'launch');
    }
    const backend = args.options.backend as string | undefined;
    if (backend !== undefined && backend !== 'gloo' && backend !== 'nccl') throw new UsageError(`--backend expects gloo or nccl, got '${backend}'`, 'launch');
    const { launch } = await import('../../distributed/launcher.js');
    const here = fileURLToPath(import.meta.url);
    const cli = path.join(path.dirname(here), '..', 'main' + path.extname(here));
    const env: NodeJS.ProcessEnv = {};
    if (backend) env.SLICE_DISTILL_BACKEND = backend;
    if (args.options['timeout-ms'] !== undefined) env.SLICE_DISTILL_TIMEOUT_MS = String(args.options['timeout-ms']);
    const r = await launch({
      command: [process.execPath, ...process.execArgv, cli, stage, ...rest],
      nproc: args.options.nproc as number,
      nnodes: args.options.nnodes as number,
      nodeRank: args.options['node-rank'] as number,
      ...master(args.options.master as string | undefined),
      env,
      output: (line, stream) => (stream === 'stdout' ? io.stdout : io.stderr)(line + '\n'),
    });
    if (r.failedRank !== null) io.stderr(`launch: rank ${r.failedRank} failed (exit ${r.exitCode})\n`);
    return r.exitCode;
  },
};
