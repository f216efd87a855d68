// One rank of the data-parallel bench (bench/cases/data-parallel.ts): training steps of a
// student on this rank's share of a global batch; rank 0 prints its timings as JSON.
import { distributed, ScriptModule, optim, setNumThreads, trainStep } from '../../lib/index.js';
import { studentBatch } from './batches.js';

const [model, globalBatch, side, warmup, reps] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [string, number, number, number, number];
setNumThreads(1);
const env = distributed.rankEnv();
if (env && env.worldSize > 1) await distributed.init({ timeoutMs: 120_000 });
const world = distributed.worldSize();
const b = globalBatch / world;
const module = await ScriptModule.load(model);
module.train();
const optimizer = new optim.SGD(module.parameters(), { lr: 0.01, momentum: 0.9 });
const { x, y } = studentBatch(b, side, side, 7);
const step: number[] = [];
const sync: number[] = [];
for (let i = 0; i < warmup + reps; i++) {
  const t0 = performance.now();
  const r = await trainStep({ module, optimizer, inputs: x, target: y });
  if (i < warmup) continue;
  step.push(performance.now() - t0);
  sync.push(r.syncMs ?? 0);
}
if (distributed.rank() === 0) process.stdout.write(JSON.stringify({ step, sync }) + '\n');
if (env && env.worldSize > 1) distributed.destroy();
