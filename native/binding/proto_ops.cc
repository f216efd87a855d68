// Bindings of the prototype / DIST ops (math in native/ops/prototype_ops and reference).
#include <ATen/ATen.h>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/proto_ops.h"
#include "binding/tensor_handle.h"
#include "ops/prototype_ops.h"
#include "ops/reference.h"

namespace sd {

ops::DistOptions ToDistOptions(Napi::Value value) {
  ops::DistOptions o;
  if (IsNullish(value)) return o;
  if (!value.IsObject()) {
    ThrowTypeError(value.Env(), "options: expected {tau?, interWeight?, intraWeight?, channels?, teacherMask?, ignoreIndex?}");
  }
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value channels = obj.Get("channels");
  if (!IsNullish(channels)) {
    std::string c = ToString(channels, "channels");
    if (c != "present" && c != "all") ThrowRangeError(value.Env(), "channels: expected 'present' or 'all', got '" + c + "'");
    o.allChannels = c == "all";
  }
  Napi::Value mask = obj.Get("teacherMask");
  if (!IsNullish(mask)) {
    if (!mask.IsArray()) ThrowTypeError(value.Env(), "teacherMask: expected an array of booleans, one per class");
    Napi::Array a = mask.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsBoolean()) ThrowTypeError(value.Env(), "teacherMask[" + std::to_string(i) + "]: expected a boolean");
      o.teacherMask.push_back(v.As<Napi::Boolean>().Value() ? 1 : 0);
    }
  }
  o.tau = ToOptionalDouble(obj.Get("tau"), "tau").value_or(o.tau);
  o.interWeight = ToOptionalDouble(obj.Get("interWeight"), "interWeight").value_or(o.interWeight);
  o.intraWeight = ToOptionalDouble(obj.Get("intraWeight"), "intraWeight").value_or(o.intraWeight);
  o.ignoreIndex = ToOptionalInt(obj.Get("ignoreIndex"), "ignoreIndex");
  o.checkLabels = ToBool(obj.Get("checkLabels"), "checkLabels", true);
  return o;
}

namespace {

Napi::Value Pair(Napi::Env env, const at::Tensor& a, const at::Tensor& b) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, TensorHandle::Wrap(env, a));
  out.Set(1u, TensorHandle::Wrap(env, b));
  return out;
}

// classPrototypes(logits, labels, numClasses, options, reference?) -> [prototypes, counts]
Napi::Value ClassPrototypes(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  int64_t classes = ToInt(info[2], "numClasses");
  auto o = ToDistOptions(info[3]);
  auto [p, n] = ToBool(info[4], "reference", false) ? ops::reference::ClassPrototypes(logits, labels, classes, o)
                                                    : ops::ClassPrototypes(logits, labels, classes, o);
  return Pair(info.Env(), p, n);
}

// distLoss(prototypes, counts, teacher, options, reference?) -> scalar
Napi::Value DistLoss(const Napi::CallbackInfo& info) {
  const at::Tensor& protos = TensorHandle::Arg(info[0], "prototypes");
  const at::Tensor& counts = TensorHandle::Arg(info[1], "counts");
  const at::Tensor& teacher = TensorHandle::Arg(info[2], "teacherPrototype");
  auto o = ToDistOptions(info[3]);
  bool ref = ToBool(info[4], "reference", false);
  return TensorHandle::Wrap(info.Env(), ref ? ops::reference::DistLoss(protos, counts, teacher, o)
                                            : ops::DistLoss(protos, counts, teacher, o));
}

// protoDistLoss(logits, labels, teacher, options, reference?) -> scalar
Napi::Value ProtoDistLoss(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  const at::Tensor& teacher = TensorHandle::Arg(info[2], "teacherPrototype");
  auto o = ToDistOptions(info[3]);
  bool ref = ToBool(info[4], "reference", false);
  return TensorHandle::Wrap(info.Env(), ref ? ops::reference::ProtoDistLoss(logits, labels, teacher, o)
                                            : ops::ProtoDistLoss(logits, labels, teacher, o));
}

// samplePrototypeSums(logits, labels, numClasses, options) -> [sums float64 [S, K, C], counts int64 [S, K]]
Napi::Value SamplePrototypeSums(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  auto s = ops::SamplePrototypeSums(logits, labels, ToInt(info[2], "numClasses"), ToDistOptions(info[3]));
  return Pair(info.Env(), s.sums, s.counts);
}

}  // namespace

void RegisterProtoOps(Napi::Env env, Napi::Object exports) {
  Export<ClassPrototypes>(env, exports, "classPrototypes");
  Export<DistLoss>(env, exports, "distLoss");
  Export<ProtoDistLoss>(env, exports, "protoDistLoss");
  Export<SamplePrototypeSums>(env, exports, "samplePrototypeSums");
}

}  // namespace sd
