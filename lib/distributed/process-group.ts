// The process group of data-parallel training (c10d over a TCPStore rendezvous): one per
// process. Training steps given `distributed: true` sync through it; rank 0 validates and
// writes checkpoints while the others wait at a barrier.
import { native } from '../native/addon.js';
import type { ScriptModule } from '../module/script-module.js';
import { DistributedConfigError, DistributedUnavailableError } from './errors.js';
import { rankEnv } from './env.js';

import type { Backend } from '../native/names.js';

export type { Backend };

export interface InitOptions {
  /** 'gloo' (CPU tensors, and CUDA ones by copies) or 'nccl' (CUDA); default gloo. */
  backend?: Backend;
  /** Default: RANK, else 0. */
  rank?: number;
  /** Default: WORLD_SIZE, else 1. */
  worldSize?: number;
  /** Rank 0's host; default MASTER_ADDR, else 127.0.0.1. */
  masterAddr?: string;
  /** Default MASTER_PORT, else 29500. */
  masterPort?: number;
  /** How long the rendezvous and every collective may wait for the other ranks (default 5 min). */
  timeoutMs?: number;
}

export interface GroupInfo {
  rank: number;
  worldSize: number;
  backend: Backend;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 300_000;

// This process's group as init left it: read on every training step, so kept here rather
// than asked of the addon each time.
let current: GroupInfo | null = null;

/** Whether this addon was built with c10d (and with which backends). */
export function available(backend: Backend = 'gloo'): boolean {
  return native.distributedBackends?.().includes(backend) ?? false;
}

function requireBuilt(backend: Backend): void {
  if (available(backend)) return;
  const why =
    backend === 'gloo'
      ? 'this build of the slice-distill addon has no distributed training: the gloo headers were missing when it was built. Install libgloo-dev (apt-get install libgloo-dev) and rebuild (npm run build:cmake).'
      : 'this build of the slice-distill addon has no NCCL: it needs a CUDA LibTorch, the gloo headers (libgloo-dev) and nccl.h (the nvidia-nccl wheel) at build time.';
  throw new DistributedUnavailableError(`distributed.init: ${why}`);
}

/** Joins the group: blocks (off the JS thread) until all ranks have met at masterAddr:masterPort. */
export async function init(options: InitOptions = {}): Promise<GroupInfo> {
  const env = rankEnv();
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') throw new DistributedConfigError(`backend: expected 'gloo' or 'nccl', got '${String(backend)}'`);
  requireBuilt(backend);
  const spec = {
    backend,
    rank: options.rank ?? env?.rank ?? 0,
    worldSize: options.worldSize ?? env?.worldSize ?? 1,
    masterAddr: options.masterAddr ?? env?.masterAddr ?? '127.0.0.1',
    masterPort: options.masterPort ?? env?.masterPort ?? 29500,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  if (!Number.isInteger(spec.worldSize) || spec.worldSize < 1) throw new DistributedConfigError(`worldSize: expected an integer >= 1, got ${spec.worldSize}`);
  if (!Number.isInteger(spec.rank) || spec.rank < 0 || spec.rank >= spec.worldSize)
    throw new DistributedConfigError(`rank: expected an integer in [0, ${spec.worldSize}), got ${spec.rank}`);
  await native.distributedInit!(spec);
  current = native.distributedInfo!() as GroupInfo;
  return current;
}

/** The group this process belongs to, or null (one process). */
export function info(): GroupInfo | null {
  return current;
}

export function isInitialized(): boolean {
  return info() !== null;
}

/** 0 without a group. */
export function rank(): number {
  return info()?.rank ?? 0;
}

/** 1 without a group. */
export function worldSize(): number {
  return info()?.worldSize ?? 1;
}

/** Leaves the group (this process's handle of it; the others keep theirs). */
export function destroy(): void {
  native.distributedDestroy?.();
  current = null;
}

/** Waits until every rank has called it; a no-op without a group. */
export async function barrier(): Promise<void> {
  if (isInitialized()) await native.distributedBarrier!();
}

/** Element-wise sums over the ranks (float64); the values themselves without a group. */
export async function allReduceSum(values: readonly number[]): Promise<number[]> {
  if (!isInitialized()) return [...values];
  return native.distributedAllReduce!([...values]);
}

/** True on every rank when it is true on any (an abort, an early stop). */
export async function anyRank(flag: boolean): Promise<boolean> {
  const [n] = await allReduceSum([flag ? 1 : 0]);
  return n! > 0;
}

/** Rank 0's parameters and buffers on every rank (training steps do this on a module's first step anyway). */
export async function broadcastModule(module: ScriptModule): Promise<void> {
  if (isInitialized()) await native.distributedBroadcastModule!(module.raw);
}
