// The CPU tensor allocator's state, for a caller that watches memory or must give it back.
import { native, type AllocatorOptionsRaw, type AllocatorStatsRaw } from '../native/addon.js';

export type AllocatorOptions = AllocatorOptionsRaw;
export type AllocatorStats = AllocatorStatsRaw;

/** What the CPU tensor allocator holds: live and idle block bytes, the limit, hits and misses. */
export function allocatorStats(): AllocatorStats {
  return native.allocatorStats();
}

/**
 * Changes some of the allocator's settings (the rest stay; the first ones are ALLOCATOR's);
 * idle blocks over the new limit are returned at once. Without effect where
 * SLICE_DISTILL_ALLOCATOR=system.
 */
export function configureAllocator(options: Partial<AllocatorOptions>): void {
  const now = native.allocatorStats();
  if (!now.installed) return;
  const { minBlockBytes, cacheFloorBytes, followPeak } = now;
  native.configureAllocator({ minBlockBytes, cacheFloorBytes, followPeak, ...options });
}

/** Returns every idle block to the system (the cache then relearns its working set); the bytes released. */
export function releaseCachedMemory(): number {
  return native.trimAllocator();
}
