// Starts the ranks of one node as child processes with torchrun's environment (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), prefixes their output with the rank,
// forwards SIGINT / SIGTERM to them, and ends with the first failure: when a rank fails the
// others are stopped, so a dead peer never leaves the rest waiting for their timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { DistributedConfigError } from './errors.js';

export interface LaunchOptions {
  /** The program and its arguments, run once per local rank (e.g. [node, cli.js, 'pretrain', ...]). */
  command: readonly string[];
  /** Processes on this node. */
  nproc: number;
  /** Nodes in all (default 1) and this node's index (default 0). */
  nnodes?: number;
  nodeRank?: number;
  /** Rank 0's host and port; default 127.0.0.1 and, on one node, a free port. */
  masterAddr?: string;
  masterPort?: number;
  /** Added to every rank's environment (e.g. OMP_NUM_THREADS). */
  env?: NodeJS.ProcessEnv;
  /** Each line a rank writes, already prefixed; default: to this process's stdout / stderr. */
  output?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting stops every rank (SIGTERM: they checkpoint and exit). */
  signal?: AbortSignal;
  /** After a failure or an abort, how long the others get before SIGKILL (default 30 s). */
  graceMs?: number;
}

export interface LaunchResult {
  /** 0 when every rank exited 0, else the first failing rank's code (128 + n for a signal). */
  exitCode: number;
  /** The first rank that failed, or null. */
  failedRank: number | null;
  codes: (number | null)[];
}

function positive(name: string, v: number | undefined, fallback: number, min: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new DistributedConfigError(`${name}: expected an integer >= ${min}, got ${v}`);
  return n;
}

/** A TCP port that is free on this machine now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function lineSplitter(emit: (line: string) => void): { write: (chunk: Buffer) => void; end: () => void } {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) emit(l);
    },
    end() {
      if (pending) emit(pending);
      pending = '';
    },
  };
}

export async function launch(o: LaunchOptions): Promise<LaunchResult> {
  if (o.command.length === 0) throw new DistributedConfigError('launch: no command to run');
  const nproc = positive('nproc', o.nproc, 1, 1);
  const nnodes = positive('nnodes', o.nnodes, 1, 1);
  const nodeRank = positive('nodeRank', o.nodeRank, 0, 0);
  if (nodeRank >= nnodes) throw new DistributedConfigError(`nodeRank ${nodeRank} is outside nnodes ${nnodes}`);
  if (nnodes > 1 && (o.masterAddr === undefined || o.masterPort === undefined)) {
    throw new DistributedConfigError('launch: with several nodes, give the master address and port (--master ADDR:PORT) on every node');
  }
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const masterPort = o.masterPort ?? (await freePort());
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535)
    throw new DistributedConfigError(`masterPort: expected 1..65535, got ${masterPort}`);
  const worldSize = nproc * nnodes;
  const output = o.output ?? ((line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n'));
  const graceMs = o.graceMs ?? 30_000;

  const [program, ...args] = o.command as [string, ...string[]];
  const children: ChildProcess[] = [];
  const codes: (number | null)[] = new Array<number | null>(nproc).fill(null);
  let failedRank: number | null = null;
  let exitCode = 0;
  let killTimer: NodeJS.Timeout | undefined;

  const stopAll = (signal: NodeJS.Signals) => {
    for (let i = 0; i < children.length; i++) if (codes[i] === null) children[i]!.kill(signal);
    killTimer ??= setTimeout(() => {
      for (let i = 0; i < children.length; i++) if (codes[i] === null) children[i]!.kill('SIGKILL');
    }, graceMs);
  };
  const onSignal = (signal: NodeJS.Signals) => stopAll(signal);
  const onAbort = () => stopAll('SIGTERM');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  o.signal?.addEventListener('abort', onAbort);

  try {
    const exits = Array.from({ length: nproc }, (_, local) => {
      const rank = nodeRank * nproc + local;
      const child = spawn(program, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...o.env,
          RANK: String(rank),
          WORLD_SIZE: String(worldSize),
          LOCAL_RANK: String(local),
          LOCAL_WORLD_SIZE: String(nproc),
          MASTER_ADDR: masterAddr,
          MASTER_PORT: String(masterPort),
        },
      });
      children.push(child);
      const prefix = `[rank ${rank}] `;
      const out = lineSplitter((l) => output(prefix + l, 'stdout'));
      const err = lineSplitter((l) => output(prefix + l, 'stderr'));
      child.stdout!.on('data', out.write);
      child.stderr!.on('data', err.write);
      return new Promise<void>((resolve) => {
        let settled = false;
        const finish = (code: number) => {
          if (settled) return; // 'error' may be followed by 'close'
          settled = true;
          out.end();
          err.end();
          codes[local] = code;
          if (code !== 0 && failedRank === null) {
            failedRank = rank;
            exitCode = code;
            output(`[launch] rank ${rank} exited with ${code}: stopping the others`, 'stderr');
            stopAll('SIGTERM');
          }
          resolve();
        };
        child.once('error', (e) => {
          output(`[launch] rank ${rank} could not start ${program}: ${e.message}`, 'stderr');
          finish(127);
        });
        child.once('close', (code, signal) => finish(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15)));
      });
    });
    await Promise.all(exits);
    if (failedRank === null && o.signal?.aborted) exitCode = 130;
    return { exitCode, failedRank, codes };
  } finally {
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    o.signal?.removeEventListener('abort', onAbort);
  }
}
