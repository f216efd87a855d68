// Bindings of the prototype / DIST ops (math in native/ops/prototype_ops and reference).
#include <ATen/ATen.h>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/proto_ops.h"
#include "binding/tensor_handle.h"
#include "ops/prototype_ops.h"
#include "ops/reference.h"

namespace sd {

ops::DistOptions ToDistOptions(Napi::Value value, const std::string& where) {
  Napi::Object obj = ToObject(value, where);
  Napi::Env env = value.Env();
  ops::DistOptions o;
  std::string c = ToString(obj.Get("channels"), where + ".channels");
  if (c != "present" && c != "all")
    ThrowRangeError(env, where + ".channels: expected 'present' or 'all', got '" + c + "'");
  o.allChannels = c == "all";
  Napi::Value mask = obj.Get("teacherMask");
  if (!mask.IsNull()) {
    if (!mask.IsArray())
      ThrowTypeError(env, where + ".teacherMask: expected an array of booleans, one per class, or null");
    Napi::Array a = mask.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      o.teacherMask.push_back(ToBool(a.Get(i), where + ".teacherMask[" + std::to_string(i) + "]") ? 1 : 0);
    }
  }
  o.tau = ToDouble(obj.Get("tau"), where + ".tau");
  o.interWeight = ToDouble(obj.Get("interWeight"), where + ".interWeight");
  o.intraWeight = ToDouble(obj.Get("intraWeight"), where + ".intraWeight");
  return o;
}

namespace {

// The ops' options: the loss's fields plus {ignoreIndex (number or null), checkLabels}.
ops::DistOptions ToOpOptions(Napi::Value value) {
  ops::DistOptions o = ToDistOptions(value, "options");
  Napi::Object obj = value.As<Napi::Object>();
  o.ignoreIndex = ToOptionalInt(obj.Get("ignoreIndex"), "options.ignoreIndex");
  o.checkLabels = ToBool(obj.Get("checkLabels"), "options.checkLabels");
  return o;
}

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
  auto o = ToOpOptions(info[3]);
  auto [p, n] = ToBool(info[4], "reference") ? ops::reference::ClassPrototypes(logits, labels, classes, o)
                                             : ops::ClassPrototypes(logits, labels, classes, o);
  return Pair(info.Env(), p, n);
}

// distLoss(prototypes, counts, teacher, options, reference?) -> scalar
Napi::Value DistLoss(const Napi::CallbackInfo& info) {
  const at::Tensor& protos = TensorHandle::Arg(info[0], "prototypes");
  const at::Tensor& counts = TensorHandle::Arg(info[1], "counts");
  const at::Tensor& teacher = TensorHandle::Arg(info[2], "teacherPrototype");
  auto o = ToOpOptions(info[3]);
  bool ref = ToBool(info[4], "reference");
  return TensorHandle::Wrap(info.Env(), ref ? ops::reference::DistLoss(protos, counts, teacher, o)
                                            : ops::DistLoss(protos, counts, teacher, o));
}

// protoDistLoss(logits, labels, teacher, options, reference?) -> scalar
Napi::Value ProtoDistLoss(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  const at::Tensor& teacher = TensorHandle::Arg(info[2], "teacherPrototype");
  auto o = ToOpOptions(info[3]);
  bool ref = ToBool(info[4], "reference");
  return TensorHandle::Wrap(info.Env(), ref ? ops::reference::ProtoDistLoss(logits, labels, teacher, o)
                                            : ops::ProtoDistLoss(logits, labels, teacher, o));
}

// samplePrototypeSums(logits, labels, numClasses, options) -> [sums float64 [S, K, C], counts int64 [S, K]]
Napi::Value SamplePrototypeSums(const Napi::CallbackInfo& info) {
  const at::Tensor& logits = TensorHandle::Arg(info[0], "logits");
  const at::Tensor& labels = TensorHandle::Arg(info[1], "labels");
  auto s = ops::SamplePrototypeSums(logits, labels, ToInt(info[2], "numClasses"), ToOpOptions(info[3]));
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
