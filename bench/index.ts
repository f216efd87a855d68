// npm run bench [-- CASE ... --quick --base --device cuda --threads N --reps N --warmup N --out FILE]
// Runs the cases (all by default; names or aliases ops / data select some), TypeScript and
// Python alternating on the same module, batch and threads, and writes one JSON file
// (bench/results/<cases>-<device>[-quick].json unless --out). --quick: every case once at tiny
// sizes (CI). Exit code 1 when a case failed, 2 when the device cannot be used.
import os from 'node:os';
import { buildInfo, cuda, setNumThreads } from '../lib/index.js';
import { dataParallelCase } from './cases/data-parallel.js';
import { distOp } from './cases/dist-op.js';
import { eventLoopCase } from './cases/event-loop.js';
import { inferenceCase } from './cases/inference.js';
import { loaderCase } from './cases/loader.js';
import { overheadCase } from './cases/overhead.js';
import { prototypeCase } from './cases/prototype.js';
import { trainCase } from './cases/train-step.js';
import { Bench, parseOptions, type BenchCase } from './support/context.js';
import { printCase, printTargets, writeResults } from './support/report.js';
import { busyCpus } from './support/timing.js';

// In this order: the cases whose LibTorch work all runs on the compute thread first (a parallel
// op on the JS thread leaves an OpenMP pool there until async work is queued; the train case's
// last row measures that); the loader's headroom needs the train case's step rates.
const CASES: readonly BenchCase[] = [inferenceCase, trainCase, loaderCase, eventLoopCase, prototypeCase, distOp, overheadCase, dataParallelCase];
const ALIASES: Record<string, string> = { ops: 'dist-op', data: 'loader' };

function deviceProblem(device: string): string | null {
  if (device === 'cpu') return null;
  if (!device.startsWith('cuda')) return `--device: expected cpu or cuda[:N], got '${device}'`;
  const info = buildInfo();
  if (!info.cudaBuild) {
    return `--device ${device}: this addon was built without CUDA (LibTorch ${info.torchVersion}, ${info.addonPath}); rebuild it against a CUDA LibTorch (README, "Building for CUDA"), e.g. with bench/cuda.sh on the GPU machine`;
  }
  if (!cuda.isAvailable()) return `--device ${device}: the addon has CUDA, but no CUDA device is visible (driver, CUDA_VISIBLE_DEVICES?)`;
  return null;
}

const options = parseOptions(process.argv.slice(2));
const problem = deviceProblem(options.device);
if (problem) {
  console.error(`bench: ${problem}`);
  process.exit(2);
}
const wanted = options.cases.map((c) => ALIASES[c] ?? c);
const unknown = wanted.filter((c) => !CASES.some((k) => k.name === c));
if (unknown.length) {
  console.error(`bench: unknown case ${unknown.join(', ')}; one of ${CASES.map((c) => c.name).join(', ')} (aliases ops, data)`);
  process.exit(2);
}
setNumThreads(options.threads);
const bench = new Bench(options);
const started = new Date();
const load = { start: { average: os.loadavg(), busyCpus: await busyCpus() }, end: {} };
const busy = load.start.busyCpus;
if (busy !== null && busy > Math.max(0.3, os.availableParallelism() - options.threads)) {
  bench.notes.push(
    `machine busy at start (${busy.toFixed(1)} of ${os.availableParallelism()} CPUs in use by others): OpenMP threads that lose their core stall whole ops, so CPU figures may be far off`,
  );
}
console.log(
  `slice-distill bench: ${options.device}, ${options.threads} threads, ${options.quick ? 'quick (every case once, tiny sizes)' : `${options.warmup} warm-up + ${options.reps} timed repetitions`}${options.base ? ', base presets included' : ''}`,
);
const errors: { case: string; error: string }[] = [];
try {
  for (const c of CASES.filter((k) => wanted.length === 0 || wanted.includes(k.name))) {
    const t0 = performance.now();
    try {
      bench.rows.set(c.name, await c.run(bench));
      printCase(c.title, bench.rows.get(c.name)!, (performance.now() - t0) / 1e3);
    } catch (e) {
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      errors.push({ case: c.name, error });
      console.error(`\n== ${c.name} FAILED: ${error}`);
    }
  }
} finally {
  await bench.close();
}
printTargets(bench);
for (const n of bench.notes) console.log(`note: ${n}`);
const file = writeResults(bench, {
  startedAt: started.toISOString(),
  seconds: (Date.now() - started.getTime()) / 1e3,
  load: { ...load, end: { average: os.loadavg(), busyCpus: await busyCpus() } },
  errors,
});
console.log(`\nresults: ${file}`);
process.exitCode = errors.length ? 1 : 0;
