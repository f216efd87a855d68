// The launcher's contract with each rank: the environment variables torchrun sets.
import { DistributedConfigError } from './errors.js';

export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

function intVar(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new DistributedConfigError(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
}

/** RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT, or null where WORLD_SIZE is unset (one process). */
export function rankEnv(env: NodeJS.ProcessEnv = process.env): RankEnv | null {
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  if (worldSize === undefined) return null;
  const rank = intVar(env, 'RANK', 0) ?? 0;
  if (rank >= worldSize) throw new DistributedConfigError(`RANK=${rank} is outside WORLD_SIZE=${worldSize}`);
  return {
    rank,
    worldSize,
    localRank: intVar(env, 'LOCAL_RANK', 0) ?? rank,
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort: intVar(env, 'MASTER_PORT', 1) ?? 29500,
  };
}
