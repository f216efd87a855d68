// Launchers of the CUDA kernels (proto_kernels.cu): raw pointers and a stream only, so the
// .cu file needs no LibTorch header and nvcc can compile it on its own (as CI does).
#pragma once
#include <cstdint>

#include "ops/dist_math.h"

typedef struct CUstream_st* cudaStream_t;

namespace sd::ops::cuda {

// Element types of the logits: float, double, float16, bfloat16 (by storage layout).
enum class Dtype { kFloat, kDouble, kHalf, kBFloat16 };

// Bytes of shared memory the kernels need; the launches fail above 48 KiB.
int64_t SumsSharedBytes(Dtype dtype, int64_t K, int64_t CH);
int64_t ScatterSharedBytes(Dtype dtype, int64_t K, int64_t CH);

// Each returns the launch's cudaError_t as an int (0 = success).
int LaunchPrototypeSums(Dtype dtype, const void* logits, const int64_t* labels, int64_t B, int64_t CH, int64_t N,
                        int64_t K, int64_t ignore, double* sums, int64_t* counts, uint8_t* compact,
                        cudaStream_t stream);
int LaunchScatterByLabel(Dtype dtype, const void* table, const uint8_t* compact, int64_t B, int64_t CH, int64_t N,
                         int64_t K, void* out, cudaStream_t stream);
int LaunchDistForward(const double* P, const int64_t* counts, const double* Tn, const dist::Params& p, int64_t B,
                      double* scratch, double* terms, double* out, cudaStream_t stream);
int LaunchDistBackward(const double* P, const int64_t* counts, const double* Tn, const dist::Params& p, int64_t B,
                       const double* grad_out, double* scratch, double* gP, cudaStream_t stream);

}  // namespace sd::ops::cuda
