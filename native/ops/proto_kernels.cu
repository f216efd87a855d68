// CUDA kernels of the prototype ops, built only where LibTorch has CUDA (the launchers are
// called from proto_kernels_cuda.cc). No LibTorch header here: nvcc compiles this alone.
//
// Sums: each block accumulates its pixels in shared memory (float, or double for float64
// logits), then adds its partial sums to the float64 totals with one atomic per entry.
// Scatter: the per-class gradient table is staged in shared memory, each thread writes its
// pixel's CH gradients. The DIST math on the tiny [B, K, CH] prototypes runs in one block,
// a thread per sample, with the same per-sample code as the CPU (dist_math.h). No host sync.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <type_traits>

#include "ops/dist_math.h"
#include "ops/proto_cuda_launch.h"

namespace sd::ops::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kPixelsPerBlock = 4096;
constexpr uint8_t kSkip = 255;

__device__ inline float Widen(float v) { return v; }
__device__ inline double Widen(double v) { return v; }
__device__ inline float Widen(__half v) { return __half2float(v); }
__device__ inline float Widen(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
struct Accumulator {
  using type = float;
};
template <>
struct Accumulator<double> {
  using type = double;
};

template <typename scalar_t, typename acc_t>
__global__ void SumsKernel(const scalar_t* __restrict__ x, const int64_t* __restrict__ y, int64_t CH, int64_t N,
                           int64_t K, int64_t ignore, double* __restrict__ sums,
                           unsigned long long* __restrict__ counts, uint8_t* __restrict__ compact) {
  extern __shared__ unsigned char shared_raw[];
  acc_t* acc = reinterpret_cast<acc_t*>(shared_raw);
  unsigned int* n = reinterpret_cast<unsigned int*>(acc + K * CH);
  for (int64_t j = threadIdx.x; j < K * CH; j += blockDim.x) acc[j] = 0;
  for (int64_t j = threadIdx.x; j < K; j += blockDim.x) n[j] = 0;
  __syncthreads();

  const int64_t b = blockIdx.y;
  const int64_t start = blockIdx.x * kPixelsPerBlock, stop = min(N, start + kPixelsPerBlock);
  const scalar_t* xb = x + b * CH * N;
  for (int64_t i = start + threadIdx.x; i < stop; i += blockDim.x) {
    const int64_t l = y[b * N + i];
    const bool skip = l < 0 || l >= K || l == ignore;
    compact[b * N + i] = skip ? kSkip : static_cast<uint8_t>(l);
    if (skip) continue;
    atomicAdd(&n[l], 1u);
    for (int64_t c = 0; c < CH; c++) atomicAdd(&acc[l * CH + c], static_cast<acc_t>(Widen(xb[c * N + i])));
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < K * CH; j += blockDim.x) {
    if (acc[j] != static_cast<acc_t>(0)) atomicAdd(&sums[b * K * CH + j], static_cast<double>(acc[j]));
  }
  for (int64_t j = threadIdx.x; j < K; j += blockDim.x) {
    if (n[j] != 0) atomicAdd(&counts[b * K + j], static_cast<unsigned long long>(n[j]));
  }
}

template <typename scalar_t>
__global__ void ScatterKernel(const scalar_t* __restrict__ table, const uint8_t* __restrict__ y, int64_t CH, int64_t N,
                              int64_t K, scalar_t* __restrict__ out) {
  extern __shared__ unsigned char shared_raw[];
  scalar_t* t = reinterpret_cast<scalar_t*>(shared_raw);
  const int64_t b = blockIdx.y;
  for (int64_t j = threadIdx.x; j < K * CH; j += blockDim.x) t[j] = table[b * K * CH + j];
  __syncthreads();
  const int64_t start = blockIdx.x * kPixelsPerBlock, stop = min(N, start + kPixelsPerBlock);
  scalar_t* ob = out + b * CH * N;
  for (int64_t i = start + threadIdx.x; i < stop; i += blockDim.x) {
    const uint8_t l = y[b * N + i];
    for (int64_t c = 0; c < CH; c++) ob[c * N + i] = l == kSkip ? static_cast<scalar_t>(0.0f) : t[l * CH + c];
  }
}

// One block: thread b handles samples b, b + blockDim, ...; thread 0 combines into
// out = {loss, mean L_inter, mean L_intra}.
__global__ void DistForwardKernel(const double* P, const int64_t* counts, const double* Tn, dist::Params p, int64_t B,
                                  double* scratch, double* terms, double* out) {
  const int64_t size = dist::ScratchSize(p);
  for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
    auto t = dist::SampleForward(P + b * p.K * p.CH, counts + b * p.K, Tn, p, scratch + b * size);
    terms[3 * b] = t.inter;
    terms[3 * b + 1] = t.intra;
    terms[3 * b + 2] = static_cast<double>(t.present);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double inter = 0, intra = 0;
    int64_t n_inter = 0, n_intra = 0;
    for (int64_t b = 0; b < B; b++) {
      if (terms[3 * b + 2] >= dist::MinPresentInter(p)) inter += terms[3 * b], n_inter++;
      if (terms[3 * b + 2] >= dist::MinPresentIntra(p)) intra += terms[3 * b + 1], n_intra++;
    }
    auto c = dist::Combine(inter, n_inter, intra, n_intra, p);
    out[0] = c.loss;
    out[1] = c.inter;
    out[2] = c.intra;
  }
}

