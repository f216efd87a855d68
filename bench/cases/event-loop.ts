// Event-loop responsiveness while training runs: async training steps (native worker thread)
// fed by the data loader (worker threads), with the loop's delay histogram on; then the same
// with trainStepSync, which holds the loop for a whole step, for contrast. Also how long the
// step loop waited for the loader. TypeScript only: Python has no event loop to keep free.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DataLoader, ScriptModule, optim, transforms as T, trainStep, trainStepSync, type Batch } from '../../lib/index.js';
import type { Bench, BenchCase, Row } from '../support/context.js';
import { median } from '../support/timing.js';

const ARCH = 'swin_unet';
const RESOLUTION_MS = 1; // the histogram's samples include this interval; it is subtracted

async function* endless(loader: DataLoader): AsyncGenerator<Batch> {
  for (;;) yield* loader;
}

async function run(bench: Bench, mode: 'async' | 'sync'): Promise<Row> {
  const { device, quick } = bench.options;
  const exported = await bench.model(ARCH, 'tiny');
  const size = exported.metadata.inputSize.at(-1)!;
  const module = await ScriptModule.load(exported.path, { device });
  module.train();
  const optimizer = new optim.SGD(module.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const loader = DataLoader.fromDataset(await bench.phantom(), {
    kind: 'slices',
    batchSize: 4,
    dropLast: true,
    transforms: T.student2d(size),
    seed: 0,
    device,
  });
  const batches = endless(loader);
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const steps: number[] = [];
  let waited = 0;
  const warmup = bench.options.warmup;
  const total = warmup + (quick ? 2 : 4 * bench.options.reps);
  bench.resetPeaks();
  const t0 = performance.now();
  try {
    for (let i = 0; i < total; i++) {
      if (i === warmup) histogram.enable();
      const w0 = performance.now();
      const batch = (await batches.next()).value as Batch;
      const s0 = performance.now();
      const spec = { module, optimizer, inputs: batch.image, target: batch.label! };
      await (mode === 'async' ? trainStep(spec) : trainStepSync(spec));
      batch.dispose();
      if (i >= warmup) {
        waited += s0 - w0;
        steps.push(performance.now() - s0);
      }
    }
  } finally {
    histogram.disable();
    await batches.return(undefined);
    await loader.close();
  }
  const elapsed = performance.now() - t0;
  const lag = (q: number) => Math.max(0, histogram.percentile(q) / 1e6 - RESOLUTION_MS);
  const row: Row = {
    name: `${mode === 'async' ? 'trainStep (async)' : 'trainStepSync (contrast)'}, ${ARCH} tiny 4x1x${size}x${size}, loader 2 workers`,
    unit: 'ms/step',
    ts: { step: median(steps) },
    py: {},
    ratios: {},
    metrics: { lagP50Ms: lag(50), lagP99Ms: lag(99), lagMaxMs: Math.max(0, histogram.max / 1e6 - RESOLUTION_MS), loaderWaitPct: (100 * waited) / elapsed },
    memory: await bench.memory(false),
    reps: steps.length,
  };
  if (mode === 'async')
    bench.target({ case: 'event-loop', row: row.name, metric: 'lag p99 ms', value: row.metrics.lagP99Ms as number, goal: '< 20' }, (v) => v < 20);
  return row;
}

export const eventLoopCase: BenchCase = {
  name: 'event-loop',
  title: 'event-loop lag while async training steps run',
  run: async (bench) => [await run(bench, 'async'), await run(bench, 'sync')],
};
