// The prototype ops as a plain composition of ATen ops (one-hot, einsum, softmax, Pearson),
// differentiated by autograd: the baseline for tests (gradcheck) and benchmarks.
#pragma once
#include <ATen/core/Tensor.h>

#include <tuple>

#include "ops/prototype_ops.h"

namespace sd::ops::reference {

std::tuple<at::Tensor, at::Tensor> ClassPrototypes(const at::Tensor& logits, const at::Tensor& labels,
                                                   int64_t num_classes, const DistOptions& options);
at::Tensor DistLoss(const at::Tensor& prototypes, const at::Tensor& counts, const at::Tensor& teacher,
                    const DistOptions& options);
at::Tensor ProtoDistLoss(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                         const DistOptions& options);

}  // namespace sd::ops::reference
