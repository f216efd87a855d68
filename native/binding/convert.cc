#include "binding/convert.h"

#include <ATen/ATen.h>
#include <ATen/ScalarOps.h>
#include <torch/cuda.h>

#include <cmath>
#include <sstream>

#include "binding/errors.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

struct DtypeEntry {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeEntry kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
    {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
    {"uint8", at::kByte},    {"bool", at::kBool},
};

std::string DtypeChoices() {
  std::string s;
  for (const auto& d : kDtypes) s += std::string(s.empty() ? "" : ", ") + d.name;
  return s;
}

}  // namespace

bool IsNullish(Napi::Value value) { return value.IsUndefined() || value.IsNull(); }

at::ScalarType ToDtype(Napi::Value value, const std::string& arg) {
  if (!value.IsString()) ThrowTypeError(value.Env(), arg + ": expected a dtype name (" + DtypeChoices() + ")");
  std::string name = value.As<Napi::String>().Utf8Value();
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  ThrowTypeError(value.Env(), arg + ": unknown dtype '" + name + "' (expected one of " + DtypeChoices() + ")");
}

std::optional<at::ScalarType> ToOptionalDtype(Napi::Value value, const std::string& arg) {
  if (IsNullish(value)) return std::nullopt;
  return ToDtype(value, arg);
}

std::vector<std::string> DtypeNames() {
  std::vector<std::string> names;
  for (const auto& d : kDtypes) names.emplace_back(d.name);
  return names;
}

const char* DtypeName(at::ScalarType dtype) {
  for (const auto& d : kDtypes) {
    if (d.type == dtype) return d.name;
  }
  return c10::toString(dtype);
}

c10::Device ToDevice(Napi::Value value, const std::string& arg) {
  Napi::Env env = value.Env();
  if (!value.IsString()) ThrowTypeError(env, arg + ": expected a device string such as 'cpu' or 'cuda:0'");
  std::string text = value.As<Napi::String>().Utf8Value();
  std::optional<c10::Device> device;
  try {
    device = c10::Device(text);
  } catch (const c10::Error&) {
    ThrowTypeError(env, arg + ": '" + text + "' is not a device (expected 'cpu', 'cuda' or 'cuda:N')");
  }
  if (!device->is_cpu() && !device->is_cuda()) {
    ThrowTypeError(env, arg + ": device type '" + text + "' is not supported (expected 'cpu' or 'cuda[:N]')");
  }
  if (device->is_cuda()) {
    int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (count == 0) ThrowRangeError(env, arg + ": '" + text + "' requested, but no CUDA device is available");
    if (device->has_index() && device->index() >= count) {
      ThrowRangeError(env, arg + ": '" + text + "' does not exist (" + std::to_string(count) + " CUDA devices)");
    }
  }
  return *device;
}

std::optional<c10::Device> ToOptionalDevice(Napi::Value value, const std::string& arg) {
  if (IsNullish(value)) return std::nullopt;
  return ToDevice(value, arg);
}

std::string DeviceName(const c10::Device& device) { return device.str(); }

int64_t ToInt(Napi::Value value, const std::string& arg) {
  Napi::Env env = value.Env();
  if (value.IsBigInt()) {
    bool lossless = false;
    int64_t v = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) ThrowRangeError(env, arg + ": BigInt does not fit in int64");
    return v;
  }
  if (!value.IsNumber()) ThrowTypeError(env, arg + ": expected an integer");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) {
    ThrowTypeError(env, arg + ": expected an integer, got " + value.ToString().Utf8Value());
  }
  if (std::fabs(d) > 9007199254740991.0) ThrowRangeError(env, arg + ": integer beyond 2^53, pass a BigInt");
  return static_cast<int64_t>(d);
}

std::optional<int64_t> ToOptionalInt(Napi::Value value, const std::string& arg) {
  if (IsNullish(value)) return std::nullopt;
  return ToInt(value, arg);
}

double ToDouble(Napi::Value value, const std::string& arg) {
  if (!value.IsNumber()) ThrowTypeError(value.Env(), arg + ": expected a number");
  return value.As<Napi::Number>().DoubleValue();
}

std::optional<double> ToOptionalDouble(Napi::Value value, const std::string& arg) {
  if (IsNullish(value)) return std::nullopt;
  return ToDouble(value, arg);
}

bool ToBool(Napi::Value value, const std::string& arg, bool fallback) {
  if (IsNullish(value)) return fallback;
  return ToBool(value, arg);
}

bool ToBool(Napi::Value value, const std::string& arg) {
  if (!value.IsBoolean()) ThrowTypeError(value.Env(), arg + ": expected a boolean");
  return value.As<Napi::Boolean>().Value();
}

Napi::Object ToObject(Napi::Value value, const std::string& arg) {
  if (!value.IsObject()) ThrowTypeError(value.Env(), arg + ": expected an object");
  return value.As<Napi::Object>();
}

