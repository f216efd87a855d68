// Loads the compiled addon and describes its raw interface. Everything here is internal:
// the public API is the Tensor class and the functions in lib/tensor.
import type { Backend, BinaryOp, Device, DType, ForwardMode, InplaceOp, InterpolateMode, OptimizerKind, ReduceOp, UnaryOp } from './names.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DisposedError, TensorDisposedError, TorchError } from '../errors.js';

/** An opaque native object owning one at::Tensor. */
export interface Handle {
  dispose(): void;
  isDisposed(): boolean;
}

export type Operand = Handle | number | boolean | bigint;
export type IndexEntry = number | null | '...' | ':' | { start?: number; stop?: number; step?: number } | Handle;

export interface CreationOptionsRaw {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
  bool?: boolean;
}

/** Values a TorchScript method takes and returns; tensors travel as handles. */
export type IValueRaw = Handle | number | boolean | string | null | IValueRaw[] | { [key: string]: IValueRaw };

export interface ModuleHandleRaw {
  call(method: string, inputs: IValueRaw[]): IValueRaw;
  train(on: boolean): void;
  isTraining(): boolean;
  namedParameters(): [string, Handle][];
  namedBuffers(): [string, Handle][];
  loadStateDict(dict: Record<string, Handle>, strict: boolean): { missing: string[]; unexpected: string[] };
  to(device: Device | null, dtype: DType | null): void;
  save(path: string): void;
  freeze(): void;
  methodNames(): string[];
  frozenModeModules(): string[];
  extraFiles(): Record<string, string>;
  dispose(): void;
}

export interface OptimizerHandleRaw {
  step(): void;
  zeroGrad(setToNone?: boolean): void;
  getLr(): number;
  setLr(lr: number): void;
  stateDict(): OptimizerStateRaw;
  loadStateDict(state: OptimizerStateRaw): void;
  dispose(): void;
}

// The option bags below carry every field: defaults are resolved in TS (lib/optim/options.ts,
// lib/losses/options.ts, lib/ops/dist-options.ts) and the addon reads required fields only.

