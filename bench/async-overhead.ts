// The cost of going off the JS thread: the same tiny forward / training step called
// synchronously and through the async worker path, side by side (A B A B ...).
//   npx tsx bench/async-overhead.ts [fixtures-dir]
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScriptModule, noGrad, optim, setNumThreads, tensor, trainStep, trainStepSync } from '../lib/index.js';
import { runPython } from '../test/support/python.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeIt(fn: () => unknown, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n; // microseconds per call
}

let dir = process.argv[2];
if (!dir) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sd-bench-'));
  await runPython('slice_distill_models.fixtures', ['--out', dir]);
}
setNumThreads(1);
const module = ScriptModule.loadSync(path.join(dir, 'convnet.pt'));
const optimizer = new optim.SGD(module.parameters(), { lr: 0.01 });
const x = tensor(new Float32Array(64).fill(0.5), [1, 1, 8, 8]);
const y = tensor(new BigInt64Array(64), [1, 8, 8]);
const spec = { module, optimizer, inputs: x, target: y };
const n = 300;
const results: Record<string, number[]> = { forwardSync: [], forwardAsync: [], stepSync: [], stepAsync: [] };
for (let rep = 0; rep < 7; rep++) {
  results.forwardSync!.push(await timeIt(() => noGrad(() => module.forwardTensor(x).dispose()), n));
  results.forwardAsync!.push(await timeIt(async () => ((await module.forwardAsync(x)) as { dispose(): void }).dispose(), n));
  results.stepSync!.push(await timeIt(() => trainStepSync(spec), n));
  results.stepAsync!.push(await timeIt(() => trainStep(spec), n));
}
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v.slice(1))]));
console.table({
  forward: { syncUs: m.forwardSync!.toFixed(1), asyncUs: m.forwardAsync!.toFixed(1), overheadUs: (m.forwardAsync! - m.forwardSync!).toFixed(1) },
  trainStep: { syncUs: m.stepSync!.toFixed(1), asyncUs: m.stepAsync!.toFixed(1), overheadUs: (m.stepAsync! - m.stepSync!).toFixed(1) },
});
console.log(JSON.stringify({ unit: 'microseconds per call (median of 6 runs of 300)', ...m }));
