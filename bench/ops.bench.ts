// npm run bench:ops — the fused prototype + DIST op against the one-hot composition, forward
// + backward, side by side (A B A B ...), and the teacher's accumulator over 3D volumes.
// Prints a table and one JSON line; `--quick` runs tiny sizes once (CI proves it works).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildInfo, getNumThreads, ops, randn, scope, setNumThreads, tensor, type Tensor } from '../lib/index.js';

const quick = process.argv.includes('--quick');
const threads = Number(process.env.BENCH_THREADS ?? 2);
setNumThreads(threads);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function randomLabels(count: number, classes: number): Tensor {
  const y = new BigInt64Array(count);
  let s = 7;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    // mostly background, as in CT
    const r = s / 2147483648;
    y[i] = BigInt(r < 0.7 ? 0 : 1 + Math.floor(((r - 0.7) / 0.3) * (classes - 1)));
  }
  return tensor(y);
}

function timeStep(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  scope(fn);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function protoDist(B: number, C: number, H: number, W: number, reps: number) {
  const logits = randn([B, C, H, W]);
  const labels = randomLabels(B * H * W, C).reshape([B, H, W]);
  const teacher = randn([C, C]).mul(3);
  const run = (impl: typeof ops | typeof ops.reference) => () => {
    const x = logits.detach().requiresGrad_();
    impl.protoDistLoss(x, labels, teacher).backward();
  };
  const fused = run(ops);
  const reference = run(ops.reference);
  fused();
  reference();
  const tf: number[] = [];
  const tr: number[] = [];
  for (let i = 0; i < reps; i++) {
    tf.push(timeStep(fused));
    tr.push(timeStep(reference));
  }
  const bytes = B * C * H * W * 4 * 2 + B * H * W * 8 * 2; // logits read, grad written, labels read twice
  return { fusedMs: median(tf), referenceMs: median(tr), ratio: median(tr) / median(tf), gbPerS: bytes / (median(tf) / 1e3) / 1e9 };
}

function accumulator(B: number, C: number, D: number, reps: number) {
  const logits = randn([B, C, D, D, D]);
  const labels = randomLabels(B * D * D * D, C).reshape([B, D, D, D]);
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const acc = new ops.PrototypeAccumulator({ numClasses: C });
    times.push(timeStep(() => acc.add(logits, labels)));
  }
  const ms = median(times.slice(1));
  return { ms, volumesPerS: B / (ms / 1e3) };
}

// In a child process: the peak RSS growth of a few fused or reference steps, in MiB.
const peakArg = process.argv.indexOf('--peak');
if (peakArg > 0) {
  const impl = process.argv[peakArg + 1] === 'fused' ? ops : ops.reference;
  const [B, C, H, W] = process.argv.slice(peakArg + 2, peakArg + 6).map(Number) as [number, number, number, number];
  const logits = randn([B, C, H, W]);
  const labels = randomLabels(B * H * W, C).reshape([B, H, W]);
  const teacher = randn([C, C]);
  const before = process.resourceUsage().maxRSS;
  for (let i = 0; i < 3; i++) scope(() => impl.protoDistLoss(logits.detach().requiresGrad_(), labels, teacher).backward());
  console.log(JSON.stringify({ peakMiB: (process.resourceUsage().maxRSS - before) / 1024 }));
  process.exit(0);
}

function peakMiB(impl: 'fused' | 'reference', B: number, C: number, H: number, W: number): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--peak', impl, ...[B, C, H, W].map(String)], {
    env: { ...process.env, BENCH_THREADS: String(threads) },
  });
  return (JSON.parse(out.toString().trim().split('\n').pop()!) as { peakMiB: number }).peakMiB;
}

const sizes = quick ? { B: 2, C: 7, H: 32, W: 32, D: 16, reps: 1 } : { B: 8, C: 7, H: 224, W: 224, D: 96, reps: 15 };
const dist = protoDist(sizes.B, sizes.C, sizes.H, sizes.W, sizes.reps);
const memory = { fusedPeakMiB: peakMiB('fused', sizes.B, sizes.C, sizes.H, sizes.W), referencePeakMiB: peakMiB('reference', sizes.B, sizes.C, sizes.H, sizes.W) };
const acc = accumulator(2, sizes.C, sizes.D, quick ? 1 : 5);
const result = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, threads: getNumThreads() },
  versions: { torch: buildInfo().torchVersion, node: process.version },
  device: 'cpu',
  protoDistLoss: { shape: [sizes.B, sizes.C, sizes.H, sizes.W], ...dist, ...memory },
  accumulator: { shape: [2, sizes.C, sizes.D, sizes.D, sizes.D], ...acc },
};
console.table({
  [`protoDistLoss fwd+bwd ${sizes.B}x${sizes.C}x${sizes.H}x${sizes.W}`]: {
    fusedMs: dist.fusedMs.toFixed(2),
    referenceMs: dist.referenceMs.toFixed(2),
    ratio: dist.ratio.toFixed(1),
    'fused GB/s': dist.gbPerS.toFixed(1),
    'peak MiB fused / ref': `${memory.fusedPeakMiB.toFixed(0)} / ${memory.referencePeakMiB.toFixed(0)}`,
  },
  [`accumulator 2x${sizes.C}x${sizes.D}^3`]: { fusedMs: acc.ms.toFixed(1), 'volumes/s': acc.volumesPerS.toFixed(1) },
});
console.log(JSON.stringify(result));
if (!quick) {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/ops-cpu.json`, JSON.stringify(result, null, 1) + '\n');
}
