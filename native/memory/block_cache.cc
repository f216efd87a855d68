#include "memory/block_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sd::memory {

size_t PageBytes() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

namespace {

struct Block {
  void* ptr;
  size_t bytes;
  std::list<Block*>::iterator age;                  // in idle_by_age_ while idle
  std::multimap<size_t, Block*>::iterator by_size;  // in idle_by_size_ while idle
};

// An idle block serves a request up to this fraction larger than the request (1/8): the
// sizes of a training step repeat exactly, and a near fit wastes at most 12.5%.
constexpr size_t kFitSlackShift = 3;

void Unmap(const std::vector<Block*>& blocks) {
  for (Block* b : blocks) {
    munmap(b->ptr, b->bytes);
    delete b;
  }
}

class BlockCache final : public c10::Allocator {
 public:
  explicit BlockCache(c10::Allocator* fallback) : fallback_(fallback) {}

  void Configure(const BlockCacheOptions& o) {
    std::vector<Block*> gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      min_block_.store(o.minBlockBytes, std::memory_order_relaxed);  // >= a page: the binding checks
      floor_ = o.cacheFloorBytes;
      follow_peak_ = o.followPeak;
      EvictDownTo(Limit(), gone);
    }
    Unmap(gone);
  }

  c10::DataPtr allocate(size_t n) override {
    if (n < min_block_.load(std::memory_order_relaxed)) return fallback_->allocate(n);
    void* p = Take(n);
    return {p, p, &FreeBlock, c10::Device(c10::DeviceType::CPU)};
  }

  // The raw interface frees either kind: a pointer that is not a live block is the fallback's.
  c10::DeleterFnPtr raw_deleter() const override { return &FreeAny; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

  BlockCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    BlockCacheStats s{};
    s.installed = true;
    s.options = {min_block_.load(), floor_, follow_peak_};
    s.limitBytes = Limit();
    s.liveBytes = live_bytes_;
    s.peakLiveBytes = peak_live_;
    s.idleBytes = idle_bytes_;
    s.liveBlocks = live_.size();
    s.idleBlocks = idle_by_age_.size();
    s.hits = hits_;
    s.misses = misses_;
    s.evictions = evictions_;
    return s;
  }

  size_t Trim() {
    std::vector<Block*> gone;
    size_t released;
    {
      std::lock_guard<std::mutex> lock(mu_);
      released = idle_bytes_;
      EvictDownTo(0, gone);
      peak_live_ = live_bytes_;  // the cache learns the working set again
    }
    Unmap(gone);
    return released;
  }

  // Frees p if it is a live block; false where it is not one.
  bool Release(void* p) {
    std::vector<Block*> gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(p);
      if (it == live_.end()) return false;
      Block* b = it->second;
      live_.erase(it);
      live_bytes_ -= b->bytes;
      const size_t limit = Limit();
      if (b->bytes > limit) {
        evictions_++;
        gone.push_back(b);
      } else {
        EvictDownTo(limit - b->bytes, gone);
        idle_by_age_.push_front(b);
        b->age = idle_by_age_.begin();
        b->by_size = idle_by_size_.emplace(b->bytes, b);
        idle_bytes_ += b->bytes;
      }
    }
    Unmap(gone);
    return true;
  }

 private:
  static void FreeBlock(void* p);
  static void FreeAny(void* p);

  size_t Limit() const { return follow_peak_ ? std::max(floor_, peak_live_) : floor_; }

  // Oldest idle blocks out until at most `bytes` stay idle; the caller unmaps them unlocked.
  void EvictDownTo(size_t bytes, std::vector<Block*>& gone) {
    while (idle_bytes_ > bytes && !idle_by_age_.empty()) {
      Block* b = idle_by_age_.back();
      idle_by_age_.pop_back();
      idle_by_size_.erase(b->by_size);
      idle_bytes_ -= b->bytes;
      evictions_++;
      gone.push_back(b);
    }
  }

  void MarkLive(Block* b) {
    live_.emplace(b->ptr, b);
    live_bytes_ += b->bytes;
    peak_live_ = std::max(peak_live_, live_bytes_);
  }

  void* Take(size_t n) {
    const size_t page = PageBytes();
    TORCH_CHECK_WITH(OutOfMemoryError, n <= SIZE_MAX - page, "CPU: out of memory: a tensor of ", n, " bytes");
    const size_t bytes = (n + page - 1) / page * page;
    std::vector<Block*> gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_by_size_.lower_bound(bytes);
      if (it != idle_by_size_.end() && it->first <= bytes + (bytes >> kFitSlackShift)) {
        Block* b = it->second;
        idle_by_size_.erase(it);
        idle_by_age_.erase(b->age);
        idle_bytes_ -= b->bytes;
        hits_++;
        MarkLive(b);
        return b->ptr;
      }
      misses_++;
      // idle blocks of other sizes make room first: live and idle together stay within the
      // limit wherever the live bytes allow it
      const size_t limit = Limit(), need = live_bytes_ + bytes;
      EvictDownTo(need < limit ? limit - need : 0, gone);
    }
    Unmap(gone);
    void* p = Map(bytes);
    if (p == nullptr) {  // the idle blocks back to the system, then once more
      Trim();
      p = Map(bytes);
    }
    TORCH_CHECK_WITH(OutOfMemoryError, p != nullptr, "CPU: out of memory: could not map ", bytes,
                     " bytes for a tensor (", std::strerror(errno), ")");  // errno: the second mmap's
    std::lock_guard<std::mutex> lock(mu_);
    MarkLive(new Block{p, bytes, {}, {}});
    return p;
  }

  static void* Map(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }

  c10::Allocator* const fallback_;
  std::atomic<size_t> min_block_{SIZE_MAX};
  std::mutex mu_;
  size_t floor_ = 0;
  bool follow_peak_ = false;
  std::unordered_map<void*, Block*> live_;
  std::list<Block*> idle_by_age_;  // newest first
  std::multimap<size_t, Block*> idle_by_size_;
  size_t live_bytes_ = 0, peak_live_ = 0, idle_bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

// Never destroyed: tensors may be freed after static destructors have run. Set once, before
// any block exists; read by the stats of any thread.
std::atomic<BlockCache*> g_cache{nullptr};

void BlockCache::FreeBlock(void* p) {
  if (p != nullptr) g_cache.load()->Release(p);
}

void BlockCache::FreeAny(void* p) {
  BlockCache* cache = g_cache.load();
  if (p != nullptr && !cache->Release(p)) cache->fallback_->raw_deallocate(p);
}

}  // namespace

void InstallBlockCache(const BlockCacheOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto* cache = new BlockCache(c10::GetDefaultCPUAllocator());
    g_cache.store(cache);
    c10::SetCPUAllocator(cache);
  });
  g_cache.load()->Configure(options);
}

BlockCacheStats GetBlockCacheStats() {
  BlockCache* cache = g_cache.load();
  return cache == nullptr ? BlockCacheStats{} : cache->Stats();
}

size_t TrimBlockCache() {
  BlockCache* cache = g_cache.load();
  return cache == nullptr ? 0 : cache->Trim();
}

}  // namespace sd::memory