std::string ToString(Napi::Value value, const std::string& arg) {
  if (!value.IsString()) ThrowTypeError(value.Env(), arg + ": expected a string");
  return value.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> ToIntList(Napi::Value value, const std::string& arg) {
  if (!value.IsArray()) ThrowTypeError(value.Env(), arg + ": expected an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) out[i] = ToInt(array.Get(i), arg + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<int64_t> ToDims(Napi::Value value, const std::string& arg) {
  if (IsNullish(value)) return {};
  if (value.IsArray()) return ToIntList(value, arg);
  return {ToInt(value, arg)};
}

std::vector<double> ToDoubleList(Napi::Value value, const std::string& arg) {
  if (!value.IsArray()) ThrowTypeError(value.Env(), arg + ": expected an array of numbers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<double> out(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) out[i] = ToDouble(array.Get(i), arg + "[" + std::to_string(i) + "]");
  return out;
}

c10::Scalar ToScalar(Napi::Value value, const std::string& arg) {
  if (value.IsBoolean()) return c10::Scalar(value.As<Napi::Boolean>().Value());
  if (value.IsBigInt()) return c10::Scalar(ToInt(value, arg));
  if (!value.IsNumber()) ThrowTypeError(value.Env(), arg + ": expected a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740991.0) {
    return c10::Scalar(static_cast<int64_t>(d));
  }
  return c10::Scalar(d);
}

std::vector<at::Tensor> ToTensorList(Napi::Value value, const std::string& arg) {
  if (!value.IsArray()) ThrowTypeError(value.Env(), arg + ": expected an array of tensors");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    out.push_back(TensorHandle::Arg(array.Get(i), (arg + "[" + std::to_string(i) + "]").c_str()));
  }
  return out;
}

at::Tensor ToTensorOrScalar(Napi::Value value, const std::string& arg) {
  if (TensorHandle::IsHandle(value)) return TensorHandle::Arg(value, arg.c_str());
  if (value.IsNumber() || value.IsBoolean() || value.IsBigInt()) {
    at::Tensor t = c10::scalar_to_tensor(ToScalar(value, arg));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
  }
  ThrowTypeError(value.Env(), arg + ": expected a Tensor or a number");
}

int64_t WrapDim(Napi::Env env, int64_t dim, int64_t rank, const std::string& arg) {
  int64_t bound = rank == 0 ? 1 : rank;  // a 0-d tensor accepts dim 0 / -1, as in PyTorch
  if (dim < -bound || dim >= bound) {
    ThrowRangeError(env, arg + ": dimension " + std::to_string(dim) + " is out of range for a tensor with " +
                             std::to_string(rank) + " dimensions");
  }
  return dim < 0 ? dim + bound : dim;
}

std::string ShapeString(at::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); i++) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

void CheckBroadcast(Napi::Env env, const at::Tensor& self, const at::Tensor& other, const std::string& op,
                    const std::string& arg) {
  auto a = self.sizes();
  auto b = other.sizes();
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; i++) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      ThrowRangeError(
          env, op + ": " + arg + " has shape " + ShapeString(b) + ", which does not broadcast with " + ShapeString(a));
    }
  }
}

void CheckFloating(Napi::Env env, const at::Tensor& t, const std::string& op) {
  if (!at::isFloatingType(t.scalar_type())) {
    ThrowTypeError(env, op + ": needs a floating-point tensor, got " + DtypeName(t.scalar_type()));
  }
}

Napi::Array FromIntList(Napi::Env env, at::IntArrayRef values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(values[i])));
  return out;
}

CreationOptions ToCreationOptions(Napi::Value value, at::ScalarType defaultDtype) {
  CreationOptions o{defaultDtype, c10::Device(c10::kCPU), false};
  if (IsNullish(value)) return o;
  if (!value.IsObject()) ThrowTypeError(value.Env(), "options: expected an object");
  Napi::Object obj = value.As<Napi::Object>();
  if (auto dtype = ToOptionalDtype(obj.Get("dtype"), "dtype")) o.dtype = *dtype;
  if (auto device = ToOptionalDevice(obj.Get("device"), "device")) o.device = *device;
  o.requiresGrad = ToBool(obj.Get("requiresGrad"), "requiresGrad", false);
  return o;
}

at::Tensor ApplyRequiresGrad(Napi::Env env, at::Tensor t, bool requiresGrad) {
  if (!requiresGrad) return t;
  if (!at::isFloatingType(t.scalar_type()) && !at::isComplexType(t.scalar_type())) {
    ThrowTypeError(env, std::string("requiresGrad: only floating-point tensors can require gradients, got ") +
                            DtypeName(t.scalar_type()));
  }
  t.set_requires_grad(true);
  return t;
}

}  // namespace sd
