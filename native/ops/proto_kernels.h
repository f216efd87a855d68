// The passes over the logits behind the prototype ops, for the CPU and (where LibTorch has
// CUDA) the GPU. Inputs are already checked and contiguous: logits [B, CH, N] (N pixels or
// voxels), labels [B, N] int64. A label outside [0, K) or equal to ignore_index is skipped.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>

#include "ops/dist_math.h"

namespace sd::ops {

struct PrototypeSums {
  at::Tensor sums;                  // float64 [B, K, CH]: per class, the sum of the logits over its pixels
  at::Tensor counts;                // int64 [B, K]: pixels per class
  at::Tensor compactLabels;         // uint8 [B, N]: the class, or 255 for a skipped pixel (for the backward)
  std::optional<int64_t> badLabel;  // CPU only: a label outside [0, K) that is not ignore_index
};

// Classes the kernels handle (labels are kept as uint8 for the backward pass).
constexpr int64_t kMaxClasses = 255;

// One read of the logits (and labels), writing the compact labels on the way.
PrototypeSums ComputePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t K, int64_t ignore_index);

// One write of the gradient: grad[b, c, i] = table[b, label(b, i), c], 0 where skipped.
// table [B, K, CH] has the logits' dtype and device; labels are the compact ones.
at::Tensor ScatterByLabel(const at::Tensor& table, const at::Tensor& compact_labels, int64_t N);

// The DIST loss of prototypes P (float64 [B, K, CH]) with counts against the teacher's
// softmax rows Tn (float64 [K, CH]): float64 [3] = {loss, mean L_inter, mean L_intra} (the
// means unweighted, over the samples having each term). No host sync on CUDA.
at::Tensor DistForward(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p);
// d loss / d P times grad_out (a 0-d tensor on P's device), float64 [B, K, CH].
at::Tensor DistBackward(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                        const at::Tensor& grad_out);

#ifdef SD_WITH_CUDA
void PrototypeSumsCuda(const at::Tensor& logits, const at::Tensor& labels, int64_t K, int64_t ignore_index,
                       at::Tensor& sums, at::Tensor& counts, at::Tensor& compact_labels);
void ScatterByLabelCuda(const at::Tensor& table, const at::Tensor& compact_labels, at::Tensor& out);
void DistForwardCuda(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                     at::Tensor& out);
void DistBackwardCuda(const at::Tensor& P, const at::Tensor& counts, const at::Tensor& Tn, const dist::Params& p,
                      const at::Tensor& grad_out, at::Tensor& gP);
#endif

}  // namespace sd::ops
