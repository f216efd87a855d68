// The data loader: batches of native tensors, decoded and augmented on worker threads,
// prefetched through a bounded queue, shuffled per epoch, delivered in a fixed order by an
// async iterator:
//
//   const loader = new DataLoader({ items, spatialDims: 2, transforms: T.student2d(224), batchSize: 24, workers: 2 });
//   for await (const batch of loader) { ... batch.image [B, 1, H, W] float32, batch.label [B, H, W] int64 ... }
//
// Reproducible: the order of epoch e and every sample's augmentation depend only on the
// seed, e and the sample, never on the number of workers or their timing. A file that fails
// to load fails its epoch with a DataLoadError naming it; a worker that dies does too.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/factories.js';
import type { Device } from '../tensor/dtype.js';
import type { Dataset, SliceEntry, VolumeEntry } from '../data/dataset.js';
import { DataLoadError } from '../data/errors.js';
import { LabelMapper, LABEL_MAPS, type UnmappedPolicy } from '../data/labels.js';
import type { BatchRequest, WorkerReply } from './loader-worker.js';
import { SamplePipeline, asLoadError, type BatchArrays, type SamplePipelineConfig, type SampleRef } from '../data/sample-pipeline.js';
import { Rng, hashSeed } from '../data/random.js';
import { checkTransforms, type TransformSpec } from '../data/transforms.js';
import { shardBatches, shardLength, type Shard } from '../distributed/sampler.js';

export interface LoaderOptions {
  /** The samples of one epoch (each once per epoch, samplesPerItem times). */
  items: readonly SampleRef[];
  /** 2: batches [B, 1, H, W]; 3: [B, 1, D, H, W]. */
  spatialDims: 2 | 3;
  /** Source label id -> class id (default: ids already are class ids). */
  labelMap?: LabelMapper | readonly [number, number][] | Record<number, number>;
  unmappedLabels?: UnmappedPolicy;
  transforms?: TransformSpec[];
  batchSize?: number;
  /** A new order every epoch (default true). */
  shuffle?: boolean;
  /** Leave out the last, smaller batch (default false). */
  dropLast?: boolean;
  seed?: number;
  /** Worker threads; 0 runs the pipeline on the main thread (default min(2, cpus)). */
  workers?: number;
  /** Batches made ahead of the consumer, at most (default 2 per worker, at least 2). */
  prefetch?: number;
  /** Times each item is drawn per epoch (e.g. several random crops of a volume; default 1). */
  samplesPerItem?: number;
  /** Where the batch tensors go (default 'cpu'). */
  device?: Device;
  /** Page-locked host memory for faster copies to a GPU: accepted and passed on, no effect on the CPU. */
  pinMemory?: boolean;
  /** Bytes of decoded files each worker keeps for re-reads (default 256 MiB). */
  cacheBytes?: number;
  /** Data-parallel: this rank's share of each epoch (batchSize per rank; see lib/distributed/sampler.ts). */
  shard?: Shard;
}

/** More loader workers than this only costs memory (each is a V8 isolate). */
export const MAX_WORKERS = 64;

export interface Batch {
  /** float32 [B, 1, H, W] or [B, 1, D, H, W], windowed as the transforms say. */
  image: Tensor;
  /** int64 [B, H, W] or [B, D, H, W] class ids, or null for unlabelled items. */
  label: Tensor | null;
  subjects: string[];
  /** The items the samples came from. */
  refs: SampleRef[];
  /** Per-sample voxel spacing after the transforms, mm. */
  spacing: number[][];
  /** Position of this batch in its epoch, and the epoch. */
  index: number;
  epoch: number;
  /** Frees both tensors now (otherwise the garbage collector does). */
  dispose(): void;
}

interface Job {
  index: number;
  refs: SampleRef[];
  seeds: number[];
}

interface WorkerSlot {
  worker: Worker;
  busy: Job | null;
  /** Resolves the job it runs. */
  settle: ((reply: WorkerReply | { type: 'crash'; error: Error }) => void) | null;
  dead: boolean;
}

/**
 * Starts a loader worker. Compiled (dist/), the worker is the .js file next to this one.
 * From source under tsx (mocha, `npx tsx`), a worker does not inherit tsx's module hooks
 * (flags such as --import tsx do not reach a worker's loader in Node 20), so a tiny
 * bootstrap registers tsx's ESM hooks inside the worker and then imports the .ts file.
 */
