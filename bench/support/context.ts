// What every case shares: the options, one Python worker, the exported models and the phantom
// (each made once per run), tensors handed to Python as files, and the results so far.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generatePhantom, loadDataset, type Dataset, type Device, type Tensor } from '../../lib/index.js';
import { exportModel, type ExportedModel, type ModelArch, type ModelPreset } from '../../lib/models/export.js';
import { PythonWorker, type PythonInfo } from './python-worker.js';
import { gpuProcessMiB, peakRssMiB, resetPeakRss } from './timing.js';

export interface BenchOptions {
  quick: boolean;
  /** The paper-size students too (always on CUDA; opt-in on the CPU, where a step takes seconds). */
  base: boolean;
  device: Device;
  threads: number;
  /** Timed repetitions per side (after `warmup` untimed ones). */
  reps: number;
  warmup: number;
  out: string | null;
  cases: string[];
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      base: { type: 'boolean', default: false },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: process.env.BENCH_THREADS ?? String(Math.min(2, os.availableParallelism())) },
      reps: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick!;
  const device = values.device as Device;
  return {
    quick,
    base: !quick && (values.base! || device.startsWith('cuda')),
    device,
    threads: Number(values.threads),
    reps: Number(values.reps ?? (quick ? 1 : 10)),
    warmup: Number(values.warmup ?? (quick ? 0 : 3)),
    out: values.out ?? null,
    cases: positionals,
  };
}

export interface Memory {
  tsPeakRssMiB: number;
  pyPeakRssMiB?: number;
  /** nvidia-smi's figure per process (context + reserved blocks); CUDA only. */
  tsGpuMiB?: number | null;
  pyGpuMiB?: number | null;
  pyCudaPeakAllocatedMiB?: number;
}

/** One measured configuration of a case: medians in ms per side, labelled ratios, other figures. */
export interface Row {
  name: string;
  /** What one repetition is (a step, a batch, a pass over the volume set). */
  unit: string;
  ts: Record<string, number>;
  py: Record<string, number>;
  ratios: Record<string, number>;
  metrics: Record<string, number | string | null>;
  memory: Memory;
  reps: number;
}

export interface Target {
  case: string;
  row: string;
  metric: string;
  value: number | null;
  goal: string;
  met: boolean;
}

export interface TensorFile {
  file: string;
  dtype: string;
  shape: number[];
}

export class Bench {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'sd-bench-'));
  readonly notes: string[] = [];
  readonly targets: Target[] = [];
  readonly rows = new Map<string, Row[]>();
  pythonInfo: PythonInfo | null = null;
  #python: Promise<PythonWorker> | null = null;
  #models = new Map<string, Promise<ExportedModel>>();
  #phantom: Promise<Dataset> | null = null;
  #shared = 0;

  constructor(readonly options: BenchOptions) {}

  /** The Python worker, started on first use with the run's thread count and device. */
  python(): Promise<PythonWorker> {
    this.#python ??= (async () => {
      const py = new PythonWorker();
      this.pythonInfo = await py.config(this.options.threads, this.options.device);
      if (this.options.device.startsWith('cuda') && !this.pythonInfo.cuda) {
        throw new Error(`bench: --device ${this.options.device}, but the Python torch (${this.pythonInfo.torch}) has no CUDA`);
      }
      return py;
    })();
    return this.#python;
  }

  /** A zoo model exported once per run (TorchScript, random weights, seed 0). */
  model(arch: ModelArch, preset: ModelPreset): Promise<ExportedModel> {
    const key = `${arch}-${preset}`;
    if (!this.#models.has(key)) this.#models.set(key, exportModel({ arch, preset, classes: 7, out: path.join(this.dir, `${key}.pt`) }));
    return this.#models.get(key)!;
  }

  /** The phantom dataset of this run: 2D slices for the loader, 3D volumes for the teacher. */
  phantom(): Promise<Dataset> {
    const dir = path.join(this.dir, 'phantom');
    this.#phantom ??= generatePhantom({ out: dir, volumes: this.options.quick ? 1 : 2, slices: this.options.quick ? 24 : 96, seed: 1 }).then(() =>
      loadDataset(dir),
    );
    return this.#phantom;
  }

  /** Writes a CPU tensor's bytes for bench_cases.read. */
  share(t: Tensor): TensorFile {
    const file = path.join(this.dir, `shared-${this.#shared++}.bin`);
    const data = t.toArray() as ArrayBufferView;
    writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { file, dtype: t.dtype, shape: [...t.shape] };
  }

  /** Call at a row's start: peak memory is reported per row. */
  resetPeaks(): void {
    resetPeakRss();
  }

  /** Peak memory of both processes since the case began (the Python one's since its setup). */
  async memory(withPython: boolean): Promise<Memory> {
    const m: Memory = { tsPeakRssMiB: peakRssMiB() };
    const cudaRun = this.options.device.startsWith('cuda');
    if (cudaRun) m.tsGpuMiB = gpuProcessMiB(process.pid);
    if (withPython) {
      const py = await (await this.python()).memory();
      m.pyPeakRssMiB = py.peakRssMiB;
      if (cudaRun) {
        m.pyGpuMiB = gpuProcessMiB(this.pythonInfo!.pid);
        m.pyCudaPeakAllocatedMiB = py.cudaPeakAllocatedMiB;
      }
    }
    return m;
  }

  /** Records a docs/design.md target; not judged on --quick runs (tiny sizes, one repetition). */
  target(t: Omit<Target, 'met'>, met: (v: number) => boolean): void {
    if (this.options.quick) return;
    this.targets.push({ ...t, met: t.value !== null && Number.isFinite(t.value) && met(t.value) });
  }

  async close(): Promise<void> {
    if (this.#python) await (await this.#python.catch(() => null))?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One job of `npm run bench`: a list of rows, measured with the shared context. */
export interface BenchCase {
  name: string;
  title: string;
  run(bench: Bench): Promise<Row[]>;
}
