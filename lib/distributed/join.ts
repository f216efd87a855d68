// A stage started by the launcher (WORLD_SIZE in its environment) joins the process group
// before it trains and leaves it afterwards.
import { available, destroy, init, isInitialized, type Backend } from './process-group.js';
import { rankEnv } from './env.js';
import { DistributedConfigError } from './errors.js';

function backendFor(device: string): Backend {
  const chosen = process.env.SLICE_DISTILL_BACKEND;
  if (chosen === 'gloo' || chosen === 'nccl') return chosen;
  if (chosen) throw new DistributedConfigError(`SLICE_DISTILL_BACKEND=${chosen}: expected gloo or nccl`);
  // NCCL for CUDA tensors where this build has it; Gloo moves them through the host otherwise
  return device.startsWith('cuda') && available('nccl') ? 'nccl' : 'gloo';
}

/** The device of this rank: cuda becomes cuda:LOCAL_RANK when launched data-parallel. */
export function rankDevice<D extends string>(device: D): D | `cuda:${number}` {
  const env = rankEnv();
  return env && env.worldSize > 1 && device === 'cuda' ? `cuda:${env.localRank}` : device;
}

/** Runs `work` inside the environment's process group (if any); true while data-parallel. */
export async function withEnvironmentGroup<T>(device: string, work: (parallel: boolean) => Promise<T>): Promise<T> {
  const env = rankEnv();
  if (!env || env.worldSize === 1 || isInitialized()) return work(isInitialized());
  const timeout = process.env.SLICE_DISTILL_TIMEOUT_MS;
  await init({ backend: backendFor(device), timeoutMs: timeout ? Number(timeout) : undefined });
  try {
    return await work(true);
  } finally {
    destroy();
  }
}
