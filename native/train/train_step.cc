#include "train/train_step.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>
#include <torch/optim/optimizer.h>

#include <chrono>
#include <cmath>

#include "train/flat_sync.h"

namespace sd::train {
namespace {

// Enables CUDA autocast (float16) on this thread for its lifetime; restores the old state.
class CudaAutocast {
 public:
  explicit CudaAutocast(bool on) : on_(on) {
    if (!on_) return;
    was_ = at::autocast::is_autocast_enabled(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kHalf);
    at::autocast::increment_nesting();
  }
  ~CudaAutocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, was_);
  }

 private:
  bool on_;
  bool was_ = false;
};

// Adds the wall time of what it wraps to `ms`.
class Stopwatch {
 public:
  explicit Stopwatch(double& ms) : ms_(ms), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() { ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  double& ms_;
  std::chrono::steady_clock::time_point start_;
};

std::vector<at::Tensor> Buffers(const torch::jit::Module& module) {
  std::vector<at::Tensor> out;
  for (const auto& b : module.buffers(true)) out.push_back(b);
  return out;
}

// As DDP: rank 0's parameters on the module's first synchronised step, its buffers
// (BatchNorm statistics) before every forward.
void SyncModuleState(dist::Group& group, const torch::jit::Module& module, double& ms) {
  Stopwatch watch(ms);
  if (group.FirstSight(module._ivalue().get())) {
    std::vector<at::Tensor> params;
    for (const auto& p : module.parameters(true)) params.push_back(p);
    BroadcastFromRankZero(group, params, "the parameter broadcast");
  }
  BroadcastFromRankZero(group, Buffers(module), "the buffer broadcast");
}

// The loss terms of this rank, then (data-parallel) their means over the ranks; every rank
// learns whether any rank's loss was not finite, so all skip the step together.
struct Terms {
  double nonFinite, loss, ce, dice, dist, inter, intra;
};

Terms AgreeOnTerms(dist::Group* group, Terms t, const at::Device& device, double& ms) {
  if (!group) return t;
  Stopwatch watch(ms);
  at::Tensor v =
      at::tensor(std::vector<double>{t.nonFinite, t.loss, t.ce, t.dice, t.dist, t.inter, t.intra}, at::kDouble)
          .to(device);
  std::vector<at::Tensor> one{v};
  group->AllReduceSum(one, "the loss all-reduce");
  v = one[0].cpu() / static_cast<double>(group->size());
  auto a = v.accessor<double, 1>();
  return {a[0] * group->size(), a[1], a[2], a[3], a[4], a[5], a[6]};
}

// The Dice of the global batch (its per-class sums summed over the ranks), not a mean of the
// ranks' Dice: what one process with the whole batch computes. Its value is the global one;
// its gradient flows through this rank's own sums, times the world size, which the gradient
// average then divides out again.
ops::DiceSums GlobalDiceSums(dist::Group& group, const ops::DiceSums& local, double& ms) {
  Stopwatch watch(ms);
  std::vector<at::Tensor> flat{at::cat({local.intersect.detach(), local.predicted.detach(), local.target.detach()})};
  group.AllReduceSum(flat, "the Dice sums all-reduce");
  const auto global = flat[0].chunk(3);
  const double n = group.size();
  auto lift = [n](const at::Tensor& mine, const at::Tensor& all) { return mine * n + (all - mine.detach() * n); };
  return {lift(local.intersect, global[0]), lift(local.predicted, global[1]), lift(local.target, global[2])};
}

}  // namespace

at::Tensor LogitsOf(const c10::IValue& output) {
  if (output.isTensor()) return output.toTensor();
  if (output.isTuple() && !output.toTupleRef().elements().empty() && output.toTupleRef().elements()[0].isTensor()) {
    return output.toTupleRef().elements()[0].toTensor();
  }
  if (output.isTensorList() && output.toTensorList().size() > 0) return output.toTensorList().get(0);
  if (output.isGenericDict()) {
    for (const auto& item : output.toGenericDict()) {
      if (item.key().isString() && item.key().toStringRef() == "out" && item.value().isTensor())
        return item.value().toTensor();
    }
  }
  throw std::invalid_argument(
      "forward: returned " + output.tagKind() +
      "; a training step needs logits: a tensor, a tuple / list starting with one, or a dict with 'out'");
}

