// Drives python/slice_distill_models/bench_worker.py: one JSON command per line each way.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectPython, projectRoot } from '../../test/support/python.js';

export class PythonWorker {
  #proc: ChildProcessWithoutNullStreams;
  #replies: AsyncIterator<string>;

  constructor() {
    const python = projectPython();
    if (!python) throw new Error('bench: no Python with torch found (set PYTHON or run npm install)');
    this.#proc = spawn(python, ['-m', 'slice_distill_models.bench_worker'], {
      env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'python') },
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

  async close(): Promise<void> {
    this.#proc.stdin.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    await new Promise((resolve) => this.#proc.once('exit', resolve));
  }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