__global__ void DistBackwardKernel(const double* P, const int64_t* counts, const double* Tn, dist::Params p, int64_t B,
                                   const double* grad_out, double* scratch, double* gP) {
  __shared__ double coef[2];
  if (threadIdx.x == 0) {
    auto c = dist::BackwardCoefficients(counts, B, p, *grad_out);
    coef[0] = c.coefInter;
    coef[1] = c.coefIntra;
  }
  __syncthreads();
  const int64_t size = dist::ScratchSize(p);
  for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
    dist::SampleBackward(P + b * p.K * p.CH, counts + b * p.K, Tn, p, coef[0], coef[1], scratch + b * size,
                         gP + b * p.K * p.CH);
  }
}

dim3 PixelGrid(int64_t B, int64_t N) {
  return dim3(static_cast<unsigned>((N + kPixelsPerBlock - 1) / kPixelsPerBlock), static_cast<unsigned>(B));
}

}  // namespace

template <typename F>
int ForDtype(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::kFloat:
      return f(static_cast<float*>(nullptr));
    case Dtype::kDouble:
      return f(static_cast<double*>(nullptr));
    case Dtype::kHalf:
      return f(static_cast<__half*>(nullptr));
    case Dtype::kBFloat16:
      return f(static_cast<__nv_bfloat16*>(nullptr));
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int64_t SumsSharedBytes(Dtype dtype, int64_t K, int64_t CH) {
  return K * CH * (dtype == Dtype::kDouble ? sizeof(double) : sizeof(float)) + K * sizeof(unsigned int);
}

int64_t ScatterSharedBytes(Dtype dtype, int64_t K, int64_t CH) {
  return K * CH * (dtype == Dtype::kDouble ? 8 : dtype == Dtype::kFloat ? 4 : 2);
}

int LaunchPrototypeSums(Dtype dtype, const void* logits, const int64_t* labels, int64_t B, int64_t CH, int64_t N,
                        int64_t K, int64_t ignore, double* sums, int64_t* counts, uint8_t* compact,
                        cudaStream_t stream) {
  if (N == 0 || B == 0) return 0;
  return ForDtype(dtype, [&](auto* tag) {
    using scalar_t = std::remove_pointer_t<decltype(tag)>;
    using acc_t = typename Accumulator<scalar_t>::type;
    SumsKernel<scalar_t, acc_t><<<PixelGrid(B, N), kThreads, SumsSharedBytes(dtype, K, CH), stream>>>(
        static_cast<const scalar_t*>(logits), labels, CH, N, K, ignore, sums,
        reinterpret_cast<unsigned long long*>(counts), compact);
    return static_cast<int>(cudaGetLastError());
  });
}

int LaunchScatterByLabel(Dtype dtype, const void* table, const uint8_t* compact, int64_t B, int64_t CH, int64_t N,
                         int64_t K, void* out, cudaStream_t stream) {
  if (N == 0 || B == 0) return 0;
  return ForDtype(dtype, [&](auto* tag) {
    using scalar_t = std::remove_pointer_t<decltype(tag)>;
    ScatterKernel<scalar_t><<<PixelGrid(B, N), kThreads, ScatterSharedBytes(dtype, K, CH), stream>>>(
        static_cast<const scalar_t*>(table), compact, CH, N, K, static_cast<scalar_t*>(out));
    return static_cast<int>(cudaGetLastError());
  });
}

static int SampleThreads(int64_t B) { return static_cast<int>(B < 1 ? 1 : B > 256 ? 256 : B); }

int LaunchDistForward(const double* P, const int64_t* counts, const double* Tn, const dist::Params& p, int64_t B,
                      double* scratch, double* terms, double* out, cudaStream_t stream) {
  DistForwardKernel<<<1, SampleThreads(B), 0, stream>>>(P, counts, Tn, p, B, scratch, terms, out);
  return static_cast<int>(cudaGetLastError());
}

int LaunchDistBackward(const double* P, const int64_t* counts, const double* Tn, const dist::Params& p, int64_t B,
                       const double* grad_out, double* scratch, double* gP, cudaStream_t stream) {
  DistBackwardKernel<<<1, SampleThreads(B), 0, stream>>>(P, counts, Tn, p, B, grad_out, scratch, gP);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace sd::ops::cuda
