// The process's CPU tensor allocator: large blocks from their own mappings, kept for reuse in
// a bounded cache; small ones from LibTorch's default allocator. No N-API here.
//
// Why: LibTorch allocates CPU tensors with posix_memalign. In glibc, an aligned request takes
// its size plus the alignment from the heap and frees the two small ends, which the next small
// allocations of the process (Node makes many) fill. The big block's hole is then exactly its
// size, too small for the next aligned request of the same size, so the heap grows by the
// block's size on every such cycle: 200 cycles of an 11 MB tensor with a 256-byte tensor kept
// in between grew RSS by 2.1 GB with 13 KB alive. Mapped blocks leave no holes in the heap, and
// the cache spares their first-touch page faults (about 3 ms per 11 MB here).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sd::memory {

// The size blocks are rounded to; the least minBlockBytes.
size_t PageBytes();

struct BlockCacheOptions {
  size_t minBlockBytes;    // requests of this size and more are blocks; smaller ones go to LibTorch's allocator
  size_t cacheFloorBytes;  // idle blocks kept up to this many bytes, or up to the peak of live block bytes if larger
  bool followPeak;         // false: the floor is the limit
};

struct BlockCacheStats {
  bool installed;
  BlockCacheOptions options;
  size_t limitBytes;  // the idle bytes the cache may hold now
  size_t liveBytes, peakLiveBytes, idleBytes, liveBlocks, idleBlocks;
  uint64_t hits, misses, evictions;  // evictions: blocks returned to the system
};

// Installs the cache as LibTorch's CPU allocator (once; later calls change its options).
// Tensors allocated before keep their own deleters.
void InstallBlockCache(const BlockCacheOptions& options);
BlockCacheStats GetBlockCacheStats();
// Returns every idle block to the system; returns the bytes released.
size_t TrimBlockCache();

}  // namespace sd::memory
