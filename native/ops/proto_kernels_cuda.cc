// ATen side of the CUDA passes: dtype mapping, the current stream, error checks. Compiled
// to nothing unless LibTorch has CUDA (SD_WITH_CUDA); the kernels are in proto_kernels.cu.
#ifdef SD_WITH_CUDA
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include <stdexcept>
#include <string>

#include "ops/proto_cuda_launch.h"
#include "ops/proto_kernels.h"

namespace sd::ops {
namespace {

constexpr int64_t kMaxSharedBytes = 48 * 1024;

cuda::Dtype DtypeOf(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat:
      return cuda::Dtype::kFloat;
    case at::kDouble:
      return cuda::Dtype::kDouble;
    case at::kHalf:
      return cuda::Dtype::kHalf;
    case at::kBFloat16:
      return cuda::Dtype::kBFloat16;
    default:
      throw std::invalid_argument("logits: float32, float64, float16 or bfloat16 on CUDA");
  }
}

void CheckShared(int64_t bytes) {
  if (bytes > kMaxSharedBytes)
    throw std::out_of_range("classes x channels: too many for the CUDA kernels' shared memory");
}

void Check(int status) { C10_CUDA_CHECK(static_cast<cudaError_t>(status)); }

cudaStream_t Stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

}  // namespace

void PrototypeSumsCuda(const at::Tensor& logits, const at::Tensor& labels, int64_t K, int64_t ignore_index,
                       at::Tensor& sums, at::Tensor& counts, at::Tensor& compact_labels) {
  const int64_t B = logits.size(0), CH = logits.size(1), N = logits.size(2);
  CheckShared(cuda::SumsSharedBytes(DtypeOf(logits), K, CH));
  Check(cuda::LaunchPrototypeSums(DtypeOf(logits), logits.const_data_ptr(), labels.const_data_ptr<int64_t>(), B, CH, N,
                                  K, ignore_index, sums.mutable_data_ptr<double>(), counts.mutable_data_ptr<int64_t>(),
                                  compact_labels.mutable_data_ptr<uint8_t>(), Stream()));
}

void ScatterByLabelCuda(const at::Tensor& table, const at::Tensor& compact_labels, at::Tensor& out) {
  const int64_t B = table.size(0), K = table.size(1), CH = table.size(2), N = out.size(2);
  CheckShared(cuda::ScatterSharedBytes(DtypeOf(table), K, CH));
  Check(cuda::LaunchScatterByLabel(DtypeOf(table), table.const_data_ptr(), compact_labels.const_data_ptr<uint8_t>(), B,
                                   CH, N, K, out.mutable_data_ptr(), Stream()));
}

void DistForwardCuda(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                     at::Tensor& out) {
  const int64_t B = P.size(0);
  at::Tensor scratch = at::empty({B, dist::ScratchSize(p)}, P.options());
  at::Tensor terms = at::empty({B, 3}, P.options());
  Check(cuda::LaunchDistForward(P.const_data_ptr<double>(), counts.const_data_ptr<int64_t>(),
                                Tn.const_data_ptr<double>(), p, B, scratch.mutable_data_ptr<double>(),
                                terms.mutable_data_ptr<double>(), out.mutable_data_ptr<double>(), Stream()));
}

void DistBackwardCuda(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                      const at::Tensor& grad_out, at::Tensor& gP) {
  const int64_t B = P.size(0);
  at::Tensor scratch = at::empty({B, dist::ScratchSize(p)}, P.options());
  at::Tensor g = grad_out.to(P.device(), at::kDouble).contiguous();
  Check(cuda::LaunchDistBackward(P.const_data_ptr<double>(), counts.const_data_ptr<int64_t>(),
                                 Tn.const_data_ptr<double>(), p, B, g.const_data_ptr<double>(),
                                 scratch.mutable_data_ptr<double>(), gP.mutable_data_ptr<double>(), Stream()));
}

}  // namespace sd::ops
#endif  // SD_WITH_CUDA
