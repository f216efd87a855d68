// Tensors from and to JS data: typed arrays, factories, metadata, device / dtype moves.
#include <ATen/ATen.h>

#include <cstring>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

int64_t CheckedNumel(Napi::Env env, const std::vector<int64_t>& shape, const std::string& arg) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); i++) {
    if (shape[i] < 0) ThrowRangeError(env, arg + "[" + std::to_string(i) + "]: sizes must be >= 0");
    n *= shape[i];
  }
  return n;
}

// The element type a typed array holds, as a LibTorch dtype.
at::ScalarType TypedArrayDtype(Napi::TypedArray array) {
  switch (array.TypedArrayType()) {
    case napi_float32_array:
      return at::kFloat;
    case napi_float64_array:
      return at::kDouble;
    case napi_int32_array:
      return at::kInt;
    case napi_int16_array:
      return at::kShort;
    case napi_int8_array:
      return at::kChar;
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return at::kByte;
    case napi_bigint64_array:
      return at::kLong;
    default:
      ThrowTypeError(array.Env(),
                     "data: unsupported typed array (use Float32Array, Float64Array, Int32Array, "
                     "Int16Array, Int8Array, Uint8Array or BigInt64Array)");
  }
}

// fromTypedArray(data, shape, options): copies the data; options.dtype converts after.
// options.bool marks a Uint8Array that holds booleans.
Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) ThrowTypeError(env, "data: expected a typed array");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  at::ScalarType source = TypedArrayDtype(array);
  std::vector<int64_t> shape = ToIntList(info[1], "shape");
  int64_t n = CheckedNumel(env, shape, "shape");
  if (n != static_cast<int64_t>(array.ElementLength())) {
    ThrowRangeError(env, "shape: " + ShapeString(shape) + " holds " + std::to_string(n) + " elements but data has " +
                             std::to_string(array.ElementLength()));
  }
  bool asBool = info[2].IsObject() && ToBool(info[2].As<Napi::Object>().Get("bool"), "bool", false);
  CreationOptions opts = ToCreationOptions(info[2], asBool ? at::kBool : source);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(source));
  if (n > 0)
    std::memcpy(t.data_ptr(), static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset(),
                array.ByteLength());
  if (asBool) t = t.ne(0);
  t = t.to(opts.device, opts.dtype);
  return TensorHandle::Wrap(env, ApplyRequiresGrad(env, t, opts.requiresGrad));
}

// factory(kind, shape, options) for zeros / ones / empty / rand / randn.
Napi::Value Factory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind = ToString(info[0], "kind");
  std::vector<int64_t> shape = ToIntList(info[1], "shape");
  CheckedNumel(env, shape, "shape");
  CreationOptions o = ToCreationOptions(info[2]);
  auto options = at::TensorOptions().dtype(o.dtype).device(o.device);
  at::Tensor t;
  if (kind == "zeros")
    t = at::zeros(shape, options);
  else if (kind == "ones")
    t = at::ones(shape, options);
  else if (kind == "empty")
    t = at::empty(shape, options);
  else if (kind == "rand")
    t = at::rand(shape, options);
  else if (kind == "randn")
    t = at::randn(shape, options);
  else
    ThrowRangeError(env, "kind: unknown factory '" + kind + "'");
  return TensorHandle::Wrap(env, ApplyRequiresGrad(env, t, o.requiresGrad));
}

// full(shape, value, options); the dtype defaults to the value's kind.
Napi::Value Full(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int64_t> shape = ToIntList(info[0], "shape");
  CheckedNumel(env, shape, "shape");
  c10::Scalar value = ToScalar(info[1], "value");
  CreationOptions o = ToCreationOptions(info[2], value.isBoolean() ? at::kBool : at::kFloat);
  at::Tensor t = at::full(shape, value, at::TensorOptions().dtype(o.dtype).device(o.device));
  return TensorHandle::Wrap(env, ApplyRequiresGrad(env, t, o.requiresGrad));
}

