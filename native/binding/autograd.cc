// Autograd on single tensors: requiresGrad, backward, grad, and the grad mode switch.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorHandle::Arg(info[0], "tensor").requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor& t = TensorHandle::Arg(info[0], "tensor");
  bool flag = ToBool(info[1], "requiresGrad", true);
  if (flag) {
    ApplyRequiresGrad(env, t, true);
  } else {
    if (!t.is_leaf()) {
      ThrowTypeError(env, "requiresGrad: only leaf tensors can stop requiring gradients (use detach())");
    }
    t.set_requires_grad(false);
  }
  return env.Undefined();
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorHandle::Arg(info[0], "tensor").is_leaf());
}

// backward(t, gradient?, retainGraph?, createGraph?)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = TensorHandle::Arg(info[0], "tensor");
  at::Tensor gradient;
  if (!IsNullish(info[1])) {
    gradient = TensorHandle::Arg(info[1], "gradient");
    if (!gradient.sizes().equals(t.sizes())) {
      ThrowRangeError(env, "gradient: shape " + ShapeString(gradient.sizes()) + " does not match the tensor's " +
                               ShapeString(t.sizes()));
    }
  }
  bool createGraph = ToBool(info[3], "createGraph", false);
  std::optional<bool> retain;
  if (!IsNullish(info[2])) retain = ToBool(info[2], "retainGraph", false);
  t.backward(gradient, retain, createGraph);
  return env.Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return TensorHandle::WrapOrNull(info.Env(), TensorHandle::Arg(info[0], "tensor").grad());
}

Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  TensorHandle::Arg(info[0], "tensor").mutable_grad().reset();
  return info.Env().Undefined();
}

// setGradEnabled(flag) -> the previous mode (grad mode is per thread; this is the JS thread).
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(ToBool(info[0], "enabled", true));
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

}  // namespace

void RegisterAutograd(Napi::Env env, Napi::Object exports) {
  Export<RequiresGrad>(env, exports, "requiresGrad");
  Export<SetRequiresGrad>(env, exports, "setRequiresGrad");
  Export<IsLeaf>(env, exports, "isLeaf");
  Export<Backward>(env, exports, "backward");
  Export<Grad>(env, exports, "grad");
  Export<ZeroGrad>(env, exports, "zeroGrad");
  Export<SetGradEnabled>(env, exports, "setGradEnabled");
  Export<IsGradEnabled>(env, exports, "isGradEnabled");
}

}  // namespace sd
