// A configured batch size is the global batch: under data parallelism each rank takes its
// share, so a run's results do not depend on how many processes it was spread over.
import { DistributedConfigError } from './errors.js';
import { rank, worldSize } from './process-group.js';
import type { Shard } from './sampler.js';

/** This rank's batch size and share of each epoch for a global batch of `global` samples. */
export function rankBatch(global: number, what = 'batchSize'): { batchSize: number; shard?: Shard } {
  const n = worldSize();
  if (n === 1) return { batchSize: global };
  if (global % n !== 0) throw new DistributedConfigError(`${what} ${global} is the global batch and must divide by the ${n} ranks (give a multiple of ${n})`);
  return { batchSize: global / n, shard: { rank: rank(), worldSize: n } };
}
