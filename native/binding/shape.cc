// Views, reshapes, indexing, joining and reordering.
#include <ATen/ATen.h>
#include <ATen/TensorIndexing.h>

#include <algorithm>

#include "binding/convert.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

using at::indexing::Slice;
using at::indexing::TensorIndex;

Napi::Value Reshape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<int64_t> shape = ToIntList(info[1], "shape");
  int64_t known = 1, inferred = 0;
  for (int64_t s : shape) {
    if (s == -1)
      inferred++;
    else if (s < 0)
      ThrowRangeError(env, "shape: sizes must be >= 0 or a single -1, got " + ShapeString(shape));
    else
      known *= s;
  }
  bool fits = inferred > 1 ? false : inferred == 1 ? (known != 0 && self.numel() % known == 0) : known == self.numel();
  if (!fits) {
    ThrowRangeError(env, "shape: " + ShapeString(shape) + " is invalid for a tensor of shape " +
                             ShapeString(self.sizes()) + " (" + std::to_string(self.numel()) + " elements)");
  }
  return TensorHandle::Wrap(env, self.reshape(shape));
}

Napi::Value Permute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<int64_t> dims = ToIntList(info[1], "dims");
  if (static_cast<int64_t>(dims.size()) != self.dim()) {
    ThrowRangeError(env, "dims: " + ShapeString(dims) + " has " + std::to_string(dims.size()) +
                             " entries but the tensor has " + std::to_string(self.dim()) + " dimensions");
  }
  std::vector<bool> seen(dims.size(), false);
  for (auto& d : dims) {
    d = WrapDim(env, d, self.dim(), "dims");
    if (seen[d]) ThrowRangeError(env, "dims: " + ShapeString(dims) + " repeats dimension " + std::to_string(d));
    seen[d] = true;
  }
  return TensorHandle::Wrap(env, self.permute(dims));
}

Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  int64_t d0 = WrapDim(env, ToInt(info[1], "dim0"), self.dim(), "dim0");
  int64_t d1 = WrapDim(env, ToInt(info[2], "dim1"), self.dim(), "dim1");
  return TensorHandle::Wrap(env, self.transpose(d0, d1));
}

Napi::Value Narrow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  int64_t dim = WrapDim(env, ToInt(info[1], "dim"), self.dim(), "dim");
  int64_t start = ToInt(info[2], "start");
  int64_t length = ToInt(info[3], "length");
  int64_t size = self.size(dim);
  if (start < 0) start += size;
  if (start < 0 || length < 0 || start + length > size) {
    ThrowRangeError(env, "narrow: start " + std::to_string(start) + " and length " + std::to_string(length) +
                             " exceed dimension " + std::to_string(dim) + " of size " + std::to_string(size));
  }
  return TensorHandle::Wrap(env, self.narrow(dim, start, length));
}

Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  if (self.dim() == 0) ThrowRangeError(env, "select: a 0-d tensor has no dimension to select from");
  int64_t dim = WrapDim(env, ToInt(info[1], "dim"), self.dim(), "dim");
  int64_t index = ToInt(info[2], "index");
  int64_t size = self.size(dim);
  if (index < -size || index >= size) {
    ThrowRangeError(env, "index: " + std::to_string(index) + " is out of range for dimension " + std::to_string(dim) +
                             " of size " + std::to_string(size));
  }
  return TensorHandle::Wrap(env, self.select(dim, index));
}

Napi::Value Squeeze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  if (IsNullish(info[1])) return TensorHandle::Wrap(env, self.squeeze());
  return TensorHandle::Wrap(env, self.squeeze(WrapDim(env, ToInt(info[1], "dim"), self.dim(), "dim")));
}

Napi::Value Unsqueeze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  return TensorHandle::Wrap(env, self.unsqueeze(WrapDim(env, ToInt(info[1], "dim"), self.dim() + 1, "dim")));
}

Napi::Value Flatten(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  int64_t start = WrapDim(env, ToOptionalInt(info[1], "startDim").value_or(0), self.dim(), "startDim");
  int64_t end = WrapDim(env, ToOptionalInt(info[2], "endDim").value_or(-1), self.dim(), "endDim");
  if (start > end) ThrowRangeError(env, "startDim: must not come after endDim");
  return TensorHandle::Wrap(env, self.flatten(start, end));
}