export interface SgdOptionsRaw {
  kind: 'sgd';
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface AdamOptionsRaw {
  kind: 'adam' | 'adamw';
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

export type OptimizerOptionsRaw = SgdOptionsRaw | AdamOptionsRaw;

export interface DiceOptionsRaw {
  smooth: number;
  squared: boolean;
  includeBackground: boolean;
  ignoreIndex: number | null;
}

export interface DistOptionsRaw {
  tau: number;
  interWeight: number;
  intraWeight: number;
  channels: 'present' | 'all';
  /** null: the teacher saw every class. */
  teacherMask: readonly boolean[] | null;
  ignoreIndex: number | null;
  checkLabels: boolean;
}

/** The training step's loss: each term null when it does not count. */
export interface LossSpecRaw {
  crossEntropy: { weight: number; classWeights: Handle | null } | null;
  dice: ({ weight: number } & Omit<DiceOptionsRaw, 'ignoreIndex'>) | null;
  dist: ({ weight: number; teacherPrototype: Handle } & Omit<DistOptionsRaw, 'ignoreIndex' | 'checkLabels'>) | null;
  ignoreIndex: number | null;
}

export interface InterpolateOptionsRaw {
  mode: InterpolateMode;
  /** Exactly one of size and scaleFactor is non-null. */
  size: readonly number[] | null;
  scaleFactor: readonly number[] | null;
  /** null for 'nearest', where it does not apply. */
  alignCorners: boolean | null;
}

export interface OptimizerStateRaw {
  kind: OptimizerKind;
  lr: number;
  state: ({ step?: number; [tensor: string]: Handle | number | undefined } | null)[];
  scaler?: { scale: Handle; growthTracker: Handle };
}

export interface TrainStepSpecRaw {
  module: ModuleHandleRaw;
  optimizer: OptimizerHandleRaw;
  inputs: IValueRaw[];
  target: Handle;
  loss: LossSpecRaw;
  clipGradNorm: number | null;
  amp: boolean;
  zeroGrad: boolean;
  step: boolean;
  lossScale: number;
  /** Data-parallel: sync with the process group of distributedInit. */
  distributed: boolean;
}

export interface TrainStepResultRaw {
  loss: number;
  crossEntropy: number;
  dice: number;
  /** L_seg: ceWeight * crossEntropy + diceWeight * dice. */
  seg: number;
  /** L_DIST (before beta) = tau^2 (interWeight * distInter + intraWeight * distIntra). */
  dist: number;
  distInter: number;
  distIntra: number;
  stepped: boolean;
  /** The loss was NaN or infinite: no backward, no step, the gradients cleared. */
  nonFinite: boolean;
  gradNorm?: number;
  ampScale?: number;
  /** Data-parallel steps: milliseconds spent in collectives (broadcasts and all-reduces). */
  syncMs?: number;
}

export interface DistributedInitRaw {
  backend: Backend;
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
}

/** The CPU tensor allocator's settings (ALLOCATOR below has the defaults). */
export interface AllocatorOptionsRaw {
  /** Requests of this many bytes and more are blocks of their own; smaller ones go to LibTorch's allocator. */
  minBlockBytes: number;
  /** Idle blocks are kept up to this many bytes... */
  cacheFloorBytes: number;
  /** ...or up to the peak of live block bytes where that is larger. */
  followPeak: boolean;
}

export interface AllocatorStatsRaw extends AllocatorOptionsRaw {
  /** false where SLICE_DISTILL_ALLOCATOR=system kept LibTorch's default allocator (the rest is 0). */
  installed: boolean;
  /** The idle bytes the cache may hold now. */
  limitBytes: number;
  liveBytes: number;
  peakLiveBytes: number;
  idleBytes: number;
  liveBlocks: number;
  idleBlocks: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface NativeAddon {
  setErrorClasses(classes: { TorchError: typeof TorchError; TensorDisposedError: typeof TensorDisposedError; DisposedError: typeof DisposedError }): void;
  // creation and data
  fromTypedArray(data: ArrayBufferView, shape: number[], options?: CreationOptionsRaw): Handle;
  factory(kind: 'zeros' | 'ones' | 'empty' | 'rand' | 'randn', shape: number[], options?: CreationOptionsRaw): Handle;
  full(shape: number[], value: number | boolean, options?: CreationOptionsRaw): Handle;
  arange(start: number, end: number, step: number, options?: CreationOptionsRaw): Handle;
  toArray(t: Handle): Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array;
  item(t: Handle): number | boolean | bigint;
  shape(t: Handle): number[];
  dtype(t: Handle): DType;
  device(t: Handle): Device;
  numel(t: Handle): number;
  to(t: Handle, device?: Device | null, dtype?: DType | null, copy?: boolean): Handle;
  // math
  unary(op: UnaryOp, t: Handle): Handle;
  binary(op: BinaryOp, t: Handle, other: Operand): Handle;
  add(t: Handle, other: Operand, alpha?: number): Handle;
  matmul(a: Handle, b: Handle): Handle;
  reduce(op: ReduceOp, t: Handle, dim?: number | number[] | null, keepdim?: boolean): Handle;
  extremum(op: 'max' | 'min', t: Handle, dim: number, keepdim?: boolean): [Handle, Handle];
  argExtremum(op: 'argmax' | 'argmin', t: Handle, dim?: number | null, keepdim?: boolean): Handle;
  clamp(t: Handle, min?: number | null, max?: number | null): Handle;
  where(cond: Handle, a: Operand, b: Operand): Handle;
  inplace(op: InplaceOp, t: Handle, other?: Operand, alpha?: number): void;
  opNames(): { unary: string[]; binary: string[]; dtypes: string[] };
  // shape
  reshape(t: Handle, shape: number[]): Handle;
  permute(t: Handle, dims: number[]): Handle;
  transpose(t: Handle, dim0: number, dim1: number): Handle;
  narrow(t: Handle, dim: number, start: number, length: number): Handle;
  select(t: Handle, dim: number, index: number): Handle;
  squeeze(t: Handle, dim?: number | null): Handle;
  unsqueeze(t: Handle, dim: number): Handle;
  flatten(t: Handle, startDim?: number, endDim?: number): Handle;
  expand(t: Handle, shape: number[]): Handle;
  simple(op: 'contiguous' | 'clone' | 'detach', t: Handle): Handle;
  indexSelect(t: Handle, dim: number, index: Handle): Handle;
  index(t: Handle, spec: IndexEntry[]): Handle;
  indexPut(t: Handle, spec: IndexEntry[], value: Operand): Handle;
  cat(ts: Handle[], dim?: number): Handle;
  stack(ts: Handle[], dim?: number): Handle;
  flip(t: Handle, dims: number | number[]): Handle;
  rot90(t: Handle, k?: number, dims?: number[]): Handle;
  // nn
  softmax(op: 'softmax' | 'logSoftmax', t: Handle, dim: number): Handle;
  interpolate(t: Handle, options: InterpolateOptionsRaw): Handle;
  oneHot(t: Handle, numClasses: number): Handle;
  // autograd
  requiresGrad(t: Handle): boolean;
  setRequiresGrad(t: Handle, flag: boolean): void;
  isLeaf(t: Handle): boolean;
  backward(t: Handle, gradient?: Handle | null, retainGraph?: boolean | null, createGraph?: boolean): void;
  grad(t: Handle): Handle | null;
  zeroGrad(t: Handle): void;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  // runtime
  manualSeed(seed: number | bigint): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  getComputeThreads(): number;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device?: number): void;
  buildInfo(): { torchVersion: string; cudaBuild: boolean; napiVersion: number; parallelInfo: string; distributed?: boolean; distributedNccl?: boolean };
  /** Threads the addon's at::parallel_for reaches now (runs a parallel region on the caller). */
  kernelThreads(): number;
  memory(): { tensors: number; storages: number; bytes: number };
  configureAllocator(options: AllocatorOptionsRaw): void;
  allocatorStats(): AllocatorStatsRaw;
  /** Returns the idle blocks to the system; the bytes released. */
  trimAllocator(): number;
  // modules
  loadModule(path: string, device?: Device | null, extraFiles?: string[]): ModuleHandleRaw;
  loadModuleAsync(path: string, device?: Device | null, extraFiles?: string[]): Promise<ModuleHandleRaw>;
  forwardAsync(module: ModuleHandleRaw, method: string, inputs: IValueRaw[], mode: ForwardMode): Promise<IValueRaw>;
  // optimizers, losses and the training step
  OptimizerHandle: new (params: Handle[], options: OptimizerOptionsRaw) => OptimizerHandleRaw;
  crossEntropy(logits: Handle, labels: Handle, weight?: Handle | null, ignoreIndex?: number | null): Handle;
  dice(logits: Handle, labels: Handle, options: DiceOptionsRaw): Handle;
  clipGradNorm(params: Handle[], maxNorm: number, normType?: number): number;
  trainStep(spec: TrainStepSpecRaw): TrainStepResultRaw;
  trainStepAsync(spec: TrainStepSpecRaw): Promise<TrainStepResultRaw>;
  // checkpoints
  pickleSave(format: string, meta: string, tensors: Record<string, Handle>): Buffer;
  pickleLoad(buffer: Buffer): { format: string; meta: string; tensors: Record<string, Handle> };
  moduleToBuffer(module: ModuleHandleRaw): Buffer;
  moduleFromBuffer(buffer: Buffer, device?: Device | null, extraFiles?: string[]): ModuleHandleRaw;
  rngState(): { cpu: Handle; cuda: Handle[] };
  // prototype / DIST ops
  classPrototypes(logits: Handle, labels: Handle, numClasses: number, options: DistOptionsRaw, reference: boolean): [Handle, Handle];
  distLoss(prototypes: Handle, counts: Handle, teacher: Handle, options: DistOptionsRaw, reference: boolean): Handle;
  protoDistLoss(logits: Handle, labels: Handle, teacher: Handle, options: DistOptionsRaw, reference: boolean): Handle;
  samplePrototypeSums(logits: Handle, labels: Handle, numClasses: number, options: DistOptionsRaw): [Handle, Handle];
  setRngState(state: { cpu: Handle; cuda?: Handle[] }): void;
  // data-parallel process group (absent from addons built before it)
  distributedInit?(options: DistributedInitRaw): Promise<void>;
  distributedDestroy?(): void;
  distributedInfo?(): { rank: number; worldSize: number; backend: Backend; timeoutMs: number } | null;
  distributedBarrier?(): Promise<void>;
  distributedAllReduce?(values: number[]): Promise<number[]>;
  distributedBroadcastModule?(module: ModuleHandleRaw): Promise<void>;
  distributedBackends?(): Backend[];
}

const ADDON_NAME = 'slice_distill.node';

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('slice-distill: cannot find the package root');
    dir = parent;
  }
  return dir;
}

