// Data-loader throughput: 2D single slices per second through the students' pipeline
// (window, resize to 224 x 224, rot90 / flip or rotation in [-20, 20), intensity jitter),
// batches of 24 as int64 / float32 tensors, on 0 (in-process), 1 and 2 worker threads.
//   npx tsx bench/data.bench.ts [--slices N] [--epochs N] [--size N]
// Prints a table and a JSON line; the JSON is also written to bench/results/data.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataLoader } from '../lib/data/loader.js';
import { loadDataset } from '../lib/data/dataset.js';
import { generatePhantom } from '../lib/data/phantom.js';
import * as T from '../lib/data/transforms.js';
import { tempDir } from '../test/support/data-fixtures.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const nSlices = arg('slices', 96);
const epochs = arg('epochs', 8);
const size = arg('size', 224);
const batchSize = 24;

const tmp = tempDir('slice-distill-bench-');
try {
  await generatePhantom({ out: tmp.dir, volumes: 0, slices: nSlices, seed: 1 });
  const ds = await loadDataset(tmp.dir);
  const rows: { workers: number; slicesPerSecond: number; batchesPerSecond: number; msPerBatch: number }[] = [];
  for (const workers of [0, 1, 2]) {
    const loader = DataLoader.fromDataset(ds, { kind: 'slices', batchSize, workers, transforms: T.student2d(size), seed: 0 });
    try {
      for (let e = 0; e < 2; e++) for await (const b of loader) b.dispose(); // warm-up: worker start, file cache, JIT
      const t0 = performance.now();
      let samples = 0;
      let batches = 0;
      for (let e = 0; e < epochs; e++) {
        for await (const b of loader) {
          samples += b.subjects.length;
          batches++;
          b.dispose();
        }
      }
      const s = (performance.now() - t0) / 1000;
      rows.push({ workers, slicesPerSecond: samples / s, batchesPerSecond: batches / s, msPerBatch: (1000 * s) / batches });
    } finally {
      await loader.close();
    }
  }
  console.log(`data loader, ${nSlices} phantom slices (128 x 128 -> ${size} x ${size}), batch ${batchSize}, augmentation on, ${epochs} epochs, ${os.availableParallelism?.() ?? os.cpus().length} CPUs`);
  console.log('workers | slices/s | batches/s | ms/batch');
  for (const r of rows) console.log(`${String(r.workers).padStart(7)} | ${r.slicesPerSecond.toFixed(0).padStart(8)} | ${r.batchesPerSecond.toFixed(2).padStart(9)} | ${r.msPerBatch.toFixed(1).padStart(8)}`);
  const json = { bench: 'data-loader', size, batchSize, slices: nSlices, epochs, cpus: os.availableParallelism?.() ?? os.cpus().length, rows };
  console.log(JSON.stringify(json));
  const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'data.json'), `${JSON.stringify(json, null, 2)}\n`);
} finally {
  tmp.cleanup();
}
