#include "ops/grad_utils.h"

#include <ATen/ATen.h>

namespace sd::ops {

at::Tensor ClipGradNorm(const std::vector<at::Tensor>& params, double max_norm, double norm_type) {
  std::vector<at::Tensor> norms;
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) {
      grads.push_back(p.grad());
      norms.push_back(at::linalg_vector_norm(p.grad().detach(), norm_type));
    }
  }
  if (grads.empty()) return at::zeros({}, at::kFloat);
  at::Tensor total = at::linalg_vector_norm(at::stack(norms), norm_type);
  // clamp(max=1) keeps the scale on the device: no host sync inside the step
  at::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.detach().mul_(coef.to(g.device(), g.scalar_type()));
  return total;
}

void GradScaler::Init(const at::Device& device, double init_scale) {
  scale = at::full({1}, init_scale, at::TensorOptions().dtype(at::kFloat).device(device));
  growth_tracker = at::zeros({1}, at::TensorOptions().dtype(at::kInt).device(device));
}

bool GradScaler::UnscaleAndCheck(const std::vector<at::Tensor>& params) {
  at::Tensor found_inf = at::zeros({1}, scale.options());
  at::Tensor inv_scale = scale.reciprocal();
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (!grads.empty()) at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
  return found_inf.item<float>() == 0.0f;
}

void GradScaler::Update(bool found_inf) {
  at::Tensor flag = at::full({1}, found_inf ? 1.0 : 0.0, scale.options());
  at::_amp_update_scale_(scale, growth_tracker, flag, growth_factor, backoff_factor, growth_interval);
}

}  // namespace sd::ops