/** Where the addon is looked for: SLICE_DISTILL_ADDON, then the cmake-js and node-gyp outputs. */
export function addonCandidates(): string[] {
  const root = packageRoot();
  const fromEnv = process.env.SLICE_DISTILL_ADDON;
  if (fromEnv) return [path.resolve(fromEnv)];
  return [path.join(root, 'build-cmake', 'Release', ADDON_NAME), path.join(root, 'build', 'Release', ADDON_NAME)];
}

/**
 * libgomp (LibTorch's OpenMP) reads its wait policy once, as the addon loads it. Async work
 * runs on a compute thread, so the process has two OpenMP pools (that thread's and the JS
 * thread's); with as many intra-op threads as CPUs that is more OpenMP threads than CPUs, and
 * libgomp then spins only 100 iterations before a worker sleeps, so every parallel region pays a
 * futex wake-up. ACTIVE makes that 1000; GOMP_SPINCOUNT keeps the ordinary spin at libgomp's
 * default (instead of ACTIVE's minutes). Only where the user set neither, and only while the
 * addon loads: child processes do not inherit them.
 */
function withOpenMpWaitPolicy<T>(load: () => T): T {
  const keys = ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'] as const;
  if (keys.some((k) => process.env[k] !== undefined)) return load();
  process.env.OMP_WAIT_POLICY = 'ACTIVE';
  process.env.GOMP_SPINCOUNT = '300000';
  try {
    return load();
  } finally {
    for (const k of keys) delete process.env[k];
  }
}

