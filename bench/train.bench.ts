// npm run bench:train — one distillation training step (student forward, 0.4 CE + 0.6 Dice
// + 0.5 L_DIST, backward, SGD step) from TypeScript against the same step in Python PyTorch,
// on the same TorchScript student, batch and thread count, alternating A B A B.
//   --quick: tiny presets, few reps (CI).  --base: also the paper-size students.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScriptModule, buildInfo, optim, randn, setNumThreads, tensor, trainStep } from '../lib/index.js';
import { exportModel, type ModelArch, type ModelPreset } from '../lib/models/export.js';
import { PythonWorker, median } from './support/python-worker.js';

const quick = process.argv.includes('--quick');
const withBase = process.argv.includes('--base');
const threads = Number(process.env.BENCH_THREADS ?? 2);
const reps = quick ? 2 : 10;
const classes = 7;
setNumThreads(threads);

interface Row {
  arch: ModelArch;
  preset: ModelPreset;
  batch: number[];
  typescriptMs: number;
  pythonOnehotMs: number;
  pythonExtensionMs: number;
  ratioOnehot: number;
  ratioExtension: number;
  tsMaxRssMiB: number;
  pyMaxRssMiB: number;
}

async function benchStudent(dir: string, arch: ModelArch, preset: ModelPreset): Promise<Row> {
  const exported = await exportModel({ arch, preset, classes, out: path.join(dir, `${arch}-${preset}.pt`) });
  const [H, W] = exported.metadata.inputSize.slice(-2) as [number, number];
  const B = preset === 'tiny' ? 4 : 2;
  // one batch, written for Python: float32 images, int64 labels, float32 teacher prototype
  const x = new Float32Array(B * H * W).map((_, i) => ((i * 7919) % 1000) / 1000);
  const y = BigInt64Array.from({ length: B * H * W }, (_, i) => (Math.floor(i / W) % H < H / 3 ? 0n : BigInt(Math.floor(((i % W) * classes) / W))));
  const teacher = randn([classes, classes]).mul(3);
  const data = path.join(dir, `${arch}-${preset}.bin`);
  writeFileSync(data, Buffer.concat([Buffer.from(x.buffer), Buffer.from(y.buffer), Buffer.from((teacher.toArray() as Float32Array).buffer)]));

  const module = await ScriptModule.load(exported.path);
  module.train();
  const optimizer = new optim.SGD(module.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const input = tensor(x, [B, 1, H, W]);
  const target = tensor(y, [B, H, W]);
  const loss = { crossEntropy: { weight: 0.4 }, dice: { weight: 0.6 }, dist: { weight: 0.5, teacherPrototype: teacher } };
  const tsStep = async () => {
    const t0 = process.hrtime.bigint();
    await trainStep({ module, optimizer, inputs: input, target, loss });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };

  const times = { ts: [] as number[], onehot: [] as number[], ext: [] as number[] };
  let pyRss = 0;
  for (const impl of ['onehot', 'extension'] as const) {
    const py = new PythonWorker();
    try {
      await py.send({ cmd: 'setup', model: exported.path, data, shape: [B, H, W], classes, threads, impl });
      // warm-up: TorchScript's profiling executor optimises a graph after its first runs
      await py.send({ cmd: 'run', reps: 3 });
      if (impl === 'onehot') for (let i = 0; i < 3; i++) await tsStep();
      for (let i = 0; i < reps; i++) {
        if (impl === 'onehot') times.ts.push(await tsStep());
        const r = await py.send<{ ms: number[]; maxRssMiB: number }>({ cmd: 'run', reps: 1 });
        (impl === 'onehot' ? times.onehot : times.ext).push(...r.ms);
        pyRss = Math.max(pyRss, r.maxRssMiB);
      }
    } finally {
      await py.close();
    }
  }
  const ts = median(times.ts);
  return {
    arch,
    preset,
    batch: [B, 1, H, W],
    typescriptMs: ts,
    pythonOnehotMs: median(times.onehot),
    pythonExtensionMs: median(times.ext),
    ratioOnehot: median(times.onehot) / ts,
    ratioExtension: median(times.ext) / ts,
    tsMaxRssMiB: process.resourceUsage().maxRSS / 1024,
    pyMaxRssMiB: pyRss,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-bench-train-'));
const rows: Row[] = [];
const presets: ModelPreset[] = withBase && !quick ? ['tiny', 'base'] : ['tiny'];
for (const preset of presets) {
  for (const arch of ['deeplabv3', 'swin_unet', 'missformer'] as ModelArch[]) rows.push(await benchStudent(dir, arch, preset));
}
console.table(
  Object.fromEntries(
    rows.map((r) => [
      `${r.arch} ${r.preset} ${r.batch.join('x')}`,
      {
        'TS ms': r.typescriptMs.toFixed(1),
        'Py one-hot ms': r.pythonOnehotMs.toFixed(1),
        'Py ext ms': r.pythonExtensionMs.toFixed(1),
        'Py/TS (one-hot)': r.ratioOnehot.toFixed(2),
        'Py/TS (ext)': r.ratioExtension.toFixed(2),
      },
    ]),
  ),
);
const result = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, threads }, versions: { torch: buildInfo().torchVersion, node: process.version }, device: 'cpu', trainStep: rows };
console.log(JSON.stringify(result));
if (!quick) {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/train-cpu.json', JSON.stringify(result, null, 1) + '\n');
}
