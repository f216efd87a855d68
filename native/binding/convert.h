// Converting JS values to LibTorch arguments and back, with errors that name the argument.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Scalar.h>
#include <c10/core/ScalarType.h>
#include <napi.h>

#include <optional>
#include <string>
#include <vector>

namespace sd {

// dtype names as the TS layer spells them: "float32", "int64", "bool", ...
at::ScalarType ToDtype(Napi::Value value, const std::string& arg);
std::optional<at::ScalarType> ToOptionalDtype(Napi::Value value, const std::string& arg);
const char* DtypeName(at::ScalarType dtype);
// Every dtype name the addon knows, for the test that holds the TS union to it.
std::vector<std::string> DtypeNames();

// "cpu", "cuda", "cuda:1". A CUDA device on a machine without one is a RangeError.
c10::Device ToDevice(Napi::Value value, const std::string& arg);
std::optional<c10::Device> ToOptionalDevice(Napi::Value value, const std::string& arg);
std::string DeviceName(const c10::Device& device);

bool IsNullish(Napi::Value value);
int64_t ToInt(Napi::Value value, const std::string& arg);
std::optional<int64_t> ToOptionalInt(Napi::Value value, const std::string& arg);
double ToDouble(Napi::Value value, const std::string& arg);
std::optional<double> ToOptionalDouble(Napi::Value value, const std::string& arg);
bool ToBool(Napi::Value value, const std::string& arg, bool fallback);
// A required boolean (option bags arrive with every field resolved in TS).
bool ToBool(Napi::Value value, const std::string& arg);
Napi::Object ToObject(Napi::Value value, const std::string& arg);
std::string ToString(Napi::Value value, const std::string& arg);
std::vector<int64_t> ToIntList(Napi::Value value, const std::string& arg);
// A number, or an array of numbers; empty where nullish.
std::vector<int64_t> ToDims(Napi::Value value, const std::string& arg);
std::vector<double> ToDoubleList(Napi::Value value, const std::string& arg);
// Integral JS numbers become integer scalars (so int tensors stay int), others doubles.
c10::Scalar ToScalar(Napi::Value value, const std::string& arg);
std::vector<at::Tensor> ToTensorList(Napi::Value value, const std::string& arg);

// The handle's tensor, or a wrapped-number tensor for a JS number / boolean, so that
// scalars promote exactly as Python scalars do.
at::Tensor ToTensorOrScalar(Napi::Value value, const std::string& arg);

// `dim` wrapped into [0, rank); RangeError naming `arg` otherwise.
int64_t WrapDim(Napi::Env env, int64_t dim, int64_t rank, const std::string& arg);
std::string ShapeString(at::IntArrayRef shape);
void CheckBroadcast(Napi::Env env, const at::Tensor& self, const at::Tensor& other, const std::string& op,
                    const std::string& arg);
void CheckFloating(Napi::Env env, const at::Tensor& t, const std::string& op);

Napi::Array FromIntList(Napi::Env env, at::IntArrayRef values);

struct CreationOptions {
  at::ScalarType dtype;
  c10::Device device;
  bool requiresGrad;
};
// {dtype?, device?, requiresGrad?} with defaults float32 / cpu / false.
CreationOptions ToCreationOptions(Napi::Value value, at::ScalarType defaultDtype = at::kFloat);
at::Tensor ApplyRequiresGrad(Napi::Env env, at::Tensor t, bool requiresGrad);

}  // namespace sd
