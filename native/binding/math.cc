// Element-wise arithmetic, comparisons, matmul and reductions.
#include <ATen/ATen.h>

#include <functional>
#include <unordered_map>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

using Unary = std::function<at::Tensor(const at::Tensor&)>;
using Binary = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;

const std::unordered_map<std::string, Unary>& UnaryOps() {
  static const std::unordered_map<std::string, Unary> ops = {
      {"neg", [](const at::Tensor& a) { return at::neg(a); }},
      {"abs", [](const at::Tensor& a) { return at::abs(a); }},
      {"exp", [](const at::Tensor& a) { return at::exp(a); }},
      {"log", [](const at::Tensor& a) { return at::log(a); }},
      {"log1p", [](const at::Tensor& a) { return at::log1p(a); }},
      {"sqrt", [](const at::Tensor& a) { return at::sqrt(a); }},
      {"rsqrt", [](const at::Tensor& a) { return at::rsqrt(a); }},
      {"square", [](const at::Tensor& a) { return at::square(a); }},
      {"reciprocal", [](const at::Tensor& a) { return at::reciprocal(a); }},
      {"sigmoid", [](const at::Tensor& a) { return at::sigmoid(a); }},
      {"tanh", [](const at::Tensor& a) { return at::tanh(a); }},
      {"relu", [](const at::Tensor& a) { return at::relu(a); }},
      {"sin", [](const at::Tensor& a) { return at::sin(a); }},
      {"cos", [](const at::Tensor& a) { return at::cos(a); }},
      {"floor", [](const at::Tensor& a) { return at::floor(a); }},
      {"ceil", [](const at::Tensor& a) { return at::ceil(a); }},
      {"round", [](const at::Tensor& a) { return at::round(a); }},
      {"trunc", [](const at::Tensor& a) { return at::trunc(a); }},
      {"sign", [](const at::Tensor& a) { return at::sign(a); }},
      {"logicalNot", [](const at::Tensor& a) { return at::logical_not(a); }},
      {"isnan", [](const at::Tensor& a) { return at::isnan(a); }},
      {"isfinite", [](const at::Tensor& a) { return at::isfinite(a); }},
  };
  return ops;
}