Napi::Value Expand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<int64_t> shape = ToIntList(info[1], "shape");
  auto sizes = self.sizes();
  bool ok = shape.size() >= sizes.size();
  for (size_t i = 0; ok && i < sizes.size(); i++) {
    int64_t want = shape[shape.size() - 1 - i], have = sizes[sizes.size() - 1 - i];
    ok = want == -1 || want == have || have == 1;
  }
  if (!ok) ThrowRangeError(env, "shape: cannot expand " + ShapeString(sizes) + " to " + ShapeString(shape));
  return TensorHandle::Wrap(env, self.expand(shape));
}

// simple(op, self) for the argument-free copies and views.
Napi::Value Simple(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string op = ToString(info[0], "op");
  const at::Tensor& self = TensorHandle::Arg(info[1], "self");
  if (op == "contiguous") return TensorHandle::Wrap(env, self.contiguous());
  if (op == "clone") return TensorHandle::Wrap(env, self.clone());
  if (op == "detach") return TensorHandle::Wrap(env, self.detach());
  ThrowRangeError(env, "op: unknown op '" + op + "'");
}

Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  int64_t dim = WrapDim(env, ToInt(info[1], "dim"), self.dim(), "dim");
  const at::Tensor& index = TensorHandle::Arg(info[2], "index");
  if (index.scalar_type() != at::kLong && index.scalar_type() != at::kInt) {
    ThrowTypeError(env, std::string("index: expected an int64 or int32 tensor, got ") + DtypeName(index.scalar_type()));
  }
  return TensorHandle::Wrap(env, at::index_select(self, dim, index));
}

// An index spec entry: integer, null (new axis), "..." , ":" , {start, stop, step}, or a Tensor.
TensorIndex ToTensorIndex(Napi::Value v, const std::string& arg) {
  if (v.IsNull()) return TensorIndex(at::indexing::None);
  if (v.IsNumber() || v.IsBigInt()) return TensorIndex(ToInt(v, arg));
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "...") return TensorIndex(at::indexing::Ellipsis);
    if (s == ":") return TensorIndex(Slice());
    ThrowTypeError(v.Env(), arg + ": unknown index '" + s + "' (use '...' or ':')");
  }
  if (TensorHandle::IsHandle(v)) {
    const at::Tensor& t = TensorHandle::Arg(v, arg.c_str());
    auto st = t.scalar_type();
    if (st != at::kLong && st != at::kInt && st != at::kBool && st != at::kByte) {
      ThrowTypeError(v.Env(), arg + ": tensor indices must be integer or bool, got " + DtypeName(st));
    }
    return TensorIndex(t);
  }
  if (v.IsObject()) {
    Napi::Object o = v.As<Napi::Object>();
    auto start = ToOptionalInt(o.Get("start"), arg + ".start");
    auto stop = ToOptionalInt(o.Get("stop"), arg + ".stop");
    int64_t step = ToOptionalInt(o.Get("step"), arg + ".step").value_or(1);
    if (step <= 0) ThrowRangeError(v.Env(), arg + ".step: must be positive");
    return TensorIndex(Slice(start ? c10::SymInt(*start) : std::optional<c10::SymInt>(),
                             stop ? c10::SymInt(*stop) : std::optional<c10::SymInt>(), c10::SymInt(step)));
  }
  ThrowTypeError(v.Env(), arg + ": expected an integer, null, '...', ':', a slice object or a Tensor");
}

std::vector<TensorIndex> ToIndexSpec(Napi::Value value) {
  if (!value.IsArray()) ThrowTypeError(value.Env(), "indices: expected an array");
  Napi::Array a = value.As<Napi::Array>();
  std::vector<TensorIndex> out;
  for (uint32_t i = 0; i < a.Length(); i++)
    out.push_back(ToTensorIndex(a.Get(i), "indices[" + std::to_string(i) + "]"));
  return out;
}

// index(self, spec): Python-style indexing; an integer out of range is a RangeError.
Napi::Value Index(const Napi::CallbackInfo& info) {
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<TensorIndex> spec = ToIndexSpec(info[1]);
  try {
    return TensorHandle::Wrap(info.Env(), self.index(spec));
  } catch (const c10::IndexError& e) {
    ThrowRangeError(info.Env(), std::string("indices: ") + e.what_without_backtrace());
  }
}

