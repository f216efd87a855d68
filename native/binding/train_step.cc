#include "binding/train_step.h"

#include <ATen/ATen.h>
#include <torch/optim/optimizer.h>

#include <unordered_set>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/losses.h"
#include "binding/module.h"
#include "binding/optim.h"
#include "binding/proto_ops.h"
#include "binding/tensor_handle.h"
#include "distributed/group.h"

namespace sd {
namespace {

// {crossEntropy, dice, dist, ignoreIndex}: each term an object or null (not counted); every
// field required (defaults: lib/losses/options.ts, lib/ops/dist-options.ts).
void ReadLoss(Napi::Env env, Napi::Value value, TrainStepSpec& spec) {
  Napi::Object loss = ToObject(value, "loss");
  Napi::Value ce = loss.Get("crossEntropy"), dice = loss.Get("dice"), dist = loss.Get("dist");
  spec.ignoreIndex = ToOptionalInt(loss.Get("ignoreIndex"), "loss.ignoreIndex");
  if (!ce.IsNull()) {
    Napi::Object o = ToObject(ce, "loss.crossEntropy");
    spec.ceWeight = ToDouble(o.Get("weight"), "loss.crossEntropy.weight");
    if (!o.Get("classWeights").IsNull())
      spec.classWeights = TensorHandle::Arg(o.Get("classWeights"), "loss.crossEntropy.classWeights");
  }
  if (!dice.IsNull()) {
    spec.dice = ToDiceOptions(dice, "loss.dice");
    spec.diceWeight = ToDouble(dice.As<Napi::Object>().Get("weight"), "loss.dice.weight");
  }
  if (!dist.IsNull()) {
    spec.dist = ToDistOptions(dist, "loss.dist");
    Napi::Object o = dist.As<Napi::Object>();
    spec.distWeight = ToDouble(o.Get("weight"), "loss.dist.weight");
    spec.teacherPrototype = TensorHandle::Arg(o.Get("teacherPrototype"), "loss.dist.teacherPrototype");
  }
  spec.dice.ignore_index = spec.ignoreIndex;
  spec.dist.ignoreIndex = spec.ignoreIndex;
  spec.dist.checkLabels = false;  // the segmentation labels were checked already
  if (spec.ceWeight == 0 && spec.diceWeight == 0 && spec.distWeight == 0)
    ThrowRangeError(env, "loss: every term has weight 0");
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
  spec.clipGradNorm = ToOptionalDouble(o.Get("clipGradNorm"), "clipGradNorm");  // null: no clipping
  if (spec.clipGradNorm && !(*spec.clipGradNorm > 0)) ThrowRangeError(env, "clipGradNorm: expected a norm > 0");
  spec.amp = ToBool(o.Get("amp"), "amp");
  spec.zeroGrad = ToBool(o.Get("zeroGrad"), "zeroGrad");
  spec.step = ToBool(o.Get("step"), "step");
  spec.lossScale = ToDouble(o.Get("lossScale"), "lossScale");
  if (!(spec.lossScale > 0)) ThrowRangeError(env, "lossScale: expected a value > 0");
  if (ToBool(o.Get("distributed"), "distributed")) {
    spec.group = dist::Current();
    if (!spec.group) ThrowTypeError(env, "distributed: no process group; call distributed.init first");
  }
  // Reading the spec ran JS (getters, valueOf): take the optimizer only now that nothing more
  // can dispose it, and check the handles again.
  spec.moduleHandle->CheckIdle(env);
  spec.optimizerHandle->CheckIdle(env);
  OptimizerHandle* optimizer = spec.optimizerHandle;
  spec.optimizer = &optimizer->optimizer();
  spec.params = optimizer->params();
  spec.scaler = [optimizer](const at::Device& device) -> ops::GradScaler& { return optimizer->Scaler(device); };
  return spec;
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
  if (r.syncMs) out.Set("syncMs", *r.syncMs);
  return out;
}

}  // namespace sd
