// Gradient utilities shared by the training step: norm clipping and AMP loss scaling.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace sd::ops {

// Scales every gradient so that their joint norm is at most max_norm (as
// torch.nn.utils.clip_grad_norm_); returns the norm before clipping, as a 0-d tensor.
at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double max_norm, double norm_type = 2.0);

// The dynamic loss scale of mixed-precision training (torch.amp.GradScaler's rules).
struct GradScaler {
  at::Tensor scale;           // float32 [1] on the training device
  at::Tensor growth_tracker;  // int32 [1]
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;

  void Init(const at::Device& device, double init_scale);
  // Divides the gradients by the scale in place; true when all are finite (the step may run).
  bool UnscaleAndCheck(const std::vector<at::Tensor>& params);
  // Grows or backs off the scale after a step, given whether it found inf / nan.
  void Update(bool found_inf);
};

}  // namespace sd::ops
