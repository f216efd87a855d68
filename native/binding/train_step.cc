#include "binding/train_step.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>
#include <torch/optim/optimizer.h>

#include <cmath>
#include <unordered_set>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/module.h"
#include "binding/optim.h"
#include "binding/proto_ops.h"
#include "binding/tensor_handle.h"
#include "ops/grad_utils.h"

namespace sd {
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

void ReadLoss(Napi::Env env, Napi::Value value, TrainStepSpec& spec) {
  if (IsNullish(value)) return;  // the default 0.4 CE + 0.6 Dice
  if (!value.IsObject()) ThrowTypeError(env, "loss: expected {crossEntropy?, dice?}");
  Napi::Object loss = value.As<Napi::Object>();
  Napi::Value ce = loss.Get("crossEntropy"), dice = loss.Get("dice"), dist = loss.Get("dist");
  spec.ceWeight = 0;
  spec.diceWeight = 0;
  if (!IsNullish(ce)) {
    if (!ce.IsObject()) ThrowTypeError(env, "loss.crossEntropy: expected {weight?, classWeights?}");
    Napi::Object o = ce.As<Napi::Object>();
    spec.ceWeight = ToOptionalDouble(o.Get("weight"), "loss.crossEntropy.weight").value_or(1.0);
    if (!IsNullish(o.Get("classWeights"))) spec.classWeights = TensorHandle::Arg(o.Get("classWeights"), "loss.crossEntropy.classWeights");
  }
  if (!IsNullish(dice)) {
    if (!dice.IsObject()) ThrowTypeError(env, "loss.dice: expected {weight?, smooth?, squared?, includeBackground?}");
    Napi::Object o = dice.As<Napi::Object>();
    spec.diceWeight = ToOptionalDouble(o.Get("weight"), "loss.dice.weight").value_or(1.0);
    spec.dice.smooth = ToOptionalDouble(o.Get("smooth"), "loss.dice.smooth").value_or(1e-5);
    spec.dice.squared = ToBool(o.Get("squared"), "loss.dice.squared", true);
    spec.dice.include_background = ToBool(o.Get("includeBackground"), "loss.dice.includeBackground", true);
  }
  if (!IsNullish(dist)) {
    if (!dist.IsObject()) ThrowTypeError(env, "loss.dist: expected {weight?, teacherPrototype, tau?, interWeight?, intraWeight?, channels?, teacherMask?}");
    Napi::Object o = dist.As<Napi::Object>();
    spec.distWeight = ToOptionalDouble(o.Get("weight"), "loss.dist.weight").value_or(0.5);
    spec.teacherPrototype = TensorHandle::Arg(o.Get("teacherPrototype"), "loss.dist.teacherPrototype");
    spec.dist = ToDistOptions(o);
  }
  if (!IsNullish(loss.Get("ignoreIndex"))) spec.ignoreIndex = ToInt(loss.Get("ignoreIndex"), "loss.ignoreIndex");
  spec.dice.ignore_index = spec.ignoreIndex;
  spec.dist.ignoreIndex = spec.ignoreIndex;
  spec.dist.checkLabels = false;  // the segmentation labels were checked already
  if (spec.ceWeight == 0 && spec.diceWeight == 0 && spec.distWeight == 0) ThrowRangeError(env, "loss: every term has weight 0");
}

// An optimizer over another module's parameters would step tensors the forward never used:
// the module would silently not train.
void CheckOptimizerOwnsModule(Napi::Env env, const torch::jit::Module& module, const std::vector<at::Tensor>& params) {
  std::unordered_set<const c10::TensorImpl*> own;
  for (const auto& p : module.parameters(true)) own.insert(p.unsafeGetTensorImpl());
  size_t foreign = 0;
  for (const auto& p : params) foreign += own.count(p.unsafeGetTensorImpl()) == 0;
  if (foreign > 0) {
    ThrowTypeError(env, "optimizer: " + std::to_string(foreign) + " of its " + std::to_string(params.size()) +
                            " parameters are not parameters of this module (an optimizer made for another module?)");
  }
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
      if (item.key().isString() && item.key().toStringRef() == "out" && item.value().isTensor()) return item.value().toTensor();
    }
  }
  throw std::invalid_argument("forward: returned " + output.tagKind() +
                              "; a training step needs logits: a tensor, a tuple / list starting with one, or a dict with 'out'");
}

