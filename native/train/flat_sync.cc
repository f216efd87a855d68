#include "train/flat_sync.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace sd::train {
namespace {

// Consecutive runs of tensors of one dtype and device, each under `cap` bytes (a tensor
// larger than the cap gets a bucket of its own). The order is the same on every rank.
std::vector<std::vector<at::Tensor>> Buckets(const std::vector<at::Tensor>& tensors, int64_t cap) {
  std::vector<std::vector<at::Tensor>> out;
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    const int64_t size = static_cast<int64_t>(t.numel() * t.element_size());
    const bool fits = !out.empty() && out.back().front().scalar_type() == t.scalar_type() &&
                      out.back().front().device() == t.device() && bytes + size <= cap;
    if (!fits) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += size;
  }
  return out;
}

at::Tensor Flatten(const std::vector<at::Tensor>& bucket) {
  std::vector<at::Tensor> flat;
  flat.reserve(bucket.size());
  for (const auto& t : bucket) flat.push_back(t.reshape({-1}));
  return at::cat(flat);
}

void Unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& bucket) {
  int64_t offset = 0;
  for (const auto& t : bucket) {
    const int64_t n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace

void AverageGradients(dist::Group& group, const std::vector<at::Tensor>& params, int64_t bucketBytes) {
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  auto buckets = Buckets(grads, bucketBytes);
  std::vector<at::Tensor> flats;
  for (const auto& b : buckets) flats.push_back(Flatten(b));
  group.AllReduceSum(flats, "the gradient all-reduce");
  const double inv = 1.0 / group.size();
  for (size_t i = 0; i < buckets.size(); ++i) {
    flats[i].mul_(inv);
    Unflatten(flats[i], buckets[i]);
  }
}

void BroadcastFromRankZero(dist::Group& group, const std::vector<at::Tensor>& tensors, const char* what,
                           int64_t bucketBytes) {
  if (tensors.empty()) return;
  c10::NoGradGuard no_grad;
  auto buckets = Buckets(tensors, bucketBytes);
  std::vector<at::Tensor> flats;
  for (const auto& b : buckets) flats.push_back(Flatten(b));
  group.Broadcast(flats, 0, what);
  for (size_t i = 0; i < buckets.size(); ++i) Unflatten(flats[i], buckets[i]);
}

}  // namespace sd::train
