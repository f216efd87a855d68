// Class prototypes and the DIST loss as differentiable ops (DESIGN.md, "Prototypes and the
// DIST loss"): the fused forms read the logits once forward and write their gradient once
// backward, with no one-hot tensor. CPU and, where built, CUDA.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <tuple>

#include "ops/proto_kernels.h"

namespace sd::ops {

struct DistOptions {
  double tau = 1.0;
  double interWeight = 1.0;
  double intraWeight = 1.0;
  std::optional<int64_t> ignoreIndex;
  // Check that labels lie in [0, K): free on the CPU (done in the pass), one host sync on CUDA.
  bool checkLabels = true;
};

// {prototypes [B, K, CH] in the logits' dtype (0 rows for absent classes), counts [B, K] int64};
// differentiable with respect to the logits.
std::tuple<at::Tensor, at::Tensor> ClassPrototypes(const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes,
                                                   const DistOptions& options);

// The DIST loss of per-sample prototypes against a teacher prototype [K, CH]; differentiable
// with respect to the prototypes (the teacher is a constant).
at::Tensor DistLoss(const at::Tensor& prototypes, const at::Tensor& counts, const at::Tensor& teacher, const DistOptions& options);

// ClassPrototypes and DistLoss fused in one op; K = teacher.size(0).
at::Tensor ProtoDistLoss(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher, const DistOptions& options);

// For the teacher: float64 sums and counts per sample, where a 3D sample [CH, D, H, W] is
// split into its D axial slices (so B * D samples), 2D samples stay as they are. No autograd.
PrototypeSums SamplePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes,
                                  const DistOptions& options);

}  // namespace sd::ops