TrainStepSpec ReadTrainStepSpec(Napi::Env env, Napi::Object o) {
  TrainStepSpec spec;
  spec.moduleHandle = ModuleHandle::Get(o.Get("module"), "module");
  spec.moduleHandle->CheckIdle(env);
  spec.optimizerHandle = OptimizerHandle::Get(o.Get("optimizer"), "optimizer");
  spec.optimizerHandle->CheckIdle(env);
  spec.module = spec.moduleHandle->module();
  Napi::Value inputs = o.Get("inputs");
  if (TensorHandle::IsHandle(inputs)) {
    Napi::Array one = Napi::Array::New(env, 1);
    one.Set(0u, inputs);
    inputs = one;
  }
  spec.inputs = spec.moduleHandle->ConvertArgs(env, "forward", inputs);
  CheckOptimizerOwnsModule(env, *spec.module, spec.optimizerHandle->params());
  spec.target = TensorHandle::Arg(o.Get("target"), "target");
  ReadLoss(env, o.Get("loss"), spec);
  spec.clipGradNorm = ToOptionalDouble(o.Get("clipGradNorm"), "clipGradNorm");
  if (spec.clipGradNorm && !(*spec.clipGradNorm > 0)) ThrowRangeError(env, "clipGradNorm: expected a norm > 0");
  spec.amp = ToBool(o.Get("amp"), "amp", false);
  spec.zeroGrad = ToBool(o.Get("zeroGrad"), "zeroGrad", true);
  spec.step = ToBool(o.Get("step"), "step", true);
  spec.lossScale = ToOptionalDouble(o.Get("lossScale"), "lossScale").value_or(1.0);
  if (!(spec.lossScale > 0)) ThrowRangeError(env, "lossScale: expected a value > 0");
  return spec;
}

TrainStepResult RunTrainStep(TrainStepSpec& spec) {
  c10::AutoGradMode grad(true);  // whatever the calling thread's mode
  auto& optimizer = spec.optimizerHandle->optimizer();
  const auto& params = spec.optimizerHandle->params();
  TrainStepResult result;
  if (spec.zeroGrad) optimizer.zero_grad(true);
  const bool amp = spec.amp && spec.target.is_cuda();

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
    dice = ops::SoftDice(logits, spec.target, spec.dice);
    total = total + spec.diceWeight * dice;
  }
  if (spec.distWeight != 0) {
    auto d = ops::ProtoDistLossWithParts(logits, spec.target, spec.teacherPrototype, spec.dist);
    dist = d.loss;
    dist_parts = d.parts;
    total = total + spec.distWeight * dist;
  }
  ops::GradScaler* scaler = amp ? &spec.optimizerHandle->Scaler(logits.device()) : nullptr;
  result.loss = total.item<double>();
  if (!std::isfinite(result.loss)) {
    // A NaN / inf loss would poison every weight through the step; drop the whole
    // (accumulated) step instead and let the caller decide how often that may happen.
    optimizer.zero_grad(true);
    if (scaler && spec.step) {
      scaler->Update(true);
      result.ampScale = scaler->scale.item<double>();
    }
    result.nonFinite = true;
    if (ce.defined()) result.crossEntropy = ce.item<double>();
    if (dice.defined()) result.dice = dice.item<double>();
    result.seg = spec.ceWeight * result.crossEntropy + spec.diceWeight * result.dice;
    if (dist.defined()) result.dist = dist.item<double>();
    return result;
  }
  at::Tensor backward_loss = total * spec.lossScale;
  if (scaler) backward_loss = backward_loss * scaler->scale.squeeze();
  backward_loss.backward();

  if (spec.step) {
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
  if (ce.defined()) result.crossEntropy = ce.item<double>();
  if (dice.defined()) result.dice = dice.item<double>();
  result.seg = spec.ceWeight * result.crossEntropy + spec.diceWeight * result.dice;
  if (dist.defined()) {
    result.dist = dist.item<double>();
    at::Tensor parts = dist_parts.cpu();
    result.distInter = parts[0].item<double>();
    result.distIntra = parts[1].item<double>();
  }
  return result;
}

Napi::Object TrainStepResultToJS(Napi::Env env, const TrainStepResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", r.loss);
  out.Set("crossEntropy", r.crossEntropy);
  out.Set("dice", r.dice);
  out.Set("seg", r.seg);
  out.Set("dist", r.dist);
  out.Set("distInter", r.distInter);
  out.Set("distIntra", r.distIntra);
  out.Set("stepped", r.stepped);
  out.Set("nonFinite", r.nonFinite);
  if (r.gradNorm) out.Set("gradNorm", *r.gradNorm);
  if (r.ampScale) out.Set("ampScale", *r.ampScale);
  return out;
}

}  // namespace sd
