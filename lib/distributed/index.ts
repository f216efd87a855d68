// Data-parallel training over c10d: the process group, each rank's share of the data, the
// launcher that starts the ranks.
export {
  init,
  destroy,
  info,
  isInitialized,
  rank,
  worldSize,
  barrier,
  allReduceSum,
  anyRank,
  broadcastModule,
  available,
  DEFAULT_TIMEOUT_MS,
  type Backend,
  type InitOptions,
  type GroupInfo,
} from './process-group.js';
export { rankEnv, type RankEnv } from './env.js';
export { shardBatches, shardLength, type Shard } from './sampler.js';
export { rankBatch } from './rank-batch.js';
export { launch, type LaunchOptions, type LaunchResult } from './launcher.js';
export { DistributedUnavailableError, DistributedConfigError } from './errors.js';