const std::unordered_map<std::string, Binary>& BinaryOps() {
  static const std::unordered_map<std::string, Binary> ops = {
      {"sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
      {"mul", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
      {"div", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }},
      {"floorDivide", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); }},
      {"remainder", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }},
      {"pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }},
      {"maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }},
      {"minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }},
      {"atan2", [](const at::Tensor& a, const at::Tensor& b) { return at::atan2(a, b); }},
      {"eq", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
      {"ne", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }},
      {"lt", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
      {"le", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
      {"gt", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
      {"ge", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
      {"logicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
      {"logicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
      {"logicalXor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }},
  };
  return ops;
}

// opNames() -> {unary, binary, dtypes}: the tables' names, so the TS unions can be checked against them.
Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto keys = [&](const auto& table) {
    Napi::Array out = Napi::Array::New(env, table.size());
    uint32_t i = 0;
    for (const auto& entry : table) out.Set(i++, entry.first);
    return out;
  };
  Napi::Object out = Napi::Object::New(env);
  out.Set("unary", keys(UnaryOps()));
  out.Set("binary", keys(BinaryOps()));
  Napi::Array dtypes = Napi::Array::New(env);
  for (const auto& name : DtypeNames()) dtypes.Set(dtypes.Length(), name);
  out.Set("dtypes", dtypes);
  return out;
}

// unary(op, t)
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  std::string op = ToString(info[0], "op");
  auto it = UnaryOps().find(op);
  if (it == UnaryOps().end()) ThrowRangeError(info.Env(), "op: unknown unary op '" + op + "'");
  return TensorHandle::Wrap(info.Env(), it->second(TensorHandle::Arg(info[1], "self")));
}

// binary(op, self, other): other is a Tensor or a number.
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  auto it = BinaryOps().find(op);
  if (it == BinaryOps().end()) ThrowRangeError(env, "op: unknown binary op '" + op + "'");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  at::Tensor other = ToTensorOrScalar(info[2], "other");
  CheckBroadcast(env, self, other, op, "other");
  return TensorHandle::Wrap(env, it->second(self, other));
}

// add(self, other, alpha): self + alpha * other, as torch.add.
Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  at::Tensor other = ToTensorOrScalar(info[1], "other");
  CheckBroadcast(env, self, other, "add", "other");
  c10::Scalar alpha = IsNullish(info[2]) ? c10::Scalar(int64_t{1}) : ToScalar(info[2], "alpha");
  return TensorHandle::Wrap(env, at::add(self, other, alpha));
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& a = TensorHandle::Arg(info[0], "self");
  const at::Tensor& b = TensorHandle::Arg(info[1], "other");
  if (a.dim() == 0 || b.dim() == 0) ThrowRangeError(env, "matmul: both operands need at least one dimension");
  int64_t inner = b.dim() == 1 ? b.size(0) : b.size(-2);
  if (a.size(-1) != inner) {
    ThrowRangeError(env, "matmul: other has shape " + ShapeString(b.sizes()) + ", whose rows (" +
                             std::to_string(inner) + ") do not match the columns of " + ShapeString(a.sizes()) + " (" +
                             std::to_string(a.size(-1)) + ")");
  }
  if (a.scalar_type() != b.scalar_type()) {
    ThrowTypeError(env, std::string("matmul: other is ") + DtypeName(b.scalar_type()) + " but self is " +
                            DtypeName(a.scalar_type()));
  }
  return TensorHandle::Wrap(env, at::matmul(a, b));
}

std::vector<int64_t> WrapDims(Napi::Env env, const std::vector<int64_t>& dims, int64_t rank) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < dims.size(); i++) out.push_back(WrapDim(env, dims[i], rank, "dim"));
  return out;
}

// reduce(op, self, dims?, keepdim): dims nullish reduces over everything.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  std::vector<int64_t> dims = WrapDims(env, ToDims(info[2], "dim"), self.dim());
  bool all = IsNullish(info[2]);
  bool keepdim = ToBool(info[3], "keepdim", false);
  at::OptionalIntArrayRef dimArg = all ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(dims);
  at::Tensor out;
  if (op == "sum") {
    out = at::sum(self, dimArg, keepdim);
  } else if (op == "mean") {
    CheckFloating(env, self, "mean");
    out = at::mean(self, dimArg, keepdim);
  } else if (op == "amax") {
    out = at::amax(self, all ? at::IntArrayRef() : at::IntArrayRef(dims), keepdim);
  } else if (op == "amin") {
    out = at::amin(self, all ? at::IntArrayRef() : at::IntArrayRef(dims), keepdim);
  } else if (op == "std" || op == "var") {
    CheckFloating(env, self, op);
    out = op == "std" ? at::std(self, dimArg, /*correction=*/1, keepdim) : at::var(self, dimArg, 1, keepdim);
  } else if (op == "prod" || op == "all" || op == "any" || op == "logsumexp") {
    if (dims.size() > 1) ThrowRangeError(env, "dim: " + op + " reduces over one dimension at a time");
    if (op == "logsumexp") {
      CheckFloating(env, self, op);
      out = all ? at::logsumexp(self.reshape({-1}), {0}, false) : at::logsumexp(self, dims, keepdim);
    } else if (all) {
      out = op == "prod" ? at::prod(self) : op == "all" ? at::all(self) : at::any(self);
    } else {
      out = op == "prod"  ? at::prod(self, dims[0], keepdim)
            : op == "all" ? at::all(self, dims[0], keepdim)
                          : at::any(self, dims[0], keepdim);
    }
  } else {
    ThrowRangeError(env, "op: unknown reduction '" + op + "'");
  }
  return TensorHandle::Wrap(env, out);
}

// extremum(op, self, dim, keepdim) -> [values, indices] for max / min along one dim.
Napi::Value Extremum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  int64_t dim = WrapDim(env, ToInt(info[2], "dim"), self.dim(), "dim");
  bool keepdim = ToBool(info[3], "keepdim", false);
  if (self.numel() == 0) ThrowRangeError(env, op + ": the tensor is empty");
  auto result = op == "max" ? at::max(self, dim, keepdim) : at::min(self, dim, keepdim);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, TensorHandle::Wrap(env, std::get<0>(result)));
  out.Set(1u, TensorHandle::Wrap(env, std::get<1>(result)));
  return out;
}

