#include "ops/reference.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <vector>

#include "ops/seg_losses.h"

namespace sd::ops::reference {
namespace {

constexpr double kEps = 1e-8;

// The L2 norm along dim, with a zero gradient (not NaN) at a zero vector.
at::Tensor SafeNorm(const at::Tensor& x, int64_t dim) { return (x * x).sum(dim).clamp_min(1e-300).sqrt(); }

}  // namespace

std::tuple<at::Tensor, at::Tensor> ClassPrototypes(const at::Tensor& logits, const at::Tensor& labels, int64_t K,
                                                   const DistOptions& o) {
  if (o.checkLabels) CheckLabelValues(labels, K, o.ignoreIndex);
  const int64_t B = logits.size(0), CH = logits.size(1);
  at::Tensor x = logits.reshape({B, CH, -1});
  at::Tensor y = labels.reshape({B, -1}).to(at::kLong);
  at::Tensor valid = y.ge(0).logical_and(y.lt(K));
  if (o.ignoreIndex) valid = valid.logical_and(y.ne(*o.ignoreIndex));
  at::Tensor onehot = at::one_hot(y.masked_fill(valid.logical_not(), 0), K).to(x.scalar_type()) *
                      valid.unsqueeze(-1).to(x.scalar_type());  // [B, N, K]
  at::Tensor sums = at::einsum("bcn,bnk->bkc", {x, onehot});
  at::Tensor counts = onehot.sum(1);
  return {sums / counts.clamp_min(1).unsqueeze(-1), counts.to(at::kLong)};
}

at::Tensor DistLoss(const at::Tensor& prototypes, const at::Tensor& counts, const at::Tensor& teacher,
                    const DistOptions& o) {
  const double tau = o.tau;
  const auto dtype = prototypes.scalar_type();
  const int64_t K = prototypes.size(1), CH = prototypes.size(2);
  if (!o.allChannels && K != CH)
    throw std::out_of_range("channels 'present': the prototypes need as many channels as classes");
  at::Tensor S = at::softmax(prototypes / tau, -1);                               // [B, K, CH]
  at::Tensor Tn = at::softmax(teacher.to(prototypes.device(), dtype) / tau, -1);  // [K, CH]
  at::Tensor present = counts.gt(0).to(dtype);                                    // [B, K]
  if (!o.teacherMask.empty()) {
    std::vector<double> seen(o.teacherMask.begin(), o.teacherMask.end());
    present = present * at::tensor(seen, at::kDouble).to(prototypes.device(), dtype).gt(0).to(dtype);
  }
  at::Tensor m = present.sum(1);  // [B]

  // L_inter (rows): per present class, its channel vector against the teacher's
  at::Tensor Sc = S - S.mean(-1, true), Tc = Tn - Tn.mean(-1, true);
  at::Tensor rho = (Sc * Tc).sum(-1) / (SafeNorm(Sc, -1) * SafeNorm(Tc, -1) + kEps);  // [B, K]
  at::Tensor inter = 1 - (rho * present).sum(1) / m.clamp_min(1);
  at::Tensor has_inter = m.ge(1).to(dtype);

  // L_intra (columns): per channel j, the correlation across the present classes, over the
  // channels of the present classes (or all channels)
  at::Tensor mask = present.unsqueeze(-1);  // [B, K, 1]
  at::Tensor Tb = Tn.unsqueeze(0).expand_as(S);
  at::Tensor denom = m.clamp_min(1).view({-1, 1, 1});
  at::Tensor Sc2 = (S - (S * mask).sum(1, true) / denom) * mask;
  at::Tensor Tc2 = (Tb - (Tb * mask).sum(1, true) / denom) * mask;
  at::Tensor rho2 = (Sc2 * Tc2).sum(1) / (SafeNorm(Sc2, 1) * SafeNorm(Tc2, 1) + kEps);  // [B, CH]
  at::Tensor channels = o.allChannels ? at::ones_like(rho2) : present;                  // [B, CH]
  at::Tensor intra = 1 - (rho2 * channels).sum(-1) / channels.sum(-1).clamp_min(1);
  at::Tensor has_intra = m.ge(o.allChannels ? 2 : 3).to(dtype);

  at::Tensor inter_mean = (inter * has_inter).sum() / has_inter.sum().clamp_min(1);
  at::Tensor intra_mean = (intra * has_intra).sum() / has_intra.sum().clamp_min(1);
  return tau * tau * (o.interWeight * inter_mean + o.intraWeight * intra_mean);
}

at::Tensor ProtoDistLoss(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                         const DistOptions& o) {
  auto [protos, counts] = reference::ClassPrototypes(logits, labels, teacher.size(0), o);
  return reference::DistLoss(protos, counts, teacher, o);
}

}  // namespace sd::ops::reference
