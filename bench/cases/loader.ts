// Data-loader throughput: phantom single slices through the students' pipeline (window,
// resize, rot90 / flip or rotation, intensity jitter) in batches of 24, on 0 (in-process), 1
// and 2 worker threads, and its headroom: slices/s delivered over the slices/s the fastest
// training step of the same slice size consumes (from the train case of this run).
import { DataLoader, transforms as T } from '../../lib/index.js';
import type { Bench, BenchCase, Row } from '../support/context.js';
import { studentPresets } from '../support/students.js';
import { median } from '../support/timing.js';

const BATCH = 24;
const DEFAULT_WORKERS = 2; // the loader's default, min(2, cpus), on this kind of machine

/** The fastest TypeScript training step at this slice size, in slices/s (null: train did not run). */
function trainingRate(bench: Bench, size: number): { rate: number; name: string } | null {
  const rows = (bench.rows.get('train') ?? []).filter((r) => r.name.endsWith(`x${size}x${size}`));
  const best = rows.sort((a, b) => Number(b.metrics.tsSlicesPerS) - Number(a.metrics.tsSlicesPerS))[0];
  return best ? { rate: Number(best.metrics.tsSlicesPerS), name: best.name } : null;
}

async function throughput(bench: Bench, size: number, workers: number): Promise<Row> {
  const dataset = await bench.phantom();
  bench.resetPeaks();
  const loader = DataLoader.fromDataset(dataset, {
    kind: 'slices',
    batchSize: BATCH,
    workers,
    transforms: T.student2d(size),
    seed: 0,
    device: bench.options.device,
  });
  const perEpoch: number[] = [];
  let slices = 0;
  try {
    const epochs = bench.options.quick ? 1 : 2 + Math.ceil(bench.options.reps / 2);
    for (let e = 0; e < epochs; e++) {
      const t0 = performance.now();
      let n = 0;
      for await (const b of loader) {
        n += b.subjects.length;
        b.dispose();
      }
      // the first epoch starts the workers and fills their caches: not counted (unless quick)
      if (e > 0 || bench.options.quick) perEpoch.push((n / (performance.now() - t0)) * 1e3);
      slices = n;
    }
  } finally {
    await loader.close();
  }
  const slicesPerS = median(perEpoch);
  const training = trainingRate(bench, size);
  const row: Row = {
    name: `${slices} slices -> ${size}x${size}, batch ${BATCH}, ${workers} worker${workers === 1 ? '' : 's'}`,
    unit: 'ms/batch',
    ts: { loader: (1e3 * BATCH) / slicesPerS },
    py: {},
    ratios: training ? { 'headroom (loader / training slices/s)': slicesPerS / training.rate } : {},
    metrics: { slicesPerS, trainingSlicesPerS: training?.rate ?? null, against: training?.name ?? 'no train case in this run' },
    memory: await bench.memory(false),
    reps: perEpoch.length,
  };
  if (workers === DEFAULT_WORKERS && training) {
    bench.target({ case: 'loader', row: row.name, metric: 'headroom', value: slicesPerS / training.rate, goal: '>= 5' }, (v) => v >= 5);
  }
  return row;
}

export const loaderCase: BenchCase = {
  name: 'loader',
  title: 'data-loader throughput and headroom over the training step',
  async run(bench) {
    const rows: Row[] = [];
    const sizes = studentPresets(bench).map((p) => (p.preset === 'tiny' ? 64 : 224));
    for (const size of sizes) for (const workers of bench.options.quick ? [0, DEFAULT_WORKERS] : [0, 1, 2]) rows.push(await throughput(bench, size, workers));
    return rows;
  },
};
