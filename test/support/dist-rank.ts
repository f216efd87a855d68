// One rank of the data-parallel tests (test/distributed.test.ts), started with RANK /
// WORLD_SIZE / MASTER_ADDR / MASTER_PORT in its environment (none: one process):
//   steps <fixtures> <out> <steps>        trainStep on a fixed global batch of 4, this rank's share
//   train <fixtures> <out> <epochs> [stopAfter]   the Trainer over 4 batches an epoch, resuming
//                                         (also the kill -9 test of test/reliability.test.ts)
//   die <out>                             rank 1 is killed (SIGKILL) after joining; rank 0 reports how its next collective fails
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ScriptModule, distributed, fromFunction, noGrad, optim, tensor, train, trainStep, type Tensor } from '../../lib/index.js';

const [mode, ...argv] = process.argv.slice(2) as [string, ...string[]];
const env = distributed.rankEnv();
const parallel = env !== null && env.worldSize > 1;
if (parallel) await distributed.init({ timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? 60_000) });
const rank = distributed.rank();
const world = distributed.worldSize();

const GLOBAL = 4;
const SIDE = 12;

/** Sample i of global batch `step`: deterministic, the same in every process. */
function sample(step: number, i: number): { x: number[]; y: number[] } {
  let s = (step * 7919 + i * 104729 + 1) >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = Array.from({ length: SIDE * SIDE }, () => next() * 2 - 1);
  const y = x.map((v, k) => (v > 0.3 ? 1 + (k % 6) : 0));
  return { x, y };
}

/** This rank's block of global batch `step` (rank r takes samples r*b .. r*b+b-1). */
function share(step: number): { input: Tensor; target: Tensor } {
  const b = GLOBAL / world;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = rank * b; i < (rank + 1) * b; i++) {
    const s = sample(step, i);
    xs.push(...s.x);
    ys.push(...s.y);
  }
  return { input: tensor(new Float32Array(xs), [b, 1, SIDE, SIDE]), target: tensor(BigInt64Array.from(ys.map(BigInt)), [b, SIDE, SIDE]) };
}

function params(module: ScriptModule): number[][] {
  return module.parameters().map((p) => Array.from(p.toArray() as Float32Array));
}

function loadNet(fixtures: string): ScriptModule {
  const module = ScriptModule.loadSync(path.join(fixtures, 'plain.pt'));
  // other weights on the other ranks: the first step must replace them with rank 0's
  if (rank > 0) noGrad(() => module.parameters().forEach((p) => p.mul_(-0.5)));
  module.train();
  return module;
}

if (mode === 'steps') {
  const [fixtures, out, steps] = argv as [string, string, string];
  const module = loadNet(fixtures);
  const optimizer = new optim.SGD(module.parameters(), { lr: 0.2, momentum: 0.9 });
  const losses: number[] = [];
  const syncMs: number[] = [];
  for (let step = 0; step < Number(steps); step++) {
    const { input, target } = share(step);
    const r = await trainStep({ module, optimizer, inputs: input, target, clipGradNorm: 5 });
    losses.push(r.loss);
    if (r.syncMs !== undefined) syncMs.push(r.syncMs);
    input.dispose();
    target.dispose();
  }
  writeFileSync(path.join(out, `steps-${world}-${rank}.json`), JSON.stringify({ losses, syncMs, params: params(module) }));
} else if (mode === 'train') {
  const [fixtures, out, epochs, stopAfter] = argv as [string, string, string, string | undefined];
  const module = loadNet(fixtures);
  const optimizer = new optim.AdamW(module.parameters(), { lr: 0.01 });
  const stop = new AbortController();
  let ranHere = 0; // epochs this process trained (a resumed run: only the rest)
  const r = await train({
    module,
    optimizer,
    epochs: Number(epochs),
    data: fromFunction(4, (epoch, i) => {
      const { input, target } = share(epoch * 4 + i);
      return { image: input, label: target, dispose: () => (input.dispose(), target.dispose()) };
    }),
    runDir: path.join(out, 'run'),
    resume: true,
    progress: 'none',
    signal: stop.signal,
    // a score that improves now and then, so best.ckpt moves during the run
    validate: async (_m, epoch) => ({ score: epoch % 4 === 3 ? epoch : 0 }),
    monitor: { metric: 'score', mode: 'max' },
    callbacks: {
      // rank 0 alone is asked to stop: every rank must stop with it
      onEpochEnd: (epoch) => {
        ranHere++;
        if (process.env.TEST_PRINT_EPOCHS) process.stdout.write(`epoch ${epoch}\n`);
        if (stopAfter !== undefined && rank === 0 && epoch + 1 === Number(stopAfter)) stop.abort();
      },
    },
  });
  writeFileSync(
    path.join(out, `train-${rank}.json`),
    JSON.stringify({ aborted: r.aborted, epochs: r.history.length, steps: r.steps, ranHere, bestEpoch: r.bestEpoch, params: params(module) }),
  );
} else if (mode === 'die') {
  const [out] = argv as [string];
  if (rank === 1) process.kill(process.pid, 'SIGKILL'); // as kill -9 would
  const started = Date.now();
  let error = '';
  try {
    for (let i = 0; i < 100; i++) await distributed.allReduceSum([1]);
  } catch (e) {
    error = `${(e as Error).name} ${(e as { kind?: string }).kind ?? ''}: ${(e as Error).message}`;
  }
  writeFileSync(path.join(out, 'die-0.json'), JSON.stringify({ error, ms: Date.now() - started }));
}
if (parallel) distributed.destroy();