/**
 * The CPU tensor allocator (native/memory/block_cache.h): tensors of `minBlockBytes` and more
 * get mappings of their own, kept for reuse up to `cacheFloorBytes` of idle memory or, with
 * `followPeak`, up to the peak of live block bytes where that is larger. LibTorch's default
 * (glibc's posix_memalign) grew the heap without bound when small allocations fell between
 * large ones, and fresh mappings pay a page fault per 4 KiB on first touch.
 * SLICE_DISTILL_ALLOCATOR=system keeps LibTorch's default.
 */
export const ALLOCATOR: AllocatorOptionsRaw = { minBlockBytes: 128 << 10, cacheFloorBytes: 256 << 20, followPeak: true };

function configureAllocator(addon: NativeAddon): void {
  if (process.env.SLICE_DISTILL_ALLOCATOR === 'system') return;
  addon.configureAllocator(ALLOCATOR);
}

function load(): { addon: NativeAddon; path: string } {
  const candidates = addonCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `slice-distill: the native addon is not built (looked for ${candidates.join(', ')}). ` +
        'Run `npm run build:cmake` (or `npm install`), see README.md.',
    );
  }
  const require = createRequire(import.meta.url);
  let addon: NativeAddon;
  try {
    addon = withOpenMpWaitPolicy(() => require(found) as NativeAddon);
  } catch (e) {
    throw new Error(`slice-distill: ${found} exists but does not load: ${(e as Error).message}`);
  }
  addon.setErrorClasses({ TorchError, TensorDisposedError, DisposedError });
  configureAllocator(addon);
  return { addon, path: found };
}

const loaded = load();
export const native: NativeAddon = loaded.addon;
export const addonPath: string = loaded.path;
