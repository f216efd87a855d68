// Drives python/slice_distill_models/bench_worker.py, one long-lived process for the whole
// run: one JSON command per line each way, so its repetitions interleave with ours.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectPython, projectRoot } from '../../test/support/python.js';
import type { Side } from './timing.js';

export interface PythonInfo {
  python: string;
  torch: string;
  threads: number;
  cuda: boolean;
  gpu: string | null;
  pid: number;
}

export interface PythonMemory {
  peakRssMiB: number;
  cudaPeakAllocatedMiB?: number;
}

export class PythonWorker {
  #proc: ChildProcessWithoutNullStreams;
  #replies: AsyncIterator<string>;

  constructor() {
    const python = projectPython();
    if (!python) throw new Error('bench: no Python with torch found (set PYTHON or run npm install)');
    this.#proc = spawn(python, ['-m', 'slice_distill_models.bench_worker'], {
      env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'python'), PYTHONUNBUFFERED: '1' },
    });
    this.#proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[python] ${d}`));
    this.#replies = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  async send<T>(message: object): Promise<T> {
    this.#proc.stdin.write(JSON.stringify(message) + '\n');
    const next = await this.#replies.next();
    if (next.done) throw new Error('bench: the Python worker exited');
    const reply = JSON.parse(next.value) as T & { error?: string };
    if (reply.error) throw new Error(`bench: Python side failed: ${reply.error}`);
    return reply;
  }

  config(threads: number, device: string): Promise<PythonInfo> {
    return this.send({ cmd: 'config', threads, device });
  }

  /** Prepares a case (bench_cases.CASES); the sides it could not set up come back with the reason. */
  setup(kase: string, params: object): Promise<{ sides: string[]; skipped: Record<string, string> }> {
    return this.send({ cmd: 'setup', case: kase, ...params });
  }

  /** A side of the current case, timed inside Python (the pipe's latency is not counted). */
  side(name: string, label = `python ${name}`): Side {
    return { name: label, run: async () => (await this.send<{ ms: number[] }>({ cmd: 'run', side: name, reps: 1 })).ms[0]! };
  }

  /** Peak memory since the current case's setup. */
  memory(): Promise<PythonMemory> {
    return this.send({ cmd: 'memory' });
  }

  async close(): Promise<void> {
    if (this.#proc.exitCode !== null) return;
    this.#proc.stdin.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    await new Promise((resolve) => this.#proc.once('exit', resolve));
  }
}
