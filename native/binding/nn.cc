// Neural-network helpers on tensors: softmax, resampling, one-hot encoding.
#include <ATen/ATen.h>

#include <cmath>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

// softmax(op, self, dim) for "softmax" / "logSoftmax".
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  CheckFloating(env, self, op);
  int64_t dim = WrapDim(env, ToInt(info[2], "dim"), self.dim(), "dim");
  if (op == "softmax") return TensorHandle::Wrap(env, at::softmax(self, dim));
  if (op == "logSoftmax") return TensorHandle::Wrap(env, at::log_softmax(self, dim));
  ThrowRangeError(env, "op: unknown op '" + op + "'");
}

// interpolate(self, {size?, scaleFactor?, mode, alignCorners?}) over the spatial dims of
// [N, C, H, W] (2D) or [N, C, D, H, W] (3D). Integer tensors (label maps) may use
// 'nearest' and keep their dtype.
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& input = TensorHandle::Arg(info[0], "input");
  if (!info[1].IsObject()) ThrowTypeError(env, "options: expected {size | scaleFactor, mode}");
  Napi::Object o = info[1].As<Napi::Object>();
  int64_t spatial = input.dim() - 2;
  if (spatial != 2 && spatial != 3) {
    ThrowRangeError(
        env, "input: interpolate needs [N, C, H, W] or [N, C, D, H, W], got shape " + ShapeString(input.sizes()));
  }
  std::string mode = IsNullish(o.Get("mode")) ? "nearest" : ToString(o.Get("mode"), "mode");
  if (mode == "linear") mode = spatial == 2 ? "bilinear" : "trilinear";
  if ((mode == "bilinear" && spatial != 2) || (mode == "trilinear" && spatial != 3)) {
    ThrowRangeError(env, "mode: '" + mode + "' does not fit a " + std::to_string(spatial) +
                             "-D input (use 'linear', 'bilinear' for 2D, 'trilinear' for 3D)");
  }
  if (mode != "nearest" && mode != "bilinear" && mode != "trilinear") {
    ThrowRangeError(env, "mode: unknown mode '" + mode + "' (nearest, linear, bilinear, trilinear)");
  }
  bool hasSize = !IsNullish(o.Get("size")), hasScale = !IsNullish(o.Get("scaleFactor"));
  if (hasSize == hasScale) ThrowTypeError(env, "options: give exactly one of size and scaleFactor");
  std::vector<int64_t> size;
  std::vector<std::optional<double>> scales(spatial);
  if (hasSize) {
    size = ToDims(o.Get("size"), "size");
    if (size.size() == 1) size.assign(spatial, size[0]);
  } else {
    std::vector<double> f = o.Get("scaleFactor").IsNumber()
                                ? std::vector<double>{ToDouble(o.Get("scaleFactor"), "scaleFactor")}
                                : ToDoubleList(o.Get("scaleFactor"), "scaleFactor");
    if (f.size() == 1) f.assign(spatial, f[0]);
    if (static_cast<int64_t>(f.size()) != spatial)
      ThrowRangeError(env, "scaleFactor: needs one factor per spatial dim");
    for (int64_t i = 0; i < spatial; i++) {
      if (!(f[i] > 0)) ThrowRangeError(env, "scaleFactor: factors must be positive");
      size.push_back(static_cast<int64_t>(std::floor(input.size(i + 2) * f[i])));
      scales[i] = f[i];
    }
  }
  if (static_cast<int64_t>(size.size()) != spatial) {
    ThrowRangeError(env, "size: needs " + std::to_string(spatial) + " sizes, got " + ShapeString(size));
  }
  for (int64_t s : size) {
    if (s <= 0) ThrowRangeError(env, "size: output sizes must be positive, got " + ShapeString(size));
  }
  bool alignCorners = ToBool(o.Get("alignCorners"), "alignCorners", false);
  if (mode == "nearest" && !IsNullish(o.Get("alignCorners"))) {
    ThrowTypeError(env, "alignCorners: only applies to linear modes");
  }
  at::ScalarType dtype = input.scalar_type();
  bool integral = !at::isFloatingType(dtype);
  if (integral && mode != "nearest") ThrowTypeError(env, "input: linear modes need a floating-point tensor");
  // Integers up to 2^24 survive float32 exactly; label maps are far below that.
  at::Tensor x = integral ? input.to(at::kFloat) : input;
  at::Tensor out;
  if (spatial == 2) {
    out = mode == "nearest" ? at::upsample_nearest2d(x, size, scales[0], scales[1])
                            : at::upsample_bilinear2d(x, size, alignCorners, scales[0], scales[1]);
  } else {
    out = mode == "nearest" ? at::upsample_nearest3d(x, size, scales[0], scales[1], scales[2])
                            : at::upsample_trilinear3d(x, size, alignCorners, scales[0], scales[1], scales[2]);
  }
  return TensorHandle::Wrap(env, integral ? out.to(dtype) : out);
}

// oneHot(labels, numClasses): int64 [..., C]; labels outside [0, C) are a RangeError.
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& labels = TensorHandle::Arg(info[0], "labels");
  if (!at::isIntegralType(labels.scalar_type(), /*includeBool=*/false)) {
    ThrowTypeError(env, std::string("labels: expected an integer tensor, got ") + DtypeName(labels.scalar_type()));
  }
  int64_t classes = ToInt(info[1], "numClasses");
  if (classes <= 0) ThrowRangeError(env, "numClasses: must be positive");
  if (labels.numel() > 0) {
    int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    if (lo < 0 || hi >= classes) {
      ThrowRangeError(env, "labels: value " + std::to_string(lo < 0 ? lo : hi) + " is outside [0, " +
                               std::to_string(classes) + ")");
    }
  }
  return TensorHandle::Wrap(env, at::one_hot(labels.to(at::kLong), classes));
}

}  // namespace

void RegisterNN(Napi::Env env, Napi::Object exports) {
  Export<Softmax>(env, exports, "softmax");
  Export<Interpolate>(env, exports, "interpolate");
  Export<OneHot>(env, exports, "oneHot");
}

}  // namespace sd
