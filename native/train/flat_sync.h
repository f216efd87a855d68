// Data-parallel synchronisation of a model through a process group, in a few flat buffers
// (one collective per bucket of same-dtype, same-device tensors, as DDP does) rather than
// one call per parameter.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "distributed/group.h"

namespace sd::train {

// DDP's default bucket cap.
constexpr int64_t kBucketBytes = 25 << 20;

// Every parameter's gradient summed over the ranks and divided by their number. A missing
// gradient counts as zeros (and is made so), or the ranks' buckets would not line up.
void AverageGradients(dist::Group& group, const std::vector<at::Tensor>& params, int64_t bucketBytes = kBucketBytes);

// Overwrites `tensors` on every rank with rank 0's values (parameters at the start, buffers
// such as BatchNorm's running statistics each step).
void BroadcastFromRankZero(dist::Group& group, const std::vector<at::Tensor>& tensors, const char* what,
                           int64_t bucketBytes = kBucketBytes);

}  // namespace sd::train
