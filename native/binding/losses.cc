// Differentiable segmentation losses and gradient clipping (math in native/ops).
#include <ATen/ATen.h>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/losses.h"
#include "binding/tensor_handle.h"
#include "ops/grad_utils.h"
#include "ops/seg_losses.h"

namespace sd {

ops::DiceOptions ToDiceOptions(Napi::Value value, const std::string& where) {
  Napi::Object o = ToObject(value, where);
  ops::DiceOptions options;
  options.smooth = ToDouble(o.Get("smooth"), where + ".smooth");
  options.squared = ToBool(o.Get("squared"), where + ".squared");
  options.include_background = ToBool(o.Get("includeBackground"), where + ".includeBackground");
  return options;
}

namespace {

// crossEntropy(logits, labels, classWeights?, ignoreIndex?) -> scalar
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  std::optional<at::Tensor> weights;
  if (!IsNullish(info[2])) weights = TensorHandle::Arg(info[2], "weight");
  auto ignore = ToOptionalInt(info[3], "ignoreIndex");
  ops::CheckSegmentationLabels(logits, labels, ignore);
  return TensorHandle::Wrap(info.Env(), ops::CrossEntropy(logits, labels, weights, ignore));
}

// dice(logits, labels, {smooth, squared, includeBackground, ignoreIndex (number or null)}) -> scalar
Napi::Value Dice(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  ops::DiceOptions options = ToDiceOptions(info[2], "options");
  options.ignore_index = ToOptionalInt(info[2].As<Napi::Object>().Get("ignoreIndex"), "options.ignoreIndex");
  ops::CheckSegmentationLabels(logits, labels, options.ignore_index);
  return TensorHandle::Wrap(info.Env(), ops::SoftDice(logits, labels, options));
}

// clipGradNorm(params[], maxNorm, normType = 2) -> the total norm before clipping (a number)
Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  auto params = ToTensorList(info[0], "params");
  double max_norm = ToDouble(info[1], "maxNorm");
  if (!(max_norm > 0)) ThrowRangeError(info.Env(), "maxNorm: expected a norm > 0");
  double norm_type = ToOptionalDouble(info[2], "normType").value_or(2.0);
  return Napi::Number::New(info.Env(), ops::ClipGradNorm(params, max_norm, norm_type).item<double>());
}

}  // namespace

void RegisterLosses(Napi::Env env, Napi::Object exports) {
  Export<CrossEntropy>(env, exports, "crossEntropy");
  Export<Dice>(env, exports, "dice");
  Export<ClipGradNorm>(env, exports, "clipGradNorm");
}

}  // namespace sd
