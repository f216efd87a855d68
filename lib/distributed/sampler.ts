// Each rank's share of an epoch. The global order (the loader's seeded shuffle) is padded
// with its own first samples to a multiple of the world size, cut into global batches of
// worldSize * batchSize, and rank r takes the r-th block of each: the ranks' shares are
// disjoint (but for the padding), equally long, and together they are exactly the batches
// one process with the global batch size would see.
export interface Shard {
  rank: number;
  worldSize: number;
}

/** The batches of `shard` out of `order` (one epoch's samples, in order), batchSize per rank. */
export function shardBatches<T>(order: readonly T[], shard: Shard, batchSize: number, dropLast = false): T[][] {
  const { rank, worldSize } = shard;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new RangeError(`worldSize: expected an integer >= 1, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new RangeError(`rank: expected an integer in [0, ${worldSize}), got ${rank}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize: expected an integer >= 1, got ${batchSize}`);
  if (order.length === 0) return [];
  const padded = [...order];
  for (let i = 0; padded.length % worldSize !== 0; i++) padded.push(order[i % order.length]!);
  const global = worldSize * batchSize;
  const out: T[][] = [];
  for (let start = 0; start < padded.length; start += global) {
    const chunk = padded.slice(start, start + global);
    if (chunk.length < global && dropLast) break;
    const per = chunk.length / worldSize; // an integer: padded is a multiple of worldSize
    out.push(chunk.slice(rank * per, (rank + 1) * per));
  }
  return out;
}

/** Batches per epoch of every rank's share. */
export function shardLength(samples: number, worldSize: number, batchSize: number, dropLast = false): number {
  const padded = Math.ceil(samples / worldSize) * worldSize;
  const global = worldSize * batchSize;
  return dropLast ? Math.floor(padded / global) : Math.ceil(padded / global);
}
