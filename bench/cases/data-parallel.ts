// Data-parallel training steps over c10d Gloo: 1 and 2 ranks on this machine, one thread each,
// the same global batch. On a machine with few cores this shows the overhead (the all-reduce,
// the broadcasts, the Dice sums), not the speed-up that separate GPUs or machines give.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributed } from '../../lib/index.js';
import type { BenchCase, Row } from '../support/context.js';
import { median } from '../support/timing.js';

const RANK = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'dp-rank.ts');

async function ranks(world: number, args: string[]): Promise<{ step: number[]; sync: number[] }> {
  let out = '';
  let err = '';
  const r = await distributed.launch({
    command: [process.execPath, '--import=tsx/esm', RANK, ...args],
    nproc: world,
    env: { OMP_NUM_THREADS: '1' },
    output: (line, stream) => (stream === 'stdout' ? (out += line.replace(/^\[rank \d+\] /, '') + '\n') : (err += line + '\n')),
  });
  if (r.exitCode !== 0) throw new Error(`data-parallel ranks failed (exit ${r.exitCode}):\n${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { step: number[]; sync: number[] };
}

export const dataParallelCase: BenchCase = {
  name: 'data-parallel',
  title: 'data-parallel training step (c10d Gloo, 1 thread per rank), 1 vs 2 ranks, same global batch',
  async run(bench) {
    if (!distributed.available()) {
      bench.notes.push('data-parallel: skipped, the addon was built without the gloo headers (libgloo-dev)');
      return [];
    }
    if (bench.options.device !== 'cpu') bench.notes.push('data-parallel: measured on the CPU (Gloo) whatever --device says');
    const exported = await bench.model('deeplabv3', 'tiny');
    const side = exported.metadata.inputSize.at(-1)!;
    const B = 8;
    const reps = Math.max(3, bench.options.reps);
    const rows: Row[] = [];
    let single = 0;
    for (const world of [1, 2]) {
      const t = await ranks(world, [exported.path, String(B), String(side), String(bench.options.warmup), String(reps)]);
      const step = median(t.step);
      if (world === 1) single = step;
      rows.push({
        name: `deeplabv3 tiny, global batch ${B}x1x${side}x${side}, ${world} rank${world > 1 ? 's' : ''}`,
        unit: 'ms/step',
        ts: { trainStep: step, ...(world > 1 ? { collectives: median(t.sync) } : {}) },
        py: {},
        ratios: world > 1 ? { '1 rank / 2 ranks': single / step } : {},
        metrics: { slicesPerS: B / (step / 1e3), ranks: world, threadsPerRank: 1 },
        memory: await bench.memory(false),
        reps: t.step.length,
      });
    }
    return rows;
  },
};