StepResult RunStep(StepSpec& spec) {
  c10::AutoGradMode grad(true);  // whatever the calling thread's mode
  auto& optimizer = *spec.optimizer;
  const auto& params = spec.params;
  dist::Group* group = spec.group.get();
  double syncMs = 0;
  StepResult result;
  if (spec.zeroGrad) optimizer.zero_grad(true);
  const bool amp = spec.amp && spec.target.is_cuda();
  if (group) SyncModuleState(*group, *spec.module, syncMs);

  at::Tensor logits, ce, dice, dist, dist_parts, total;
  {
    CudaAutocast autocast(amp);
    logits = LogitsOf(spec.module->forward(spec.inputs));
  }
  // The losses in float32, outside autocast, as torch.amp recommends.
  logits = logits.to(at::kFloat);
  ops::CheckSegmentationLabels(logits, spec.target, spec.ignoreIndex);
  total = at::zeros({}, logits.options());
  if (spec.ceWeight != 0) {
    ce = ops::CrossEntropy(logits, spec.target, spec.classWeights, spec.ignoreIndex);
    total = total + spec.ceWeight * ce;
  }
  if (spec.diceWeight != 0) {
    dice = group ? ops::SoftDiceFromSums(
                       GlobalDiceSums(*group, ops::SoftDiceSums(logits, spec.target, spec.dice), syncMs), spec.dice)
                 : ops::SoftDice(logits, spec.target, spec.dice);
    total = total + spec.diceWeight * dice;
  }
  if (spec.distWeight != 0) {
    auto d = ops::ProtoDistLossWithParts(logits, spec.target, spec.teacherPrototype, spec.dist);
    dist = d.loss;
    dist_parts = d.parts;
    total = total + spec.distWeight * dist;
  }
  ops::GradScaler* scaler = amp ? &spec.scaler(logits.device()) : nullptr;

  Terms local{0, total.item<double>(), 0, 0, 0, 0, 0};
  local.nonFinite = std::isfinite(local.loss) ? 0 : 1;
  if (ce.defined()) local.ce = ce.item<double>();
  if (dice.defined()) local.dice = dice.item<double>();
  if (dist.defined()) {
    local.dist = dist.item<double>();
    at::Tensor parts = dist_parts.cpu();
    local.inter = parts[0].item<double>();
    local.intra = parts[1].item<double>();
  }
  const Terms terms = AgreeOnTerms(group, local, logits.device(), syncMs);
  result.loss = terms.loss;
  result.crossEntropy = terms.ce;
  result.dice = terms.dice;
  result.seg = spec.ceWeight * terms.ce + spec.diceWeight * terms.dice;
  result.dist = terms.dist;
  result.distInter = terms.inter;
  result.distIntra = terms.intra;
  if (group) result.syncMs = syncMs;

  if (terms.nonFinite > 0) {
    // A NaN / inf loss would poison every weight through the step; drop the whole
    // (accumulated) step instead and let the caller decide how often that may happen.
    optimizer.zero_grad(true);
    if (scaler && spec.step) {
      scaler->Update(true);
      result.ampScale = scaler->scale.item<double>();
    }
    result.nonFinite = true;
    return result;
  }
  at::Tensor backward_loss = total * spec.lossScale;
  if (scaler) backward_loss = backward_loss * scaler->scale.squeeze();
  backward_loss.backward();

  if (spec.step) {
    if (group) {
      Stopwatch watch(syncMs);
      AverageGradients(*group, params);
    }
    // after the all-reduce every rank sees the same gradients, so all agree on inf / nan
    bool finite = scaler ? scaler->UnscaleAndCheck(params) : true;
    if (spec.clipGradNorm && finite) result.gradNorm = ops::ClipGradNorm(params, *spec.clipGradNorm).item<double>();
    if (finite) {
      c10::NoGradGuard no_grad;
      optimizer.step();
      result.stepped = true;
    }
    if (scaler) {
      scaler->Update(!finite);
      result.ampScale = scaler->scale.item<double>();
    }
  }
  if (group) result.syncMs = syncMs;
  return result;
}

}  // namespace sd::train