// indexPut(self, spec, value): a copy of self with the indexed part set to value.
Napi::Value IndexPut(const Napi::CallbackInfo& info) {
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<TensorIndex> spec = ToIndexSpec(info[1]);
  at::Tensor value = ToTensorOrScalar(info[2], "value");
  at::Tensor out = self.clone();
  try {
    out.index_put_(spec, value);
  } catch (const c10::IndexError& e) {
    ThrowRangeError(info.Env(), std::string("indices: ") + e.what_without_backtrace());
  }
  return TensorHandle::Wrap(info.Env(), out);
}

void CheckJoinable(Napi::Env env, const std::vector<at::Tensor>& ts, int64_t skipDim, const std::string& op) {
  if (ts.empty()) ThrowRangeError(env, "tensors: " + op + " needs at least one tensor");
  for (size_t i = 1; i < ts.size(); i++) {
    bool same = ts[i].dim() == ts[0].dim();
    for (int64_t d = 0; same && d < ts[0].dim(); d++) same = d == skipDim || ts[i].size(d) == ts[0].size(d);
    if (!same) {
      ThrowRangeError(env, "tensors[" + std::to_string(i) + "]: shape " + ShapeString(ts[i].sizes()) +
                               " does not match tensors[0] " + ShapeString(ts[0].sizes()) + " for " + op);
    }
  }
}

Napi::Value Cat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<at::Tensor> ts = ToTensorList(info[0], "tensors");
  int64_t rank = ts.empty() ? 1 : ts[0].dim();
  int64_t dim = WrapDim(env, ToOptionalInt(info[1], "dim").value_or(0), rank, "dim");
  CheckJoinable(env, ts, dim, "cat");
  return TensorHandle::Wrap(env, at::cat(ts, dim));
}

Napi::Value Stack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<at::Tensor> ts = ToTensorList(info[0], "tensors");
  int64_t rank = ts.empty() ? 0 : ts[0].dim();
  int64_t dim = WrapDim(env, ToOptionalInt(info[1], "dim").value_or(0), rank + 1, "dim");
  CheckJoinable(env, ts, -1, "stack");
  return TensorHandle::Wrap(env, at::stack(ts, dim));
}

Napi::Value Flip(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  std::vector<int64_t> dims = ToDims(info[1], "dims");
  for (auto& d : dims) d = WrapDim(env, d, self.dim(), "dims");
  return TensorHandle::Wrap(env, at::flip(self, dims));
}

Napi::Value Rot90(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& self = TensorHandle::Arg(info[0], "self");
  int64_t k = ToOptionalInt(info[1], "k").value_or(1);
  std::vector<int64_t> dims = IsNullish(info[2]) ? std::vector<int64_t>{0, 1} : ToIntList(info[2], "dims");
  if (dims.size() != 2) ThrowRangeError(env, "dims: rot90 needs exactly two dimensions");
  for (auto& d : dims) d = WrapDim(env, d, self.dim(), "dims");
  if (dims[0] == dims[1]) ThrowRangeError(env, "dims: rot90 needs two different dimensions");
  return TensorHandle::Wrap(env, at::rot90(self, k, dims));
}

}  // namespace

void RegisterShape(Napi::Env env, Napi::Object exports) {
  Export<Reshape>(env, exports, "reshape");
  Export<Permute>(env, exports, "permute");
  Export<Transpose>(env, exports, "transpose");
  Export<Narrow>(env, exports, "narrow");
  Export<Select>(env, exports, "select");
  Export<Squeeze>(env, exports, "squeeze");
  Export<Unsqueeze>(env, exports, "unsqueeze");
  Export<Flatten>(env, exports, "flatten");
  Export<Expand>(env, exports, "expand");
  Export<Simple>(env, exports, "simple");
  Export<IndexSelect>(env, exports, "indexSelect");
  Export<Index>(env, exports, "index");
  Export<IndexPut>(env, exports, "indexPut");
  Export<Cat>(env, exports, "cat");
  Export<Stack>(env, exports, "stack");
  Export<Flip>(env, exports, "flip");
  Export<Rot90>(env, exports, "rot90");
}

}  // namespace sd
