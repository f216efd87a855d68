#include "ops/prototype_ops.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "ops/seg_losses.h"

namespace sd::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kEps = 1e-8;

// The kernels skip labels equal to this; without an ignore index no label can equal it.
int64_t IgnoreOrNone(const DistOptions& o) { return o.ignoreIndex.value_or(std::numeric_limits<int64_t>::min()); }

std::string Shape(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Checks and flattens to logits [B, CH, N] and labels [B, N] int64, both contiguous.
std::pair<at::Tensor, at::Tensor> Flatten(const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes,
                                          const DistOptions& o) {
  if (logits.dim() < 3 || logits.dim() > 5) {
    throw std::out_of_range("logits: expected [B, C, H, W] or [B, C, D, H, W], got " + Shape(logits.sizes()));
  }
  if (!at::isFloatingType(logits.scalar_type()))
    throw std::invalid_argument("logits: expected a floating-point tensor");
  if (!at::isIntegralType(labels.scalar_type(), false))
    throw std::invalid_argument("labels: expected an integer tensor");
  std::vector<int64_t> expected{logits.size(0)};
  for (int64_t d = 2; d < logits.dim(); d++) expected.push_back(logits.size(d));
  if (labels.sizes() != at::IntArrayRef(expected)) {
    throw std::out_of_range("labels: shape " + Shape(labels.sizes()) + " does not match logits " +
                            Shape(logits.sizes()) + " (expected " + Shape(expected) + ")");
  }
  if (labels.device() != logits.device()) throw std::invalid_argument("labels: must be on the logits' device");
  if (num_classes < 1 || num_classes > kMaxClasses) {
    throw std::out_of_range("numClasses: expected 1 to " + std::to_string(kMaxClasses) + ", got " +
                            std::to_string(num_classes));
  }
  if (!logits.is_cuda() && logits.scalar_type() != at::kFloat && logits.scalar_type() != at::kDouble) {
    throw std::invalid_argument("logits: float32 or float64 on the CPU");
  }
  if (logits.is_cuda() && o.checkLabels) CheckLabelValues(labels, num_classes, o.ignoreIndex);
  const int64_t B = logits.size(0), CH = logits.size(1);
  return {logits.reshape({B, CH, -1}).contiguous(), labels.reshape({B, -1}).to(at::kLong).contiguous()};
}

void ThrowIfBad(const PrototypeSums& s, int64_t K, const DistOptions& o) {
  if (o.checkLabels && s.badLabel) {
    throw std::out_of_range("labels: value " + std::to_string(*s.badLabel) + " is outside [0, " + std::to_string(K) +
                            ")" +
                            (o.ignoreIndex ? " and is not the ignore index " + std::to_string(*o.ignoreIndex) : ""));
  }
}

dist::Params ParamsFor(const DistOptions& o, int64_t K, int64_t CH) {
  if (!(o.tau > 0)) throw std::out_of_range("tau: expected a temperature > 0");
  if (o.interWeight < 0 || o.intraWeight < 0)
    throw std::out_of_range("interWeight / intraWeight: expected values >= 0");
  if (!o.allChannels && CH != K) {
    throw std::out_of_range("channels 'present': L_intra takes the channel of each present class, so the logits need " +
                            std::to_string(K) + " channels (one per class), got " + std::to_string(CH) +
                            "; use channels 'all' otherwise");
  }
  if (!o.teacherMask.empty() && static_cast<int64_t>(o.teacherMask.size()) != K) {
    throw std::out_of_range("teacherMask: expected " + std::to_string(K) + " entries (one per class), got " +
                            std::to_string(o.teacherMask.size()));
  }
  return {K, CH, o.tau, o.interWeight, o.intraWeight, kEps, o.allChannels};
}

// Counts with the classes the teacher never saw set to 0, so they are absent in every sample.
at::Tensor SeenCounts(const at::Tensor& counts, const DistOptions& o) {
  at::Tensor n = counts.to(at::kLong);
  if (o.teacherMask.empty()) return n.contiguous();
  std::vector<int64_t> mask(o.teacherMask.begin(), o.teacherMask.end());
  at::Tensor m = at::tensor(mask, at::kLong).to(counts.device());
  return (n * m.gt(0).to(at::kLong)).contiguous();
}

at::Tensor TeacherSoftmax(const at::Tensor& teacher, int64_t K, int64_t CH, double tau, const at::Device& device) {
  if (teacher.dim() != 2 || teacher.size(0) != K || teacher.size(1) != CH) {
    throw std::out_of_range("teacherPrototype: expected [" + std::to_string(K) + ", " + std::to_string(CH) + "], got " +
                            Shape(teacher.sizes()));
  }
  if (!at::isFloatingType(teacher.scalar_type()))
    throw std::invalid_argument("teacherPrototype: expected a floating-point tensor");
  return at::softmax(teacher.detach().to(device, at::kDouble) / tau, 1).contiguous();
}

void SaveParams(AutogradContext* ctx, const dist::Params& p) {
  ctx->saved_data["tau"] = p.tau;
  ctx->saved_data["inter"] = p.interWeight;
  ctx->saved_data["intra"] = p.intraWeight;
  ctx->saved_data["all"] = p.allChannels;
}

dist::Params LoadParams(AutogradContext* ctx, int64_t K, int64_t CH) {
  return {K,
          CH,
          ctx->saved_data["tau"].toDouble(),
          ctx->saved_data["inter"].toDouble(),
          ctx->saved_data["intra"].toDouble(),
          kEps,
          ctx->saved_data["all"].toBool()};
}

at::Tensor Means(const PrototypeSums& s) { return s.sums / s.counts.clamp_min(1).unsqueeze(-1).to(at::kDouble); }

// gradient of the per-class means: table[b, k, :] = g[b, k, :] / count[b, k], scattered by label
at::Tensor MeansBackward(const at::Tensor& g, const at::Tensor& counts, const at::Tensor& compact_labels, int64_t N,
                         at::ScalarType dtype) {
  at::Tensor table = (g.to(at::kDouble) / counts.clamp_min(1).unsqueeze(-1).to(at::kDouble)).to(dtype).contiguous();
  return ScatterByLabel(table, compact_labels, N);
}

struct ClassPrototypesFn : torch::autograd::Function<ClassPrototypesFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& labels, int64_t K,
                               int64_t ignore, bool check) {
    auto s = ComputePrototypeSums(logits, labels, K, ignore);
    DistOptions o;  // only what the label check reads
    o.checkLabels = check;
    if (ignore != std::numeric_limits<int64_t>::min()) o.ignoreIndex = ignore;
    ThrowIfBad(s, K, o);
    at::Tensor protos = Means(s).to(logits.scalar_type());
    ctx->save_for_backward({s.compactLabels, s.counts});
    ctx->saved_data["N"] = logits.size(2);
    ctx->mark_non_differentiable({s.counts});
    return {protos, s.counts};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor grad;
    if (grads[0].defined()) {
      grad = MeansBackward(grads[0], saved[1], saved[0], ctx->saved_data["N"].toInt(), grads[0].scalar_type());
    }
    return {grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct DistLossFn : torch::autograd::Function<DistLossFn> {
  // counts: already with the unseen classes zeroed (SeenCounts)
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& prototypes, const at::Tensor& counts,
                            const at::Tensor& Tn, const dist::Params& p) {
    at::Tensor P = prototypes.detach().to(at::kDouble).contiguous();
    at::Tensor n = counts.to(prototypes.device(), at::kLong).contiguous();
    ctx->save_for_backward({P, n, Tn});
    SaveParams(ctx, p);
    return DistForward(P, n, Tn, p)[0].to(prototypes.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& P = saved[0];
    at::Tensor gP =
        DistBackward(P, saved[1], saved[2], LoadParams(ctx, P.size(1), P.size(2)), grads[0].to(at::kDouble));
    return {gP.to(grads[0].scalar_type()), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// Outputs {loss, parts}: parts (float64 [2], the unweighted terms) is not differentiable.
struct ProtoDistLossFn : torch::autograd::Function<ProtoDistLossFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& labels,
                               const at::Tensor& Tn, const dist::Params& p, const DistOptions& o) {
    auto s = ComputePrototypeSums(logits, labels, p.K, IgnoreOrNone(o));
    ThrowIfBad(s, p.K, o);
    at::Tensor P = Means(s);
    at::Tensor seen = SeenCounts(s.counts, o);
    ctx->save_for_backward({s.compactLabels, P, s.counts, seen, Tn});
    SaveParams(ctx, p);
    ctx->saved_data["N"] = logits.size(2);
    at::Tensor out = DistForward(P, seen, Tn, p);
    at::Tensor parts = out.slice(0, 1, 3);
    ctx->mark_non_differentiable({parts});
    return {out[0].to(logits.scalar_type()), parts};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &labels = saved[0], &P = saved[1], &counts = saved[2], &seen = saved[3], &Tn = saved[4];
    at::Tensor gP = DistBackward(P, seen, Tn, LoadParams(ctx, P.size(1), P.size(2)), grads[0].to(at::kDouble));
    at::Tensor grad = MeansBackward(gP, counts, labels, ctx->saved_data["N"].toInt(), grads[0].scalar_type());
    return {grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor> ClassPrototypes(const at::Tensor& logits, const at::Tensor& labels,
                                                   int64_t num_classes, const DistOptions& o) {
  auto [x, y] = Flatten(logits, labels, num_classes, o);
  auto out = ClassPrototypesFn::apply(x, y, num_classes, IgnoreOrNone(o), o.checkLabels);
  return {out[0], out[1]};
}

at::Tensor DistLoss(const at::Tensor& prototypes, const at::Tensor& counts, const at::Tensor& teacher,
                    const DistOptions& o) {
  if (prototypes.dim() != 3 || !at::isFloatingType(prototypes.scalar_type())) {
    throw std::out_of_range("prototypes: expected a floating-point [B, K, C] tensor, got " + Shape(prototypes.sizes()));
  }
  const int64_t B = prototypes.size(0), K = prototypes.size(1), CH = prototypes.size(2);
  if (counts.dim() != 2 || counts.size(0) != B || counts.size(1) != K) {
    throw std::out_of_range("counts: expected [" + std::to_string(B) + ", " + std::to_string(K) + "], got " +
                            Shape(counts.sizes()));
  }
  dist::Params p = ParamsFor(o, K, CH);
  return DistLossFn::apply(prototypes, SeenCounts(counts, o),
                           TeacherSoftmax(teacher, K, CH, o.tau, prototypes.device()), p);
}

DistLossResult ProtoDistLossWithParts(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                                      const DistOptions& o) {
  if (teacher.dim() != 2) throw std::out_of_range("teacherPrototype: expected [C, C], got " + Shape(teacher.sizes()));
  const int64_t K = teacher.size(0);
  auto [x, y] = Flatten(logits, labels, K, o);
  dist::Params p = ParamsFor(o, K, x.size(1));
  at::Tensor Tn = TeacherSoftmax(teacher, K, x.size(1), o.tau, x.device());
  auto out = ProtoDistLossFn::apply(x, y, Tn, p, o);
  return {out[0], out[1]};
}

at::Tensor ProtoDistLoss(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher,
                         const DistOptions& o) {
  return ProtoDistLossWithParts(logits, labels, teacher, o).loss;
}

PrototypeSums SamplePrototypeSums(const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes,
                                  const DistOptions& o) {
  at::NoGradGuard no_grad;
  at::Tensor x = logits, y = labels;
  if (logits.dim() == 5) {  // [B, CH, D, H, W] -> [B * D, CH, H, W]: each axial slice is a sample
    std::vector<int64_t> expected{logits.size(0), logits.size(2), logits.size(3), logits.size(4)};
    if (labels.sizes() != at::IntArrayRef(expected)) {
      throw std::out_of_range("labels: shape " + Shape(labels.sizes()) + " does not match logits " +
                              Shape(logits.sizes()) + " (expected " + Shape(expected) + ")");
    }
    x = logits.permute({0, 2, 1, 3, 4}).reshape({-1, logits.size(1), logits.size(3), logits.size(4)});
    y = labels.reshape({-1, labels.size(2), labels.size(3)});
  }
  auto [xf, yf] = Flatten(x.detach(), y, num_classes, o);
  auto s = ComputePrototypeSums(xf, yf, num_classes, IgnoreOrNone(o));
  ThrowIfBad(s, num_classes, o);
  return s;
}

}  // namespace sd::ops
