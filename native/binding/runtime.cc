// Process-wide settings and facts: seeds, threads, CUDA, versions, tensor memory.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <string>

#include "binding/compute_thread.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"
#include "distributed/group.h"
#include "memory/block_cache.h"

namespace sd {
namespace {

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  int64_t seed = ToInt(info[0], "seed");
  if (seed < 0) ThrowRangeError(info.Env(), "seed: must be >= 0");
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

// More intra-op threads than this never helps and only risks the pool creation failing
// inside libgomp, which aborts the process instead of reporting it.
constexpr int64_t kMaxThreads = 1024;

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n = ToInt(info[0], "threads");
  if (n < 1) ThrowRangeError(env, "threads: must be >= 1");
  if (n > kMaxThreads)
    ThrowRangeError(env, "threads: must be <= " + std::to_string(kMaxThreads) + ", got " + std::to_string(n));
  // The per-user process limit (ulimit -u) counts threads: OpenMP would die creating them.
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NPROC, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(n) >= limit.rlim_cur) {
    ThrowRangeError(env, "threads: " + std::to_string(n) + " threads would reach the process limit (ulimit -u " +
                             std::to_string(limit.rlim_cur) + ")");
  }
  const int old = at::get_num_threads();
  try {
    at::set_num_threads(static_cast<int>(n));  // this (the JS) thread's sync ops
  } catch (...) {
    at::set_num_threads(old);  // never leave OpenMP set to a count that failed
    throw;
  }
  SetComputeThreads(static_cast<int>(n));  // the async work, from its next job on
  return env.Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

// Blocks until the compute thread is free: a diagnostic, not for hot paths.
Napi::Value GetComputeThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ComputeThreads());
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), torch::cuda::device_count());
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (!torch::cuda::is_available()) ThrowRangeError(info.Env(), "cuda.synchronize: no CUDA device is available");
  torch::cuda::synchronize(ToOptionalInt(info[0], "device").value_or(-1));
  return info.Env().Undefined();
}

// The threads at::parallel_for reaches in code built as the addon is (now, at this thread's
// count): 1 where LibTorch has OpenMP but the addon was compiled without it, which would leave
// every kernel of native/ops on one thread. Its own export, not a field of buildInfo: it runs
// a parallel region on the calling thread, and buildInfo is read on the JS thread at every
// checkpoint, where a region would build the JS thread's OpenMP pool (see compute_thread.cc).
Napi::Value KernelThreads(const Napi::CallbackInfo& info) {
  std::atomic<int> most{1};
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    const int t = at::get_thread_num() + 1;
    for (int m = most.load(); t > m && !most.compare_exchange_weak(m, t);) {
    }
  });
  return Napi::Number::New(info.Env(), most.load());
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("torchVersion", TORCH_VERSION);
#ifdef SLICE_DISTILL_CUDA
  out.Set("cudaBuild", true);
#else
  out.Set("cudaBuild", false);
#endif
  out.Set("napiVersion", NAPI_VERSION);
  // c10d process groups: false where the build found no gloo headers (libgloo-dev)
  out.Set("distributed", dist::Compiled("gloo"));
  out.Set("distributedNccl", dist::Compiled("nccl"));
  out.Set("parallelInfo", at::get_parallel_info());
  return out;
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemoryStats s = TensorHandle::Stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("tensors", static_cast<double>(s.tensors));
  out.Set("storages", static_cast<double>(s.storages));
  out.Set("bytes", static_cast<double>(s.bytes));
  return out;
}

// configureAllocator({minBlockBytes, cacheFloorBytes, followPeak}): the CPU tensor allocator
// of native/memory (why: block_cache.h), installed on the first call.
Napi::Value ConfigureAllocator(const Napi::CallbackInfo& info) {
  Napi::Object o = ToObject(info[0], "allocator options");
  auto bytes = [&](const char* key) {
    const int64_t v = ToInt(o.Get(key), key);
    if (v < 0) ThrowRangeError(info.Env(), std::string(key) + ": must be >= 0 bytes");
    return static_cast<size_t>(v);
  };
  const size_t minBlock = bytes("minBlockBytes");
  if (minBlock < memory::PageBytes())  // a mapping per smaller tensor would run out of mappings
    ThrowRangeError(info.Env(), "minBlockBytes: must be >= " + std::to_string(memory::PageBytes()) + " (a page)");
  memory::InstallBlockCache({minBlock, bytes("cacheFloorBytes"), ToBool(o.Get("followPeak"), "followPeak")});
  return info.Env().Undefined();
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  const memory::BlockCacheStats s = memory::GetBlockCacheStats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("installed", s.installed);
  out.Set("followPeak", s.options.followPeak);
  const std::pair<const char*, double> fields[] = {{"minBlockBytes", s.options.minBlockBytes},
                                                   {"cacheFloorBytes", s.options.cacheFloorBytes},
                                                   {"limitBytes", s.limitBytes},
                                                   {"liveBytes", s.liveBytes},
                                                   {"peakLiveBytes", s.peakLiveBytes},
                                                   {"idleBytes", s.idleBytes},
                                                   {"liveBlocks", s.liveBlocks},
                                                   {"idleBlocks", s.idleBlocks},
                                                   {"hits", static_cast<double>(s.hits)},
                                                   {"misses", static_cast<double>(s.misses)},
                                                   {"evictions", static_cast<double>(s.evictions)}};
  for (const auto& [key, value] : fields) out.Set(key, value);
  return out;
}

Napi::Value TrimAllocator(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(memory::TrimBlockCache()));
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  Export<ManualSeed>(env, exports, "manualSeed");
  Export<SetNumThreads>(env, exports, "setNumThreads");
  Export<GetNumThreads>(env, exports, "getNumThreads");
  Export<GetComputeThreads>(env, exports, "getComputeThreads");
  Export<CudaIsAvailable>(env, exports, "cudaIsAvailable");
  Export<CudaDeviceCount>(env, exports, "cudaDeviceCount");
  Export<CudaSynchronize>(env, exports, "cudaSynchronize");
  Export<BuildInfo>(env, exports, "buildInfo");
  Export<KernelThreads>(env, exports, "kernelThreads");
  Export<Memory>(env, exports, "memory");
  Export<ConfigureAllocator>(env, exports, "configureAllocator");
  Export<AllocatorStats>(env, exports, "allocatorStats");
  Export<TrimAllocator>(env, exports, "trimAllocator");
}

}  // namespace sd
