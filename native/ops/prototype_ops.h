// Class prototypes and the DIST loss as differentiable ops (docs/design.md, "Prototypes and the
// DIST loss"): the fused forms read the logits once forward and write their gradient once
// backward, with no one-hot tensor. CPU and, where built, CUDA.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include "ops/proto_kernels.h"

namespace sd::ops {

// Set by the caller: the defaults (the paper's) live in lib/ops/dist-options.ts, and the
// bindings read every field. tau 0 is refused by the loss, so a field left unset shows at once.
struct DistOptions {
  double tau = 0;
  double interWeight = 0;
  double intraWeight = 0;
  std::optional<int64_t> ignoreIndex;
  // Check that labels lie in [0, K): free on the CPU (done in the pass), one host sync on CUDA.
  bool checkLabels = true;
  // L_intra over every channel (the first definition, for ablations) instead of the channels
  // of the present classes, which needs as many channels as classes.
  bool allChannels = false;
  // Per class, whether the teacher saw it (empty: every class); an unseen class is absent in
  // every sample, so it never enters either term.
  std::vector<uint8_t> teacherMask;
};

// The fused loss and, for logs, its two terms before weighting: float64 [2] = {mean L_inter,
// mean L_intra} over the samples having each (0 where none has), not differentiable.
struct DistLossResult {
  at::Tensor loss;
  at::Tensor parts;
};

// {prototypes [B, K, CH] in the logits' dtype (0 rows for absent classes), counts [B, K] int64};
// differentiable with respect to the logits.
std::tuple<at::Tensor, at::Tensor> ClassPrototypes(const at::Tensor& logits, const at::Tensor& labels,
                                                   int64_t num_classes, const DistOptions& options);

// The DIST loss of per-sample prototypes against a teacher prototype [K, CH]; differentiable
// with respect to the prototypes (the teacher is a constant).
at::Tensor DistLoss(const at::Tensor& prototypes, const at::Tensor& counts, const at::Tensor& teacher,
                    const DistOptions& options);

// ClassPrototypes and DistLoss fused in one op; K = teacher.size(0).
at::Tensor ProtoDistLoss(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                         const DistOptions& options);
// The same, with the two terms apart (the training step logs them).
DistLossResult ProtoDistLossWithParts(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                                      const DistOptions& options);

// For the teacher: float64 sums and counts per sample, where a 3D sample [CH, D, H, W] is
// split into its D axial slices (so B * D samples), 2D samples stay as they are. No autograd.
PrototypeSums SamplePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes,
                                  const DistOptions& options);

}  // namespace sd::ops