function startWorker(workerData: unknown): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./loader-worker.js', here), { workerData });
  const target = new URL('./loader-worker.ts', here).href;
  let api: string;
  try {
    // resolved here (not in the worker) so that it works from any working directory: the
    // ESM entry of tsx/esm/api (import.meta.resolve is missing where tsx runs this file as CJS)
    const meta = import.meta as { resolve?: (specifier: string) => string };
    if (typeof meta.resolve === 'function') {
      api = meta.resolve('tsx/esm/api');
    } else {
      const cjs = createRequire(here).resolve('tsx/esm/api');
      const esm = cjs.replace(/\.cjs$/, '.mjs');
      api = pathToFileURL(existsSync(esm) ? esm : cjs).href;
    }
  } catch {
    throw new Error(
      'DataLoader: running from TypeScript source needs the tsx package for its worker threads (npm install tsx), or use the compiled dist/ build',
    );
  }
  const boot = `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); ` + `return import(${JSON.stringify(target)}); });`;
  // execArgv [] : the parent's flags (V8 flags, tsx's own preload) are not wanted in the worker
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly items: readonly SampleRef[];
  readonly batchSize: number;
  readonly spatialDims: 2 | 3;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly workerCount: number;
  readonly prefetch: number;
  readonly samplesPerItem: number;
  readonly device: Device;
  readonly pinMemory: boolean;
  readonly shard: Shard | null;
  /** The epoch the next `for await` runs (starts at 0, advanced by each iteration). */
  epoch = 0;
  readonly #config: SamplePipelineConfig;
  #slots: WorkerSlot[] = [];
  #local: SamplePipeline | null = null;
  #running = false;
  #closed = false;
  /** Called whenever a worker becomes free (the running epoch dispatches more work). */
  #onIdle: (() => void) | null = null;

  constructor(options: LoaderOptions) {
    if (!Array.isArray(options.items)) throw new TypeError('items: expected a list of samples');
    if (options.spatialDims !== 2 && options.spatialDims !== 3) throw new TypeError('spatialDims: expected 2 or 3');
    const positiveInt = (name: string, v: number | undefined, dflt: number, min = 1): number => {
      const x = v ?? dflt;
      if (!Number.isInteger(x) || x < min) throw new RangeError(`${name}: expected an integer >= ${min}, got ${v}`);
      return x;
    };
    this.items = options.items;
    this.spatialDims = options.spatialDims;
    this.batchSize = positiveInt('batchSize', options.batchSize, 1);
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.seed = options.seed ?? 0;
    this.shard = options.shard && options.shard.worldSize > 1 ? options.shard : null;
    if (this.shard) shardBatches([], this.shard, this.batchSize); // checks rank and worldSize
    this.workerCount = positiveInt('workers', options.workers, Math.min(2, os.availableParallelism?.() ?? os.cpus().length), 0);
    // each worker is a V8 isolate of tens of MB: thousands exhaust memory before the first batch
    if (this.workerCount > MAX_WORKERS) throw new RangeError(`workers: expected at most ${MAX_WORKERS}, got ${this.workerCount}`);
    this.prefetch = positiveInt('prefetch', options.prefetch, Math.max(2, 2 * this.workerCount));
    this.samplesPerItem = positiveInt('samplesPerItem', options.samplesPerItem, 1);
    this.device = options.device ?? 'cpu';
    this.pinMemory = options.pinMemory ?? false;
    const transforms = options.transforms ?? [];
    checkTransforms(transforms);
    const mapper =
      options.labelMap instanceof LabelMapper
        ? options.labelMap
        : new LabelMapper(
            (options.labelMap as [number, number][] | Record<number, number> | undefined) ?? LABEL_MAPS.identity,
            options.unmappedLabels ?? 'error',
          );
    this.#config = {
      spatialDims: this.spatialDims,
      labelMap: mapper.entries(),
      unmapped: options.unmappedLabels ?? mapper.unmapped,
      transforms: structuredClone(transforms),
      cacheBytes: options.cacheBytes,
    };
  }

  /**
   * A loader over a dataset's slices (2D) or volumes (3D), optionally only some subjects.
   * For kind 'volumes' with spatialDims 2, every axial slice of every volume is an item.
   */
  static fromDataset(
    dataset: Dataset,
    options: Omit<LoaderOptions, 'items' | 'labelMap' | 'spatialDims'> & {
      kind: 'slices' | 'volumes';
      subjects?: Iterable<string>;
      /** Keep only the entries this accepts (e.g. volumes of one phase). */
      filter?: (entry: VolumeEntry | SliceEntry) => boolean;
      spatialDims?: 2 | 3;
      zRanges?: Map<string, [number, number]>;
    },
  ): DataLoader {
    const wanted = options.subjects ? new Set(options.subjects) : null;
    const entries: (VolumeEntry | SliceEntry)[] = (options.kind === 'slices' ? dataset.slices : dataset.volumes).filter(
      (e) => (!wanted || wanted.has(e.subject)) && (!options.filter || options.filter(e)),
    );
    const spatialDims = options.spatialDims ?? (options.kind === 'slices' ? 2 : 3);
    const items: SampleRef[] = entries.map((e) => {
      const meta: Record<string, string> = {};
      if ('phase' in e && e.phase) meta.phase = e.phase;
      if ('level' in e && e.level) meta.level = e.level;
      const ref: SampleRef = { image: e.image, subject: e.subject, meta };
      if (e.label) ref.label = e.label;
      const z = options.zRanges?.get(e.image);
      if (z) ref.zRange = z;
      return ref;
    });
    const { kind: _kind, subjects: _subjects, filter: _filter, zRanges: _zRanges, ...loaderOptions } = options;
    return new DataLoader({ ...loaderOptions, items, spatialDims, labelMap: dataset.labelMap, unmappedLabels: dataset.labelMap.unmapped });
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.items.length * this.samplesPerItem;
    if (this.shard) return shardLength(n, this.shard.worldSize, this.batchSize, this.dropLast);
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The batches of an epoch: which items, in which order, with which seeds. */
  plan(epoch: number): Job[] {
    const draws: { item: number; rep: number }[] = [];
    for (let rep = 0; rep < this.samplesPerItem; rep++) for (let item = 0; item < this.items.length; item++) draws.push({ item, rep });
    if (this.shuffle) new Rng(hashSeed(this.seed, epoch, 0x0de5)).shuffle(draws);
    const jobs: Job[] = [];
    // one process: consecutive batches; data-parallel: this rank's block of each global batch
    const chunks = this.shard ? shardBatches(draws, this.shard, this.batchSize, this.dropLast) : null;
    for (let start = 0; chunks ? jobs.length < chunks.length : start < draws.length; start += this.batchSize) {
      const chunk = chunks ? chunks[jobs.length]! : draws.slice(start, start + this.batchSize);
      if (chunk.length < this.batchSize && this.dropLast && !chunks) break;
      jobs.push({
        index: jobs.length,
        refs: chunk.map((d) => this.items[d.item]),
        seeds: chunk.map((d) => hashSeed(this.seed, epoch, d.item, d.rep)),
      });
    }
    return jobs;
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.iterate(this.epoch++);
  }

  /** The batches of one epoch (does not advance `epoch`). One epoch runs at a time. */
  async *iterate(epoch: number): AsyncGenerator<Batch, void, undefined> {
    if (this.#closed) throw new Error('DataLoader: closed');
    if (this.#running) throw new Error('DataLoader: an epoch is already running; finish or break out of it first');
    this.#running = true;
    try {
      const jobs = this.plan(epoch);
      if (this.workerCount === 0) {
        yield* this.#iterateLocal(jobs, epoch);
      } else {
        yield* this.#iterateWorkers(jobs, epoch);
      }
    } finally {
      this.#running = false;
    }
  }

  async *#iterateLocal(jobs: Job[], epoch: number): AsyncGenerator<Batch> {
    this.#local ??= new SamplePipeline(this.#config);
    for (const job of jobs) {
      await new Promise<void>((resolve) => setImmediate(resolve)); // let timers and I/O run between batches
      let arrays: BatchArrays;
      try {
        arrays = this.#local.batch(job.refs, job.seeds);
      } catch (e) {
        throw asLoadError(e, job.refs[0]);
      }
      yield this.#wrap(arrays, job, epoch);
    }
  }

  async *#iterateWorkers(jobs: Job[], epoch: number): AsyncGenerator<Batch> {
    this.#ensureWorkers();
    for (const s of this.#slots) s.worker.ref();
    const ready = new Map<number, BatchArrays>();
    let failure: Error | null = null;
    let nextDispatch = 0;
    let nextYield = 0;
    let wake: (() => void) | null = null;
    let cancelled = false;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    const dispatch = (): void => {
      for (const slot of this.#slots) {
        if (cancelled || failure || nextDispatch >= jobs.length || nextDispatch >= nextYield + this.prefetch) return;
        if (slot.busy || slot.dead) continue;
        const job = jobs[nextDispatch++];
        this.#run(slot, job).then(
          (arrays) => {
            if (cancelled) return;
            ready.set(job.index, arrays);
            dispatch();
            notify();
          },
          (error: Error) => {
            if (cancelled) return;
            failure ??= error;
            notify();
          },
        );
      }
    };
    // a worker still finishing a batch of an abandoned epoch frees up later: dispatch then
    this.#onIdle = dispatch;
    try {
      dispatch();
      while (nextYield < jobs.length) {
        while (!failure && !ready.has(nextYield)) {
          if (this.#slots.every((s) => s.dead)) throw new DataLoadError('DataLoader: every worker has died', null);
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (failure) throw failure;
        const arrays = ready.get(nextYield)!;
        ready.delete(nextYield);
        const job = jobs[nextYield++];
        dispatch();
        yield this.#wrap(arrays, job, epoch);
      }
    } finally {
      cancelled = true;
      this.#onIdle = null;
      ready.clear();
      // replace dead workers for the next epoch; idle ones stop holding the process open
      this.#slots = this.#slots.filter((s) => !s.dead);
      for (const s of this.#slots) s.worker.unref();
    }
  }

  /** Sends a job to a worker and waits for its reply, or for the worker's death. */
  #run(slot: WorkerSlot, job: Job): Promise<BatchArrays> {
    slot.busy = job;
    return new Promise<BatchArrays>((resolve, reject) => {
      slot.settle = (reply) => {
        slot.busy = null;
        slot.settle = null;
        queueMicrotask(() => this.#onIdle?.());
        if (reply.type === 'batch') resolve({ image: reply.image, label: reply.label, shape: reply.shape, spacing: reply.spacing });
        else if (reply.type === 'error') reject(new DataLoadError(reply.message, reply.file));
        else {
          const files = job.refs.map((r) => r.image);
          reject(new DataLoadError(`a loader worker died while loading ${files.join(', ')}: ${reply.error.message}`, files[0] ?? null, { cause: reply.error }));
        }
      };
      const request: BatchRequest = { type: 'batch', id: job.index, refs: job.refs, seeds: job.seeds };
      slot.worker.postMessage(request);
    });
  }

  #ensureWorkers(): void {
    this.#slots = this.#slots.filter((s) => !s.dead);
    while (this.#slots.length < this.workerCount) {
      const worker = startWorker({ config: this.#config });
      const slot: WorkerSlot = { worker, busy: null, settle: null, dead: false };
      worker.on('message', (reply: WorkerReply) => slot.settle?.(reply));
      const die = (error: Error): void => {
        if (slot.dead) return;
        slot.dead = true;
        slot.settle?.({ type: 'crash', error });
      };
      worker.on('error', die);
      worker.on('messageerror', (e) => die(e));
      worker.on('exit', (code) => die(new Error(`worker exited with code ${code}`)));
      worker.unref();
      this.#slots.push(slot);
    }
  }

  #wrap(arrays: BatchArrays, job: Job, epoch: number): Batch {
    const b = job.refs.length;
    const opts = { device: this.device };
    const image = tensor(arrays.image, [b, 1, ...arrays.shape], opts);
    const label = arrays.label ? tensor(arrays.label, [b, ...arrays.shape], { ...opts, dtype: 'int64' }) : null;
    return {
      image,
      label,
      subjects: job.refs.map((r) => r.subject),
      refs: job.refs,
      spacing: arrays.spacing,
      index: job.index,
      epoch,
      dispose() {
        image.dispose();
        label?.dispose();
      },
    };
  }

  /** Stops the workers. The loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((s) => ((s.dead = true), s.worker.terminate())));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
