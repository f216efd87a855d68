// TrainData from a DataLoader (resume skips the batches already done) or from fixed batches.
import type { TrainBatch, TrainData } from './trainer.js';

/** The part of DataLoader the trainer needs. */
export interface EpochIterable<B extends TrainBatch> {
  iterate(epoch: number): AsyncIterable<B & { index: number; dispose(): void }>;
  /** Batches per epoch. */
  readonly length?: number;
}

export function fromLoader<B extends TrainBatch>(loader: EpochIterable<B>): TrainData {
  return {
    async *epochBatches(epoch: number, start: number) {
      for await (const batch of loader.iterate(epoch)) {
        if (batch.index < start) {
          batch.dispose();
          continue;
        }
        yield batch;
      }
    },
    batchesPerEpoch: loader.length !== undefined ? () => loader.length! : undefined,
  };
}

/**
 * Batches made by a function of (epoch, index), e.g. in-memory data or a fixed batch; the
 * function must be deterministic for resume to be exact.
 */
export function fromFunction(batches: number, make: (epoch: number, index: number) => TrainBatch): TrainData {
  return {
    async *epochBatches(epoch: number, start: number) {
      for (let i = start; i < batches; i++) yield make(epoch, i);
    },
    batchesPerEpoch: () => batches,
  };
}
