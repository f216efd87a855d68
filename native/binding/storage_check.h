// Loaded tensors whose storage is shorter than their sizes and strides reach: LibTorch loads
// a cut-short record without complaint and later reads past its buffer (heap garbage as
// weights), so every tensor that comes from a file is checked once, right after loading.
#pragma once
#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>

#include <caffe2/serialize/inline_container.h>
#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

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
  for (const auto& p : module.named_parameters(true))
    CheckStorage(p.value, kind, where + ": parameter '" + p.name + "'");
  for (const auto& b : module.named_buffers(true)) CheckStorage(b.value, kind, where + ": buffer '" + b.name + "'");
  for (const auto& a : module.named_attributes(true)) {
    if (a.value.isTensor()) CheckStorage(a.value.toTensor(), kind, where + ": attribute '" + a.name + "'");
  }
}

// An archive in memory, read in place (no copy) for its record sizes.
class StringReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit StringReadAdapter(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

// LibTorch sizes a loaded storage from the archive's data.pkl and fills it from the record
// ("data/K"), so a record cut short inside an otherwise intact zip gives a storage whose tail
// was never read. The tensors' storages and the records are matched by size, largest with
// largest: every storage must fit a record of its own (exact where, as in every saved file,
// each record holds one of these storages).
inline void CheckRecordSizes(caffe2::serialize::PyTorchStreamReader&& reader, const std::vector<at::Tensor>& tensors,
                             const std::string& kind, const std::string& where) {
  std::vector<uint64_t> records;
  for (const auto& name : reader.getAllRecords()) {
    if (name.rfind("data/", 0) == 0) records.push_back(reader.getRecordSize(name));
  }
  std::vector<uint64_t> storages;
  std::unordered_set<const void*> seen;
  for (const auto& t : tensors) {
    if (!t.defined() || !t.has_storage() || t.storage().nbytes() == 0) continue;
    if (seen.insert(t.storage().unsafeGetStorageImpl()).second) storages.push_back(t.storage().nbytes());
  }
  std::sort(records.begin(), records.end(), std::greater<>());
  std::sort(storages.begin(), storages.end(), std::greater<>());
  for (size_t i = 0; i < storages.size(); i++) {
    const uint64_t have = i < records.size() ? records[i] : 0;
    if (storages[i] > have) {
      throw KindError(kind, where + ": a tensor record of the file holds " + std::to_string(have) +
                                " bytes where its tensor needs " + std::to_string(storages[i]) +
                                " (a truncated or corrupt file)");
    }
  }
}

// Every tensor a module holds: parameters, buffers, tensor attributes.
inline std::vector<at::Tensor> ModuleTensors(const torch::jit::Module& module) {
  std::vector<at::Tensor> out;
  for (const auto& p : module.parameters(true)) out.push_back(p);
  for (const auto& b : module.buffers(true)) out.push_back(b);
  for (const auto& a : module.named_attributes(true)) {
    if (a.value.isTensor()) out.push_back(a.value.toTensor());
  }
  return out;
}

}  // namespace sd