// arange(start, end, step, options); integer arguments give int64 unless a dtype is given.
Napi::Value Arange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c10::Scalar start = ToScalar(info[0], "start");
  c10::Scalar end = ToScalar(info[1], "end");
  c10::Scalar step = ToScalar(info[2], "step");
  if (step.toDouble() == 0) ThrowRangeError(env, "step: must not be zero");
  bool integral = start.isIntegral(false) && end.isIntegral(false) && step.isIntegral(false);
  CreationOptions o = ToCreationOptions(info[3], integral ? at::kLong : at::kFloat);
  at::Tensor t = at::arange(start, end, step, at::TensorOptions().dtype(o.dtype).device(o.device));
  return TensorHandle::Wrap(env, ApplyRequiresGrad(env, t, o.requiresGrad));
}

template <typename T, typename Array>
Napi::Value CopyOut(Napi::Env env, const at::Tensor& t) {
  Array out = Array::New(env, t.numel());
  if (t.numel() > 0) std::memcpy(out.Data(), t.data_ptr(), t.numel() * sizeof(T));
  return out;
}

// toArray(t): a typed copy; float16 / bfloat16 come back as Float32Array, bool as Uint8Array.
Napi::Value ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor t = TensorHandle::Arg(info[0], "tensor");
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);
  t = t.to(at::kCPU).contiguous();
  switch (t.scalar_type()) {
    case at::kFloat:
      return CopyOut<float, Napi::Float32Array>(env, t);
    case at::kDouble:
      return CopyOut<double, Napi::Float64Array>(env, t);
    case at::kInt:
      return CopyOut<int32_t, Napi::Int32Array>(env, t);
    case at::kShort:
      return CopyOut<int16_t, Napi::Int16Array>(env, t);
    case at::kChar:
      return CopyOut<int8_t, Napi::Int8Array>(env, t);
    case at::kByte:
      return CopyOut<uint8_t, Napi::Uint8Array>(env, t);
    case at::kBool:
      return CopyOut<uint8_t, Napi::Uint8Array>(env, t);
    case at::kLong: {
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, t.numel() * sizeof(int64_t));
      if (t.numel() > 0) std::memcpy(buffer.Data(), t.data_ptr(), t.numel() * sizeof(int64_t));
      napi_value out;
      napi_create_typedarray(env, napi_bigint64_array, t.numel(), buffer, 0, &out);
      return Napi::Value(env, out);
    }
    default:
      ThrowTypeError(env, std::string("tensor: cannot copy out dtype ") + DtypeName(t.scalar_type()));
  }
}

// item(t): a number (boolean for bool); int64 beyond 2^53 comes back as a BigInt.
Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = TensorHandle::Arg(info[0], "tensor");
  if (t.numel() != 1) {
    ThrowRangeError(env, "item: needs a tensor with one element, got shape " + ShapeString(t.sizes()));
  }
  c10::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
  if (s.isIntegral(false)) {
    int64_t v = s.toLong();
    if (v > 9007199254740991LL || v < -9007199254740991LL) return Napi::BigInt::New(env, v);
    return Napi::Number::New(env, static_cast<double>(v));
  }
  return Napi::Number::New(env, s.toDouble());
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  return FromIntList(info.Env(), TensorHandle::Arg(info[0], "tensor").sizes());
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(TensorHandle::Arg(info[0], "tensor").scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DeviceName(TensorHandle::Arg(info[0], "tensor").device()));
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TensorHandle::Arg(info[0], "tensor").numel()));
}

// to(t, device?, dtype?, copy?): a new handle even when nothing changes, so that
// each TS Tensor owns its handle.
Napi::Value To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = TensorHandle::Arg(info[0], "tensor");
  auto device = ToOptionalDevice(info[1], "device");
  auto dtype = ToOptionalDtype(info[2], "dtype");
  bool copy = ToBool(info[3], "copy", false);
  return TensorHandle::Wrap(env, t.to(device.value_or(t.device()), dtype.value_or(t.scalar_type()),
                                      /*non_blocking=*/false, copy));
}

}  // namespace

void RegisterCreation(Napi::Env env, Napi::Object exports) {
  Export<FromTypedArray>(env, exports, "fromTypedArray");
  Export<Factory>(env, exports, "factory");
  Export<Full>(env, exports, "full");
  Export<Arange>(env, exports, "arange");
  Export<ToArray>(env, exports, "toArray");
  Export<Item>(env, exports, "item");
  Export<Shape>(env, exports, "shape");
  Export<Dtype>(env, exports, "dtype");
  Export<Device>(env, exports, "device");
  Export<Numel>(env, exports, "numel");
  Export<To>(env, exports, "to");
}

}  // namespace sd