// argExtremum(op, self, dim?, keepdim) for argmax / argmin.
Napi::Value ArgExtremum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  std::optional<int64_t> dim = ToOptionalInt(info[2], "dim");
  if (dim) dim = WrapDim(env, *dim, self.dim(), "dim");
  bool keepdim = ToBool(info[3], "keepdim", false);
  if (self.numel() == 0) ThrowRangeError(env, op + ": the tensor is empty");
  return TensorHandle::Wrap(env, op == "argmax" ? at::argmax(self, dim, keepdim) : at::argmin(self, dim, keepdim));
}

// clamp(self, min?, max?)
Napi::Value Clamp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::optional<c10::Scalar> lo, hi;
  if (!IsNullish(info[1])) lo = ToScalar(info[1], "min");
  if (!IsNullish(info[2])) hi = ToScalar(info[2], "max");
  if (!lo && !hi) ThrowTypeError(env, "clamp: give at least one of min and max");
  return TensorHandle::Wrap(env, at::clamp(self, lo, hi));
}

// where(condition, a, b): a and b are Tensors or numbers.
Napi::Value Where(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& cond = TensorHandle::Arg(info[0], "condition");
  if (cond.scalar_type() != at::kBool) {
    ThrowTypeError(env, std::string("condition: expected a bool tensor, got ") + DtypeName(cond.scalar_type()));
  }
  at::Tensor a = ToTensorOrScalar(info[1], "input");
  at::Tensor b = ToTensorOrScalar(info[2], "other");
  CheckBroadcast(env, cond, a, "where", "input");
  CheckBroadcast(env, cond, b, "where", "other");
  return TensorHandle::Wrap(env, at::where(cond, a, b));
}

// inplace(op, self, other?, alpha?): add_, sub_, mul_, div_, copy_, fill_, zero_ on self's
// storage. Returns nothing: the TS method returns its own Tensor.
Napi::Value InPlace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  at::Tensor& self = TensorHandle::Arg(info[1], "self");
  if (op == "zero_") {
    self.zero_();
    return env.Undefined();
  }
  if (op == "fill_") {
    self.fill_(ToScalar(info[2], "value"));
    return env.Undefined();
  }
  at::Tensor other = ToTensorOrScalar(info[2], "other");
  // in-place results keep self's shape, so other must broadcast *to* it
  CheckBroadcast(env, self, other, op, "other");
  if (other.dim() > self.dim()) {
    ThrowRangeError(env, op + ": other has shape " + ShapeString(other.sizes()) + ", larger than self's " +
                             ShapeString(self.sizes()));
  }
  if (op == "add_")
    self.add_(other, IsNullish(info[3]) ? c10::Scalar(int64_t{1}) : ToScalar(info[3], "alpha"));
  else if (op == "sub_")
    self.sub_(other, IsNullish(info[3]) ? c10::Scalar(int64_t{1}) : ToScalar(info[3], "alpha"));
  else if (op == "mul_")
    self.mul_(other);
  else if (op == "div_")
    self.div_(other);
  else if (op == "copy_")
    self.copy_(other);
  else
    ThrowRangeError(env, "op: unknown in-place op '" + op + "'");
  return env.Undefined();
}

}  // namespace

void RegisterMath(Napi::Env env, Napi::Object exports) {
  Export<UnaryOp>(env, exports, "unary");
  Export<BinaryOp>(env, exports, "binary");
  Export<Add>(env, exports, "add");
  Export<Matmul>(env, exports, "matmul");
  Export<Reduce>(env, exports, "reduce");
  Export<OpNames>(env, exports, "opNames");
  Export<Extremum>(env, exports, "extremum");
  Export<ArgExtremum>(env, exports, "argExtremum");
  Export<Clamp>(env, exports, "clamp");
  Export<Where>(env, exports, "where");
  Export<InPlace>(env, exports, "inplace");
}

}  // namespace sd
