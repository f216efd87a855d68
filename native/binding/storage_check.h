// Loaded tensors whose storage is shorter than their sizes and strides reach: LibTorch loads
// a cut-short record without complaint and later reads past its buffer (heap garbage as
// weights), so every tensor that comes from a file is checked once, right after loading.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>

#include <string>

#include "binding/errors.h"

namespace sd {

// Bytes a strided view needs from the start of its storage (0 for an empty tensor).
inline uint64_t BytesReached(const at::Tensor& t) {
  if (t.numel() == 0) return 0;
  uint64_t last = static_cast<uint64_t>(t.storage_offset());
  for (int64_t d = 0; d < t.dim(); d++) {
    if (t.stride(d) < 0) return UINT64_MAX;  // never produced by a save; refuse
    last += static_cast<uint64_t>(t.size(d) - 1) * static_cast<uint64_t>(t.stride(d));
  }
  return (last + 1) * static_cast<uint64_t>(t.element_size());
}

inline void CheckStorage(const at::Tensor& t, const std::string& kind, const std::string& what) {
  if (!t.defined() || !t.has_storage()) return;
  const uint64_t have = t.storage().nbytes(), need = BytesReached(t);
  if (need > have) {
    throw KindError(kind, what + ": its storage holds " + std::to_string(have) + " bytes, its shape needs " +
                              std::to_string(need) + " (a truncated or corrupt file)");
  }
}

// Every parameter, buffer and tensor attribute of a module and its submodules.
inline void CheckModuleStorage(const torch::jit::Module& module, const std::string& kind, const std::string& where) {
  for (const auto& p : module.named_parameters(true)) CheckStorage(p.value, kind, where + ": parameter '" + p.name + "'");
  for (const auto& b : module.named_buffers(true)) CheckStorage(b.value, kind, where + ": buffer '" + b.name + "'");
  for (const auto& a : module.named_attributes(true)) {
    if (a.value.isTensor()) CheckStorage(a.value.toTensor(), kind, where + ": attribute '" + a.name + "'");
  }
}

}  // namespace sd
