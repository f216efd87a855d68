#include "binding/tensor_handle.h"

#include <mutex>
#include <unordered_map>

#include "binding/errors.h"

namespace sd {
namespace {

// Storages kept alive by live handles: how many handles share each, and its size as
// counted when the first handle arrived (so removal subtracts exactly what was added).
struct Registry {
  std::mutex mutex;
  int64_t tensors = 0;
  int64_t bytes = 0;
  std::unordered_map<const void*, std::pair<int64_t, int64_t>> storages;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: finalizers may run at exit
  return *r;
}

Napi::FunctionReference* constructor = nullptr;

}  // namespace

void TensorHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "TensorHandle",
                                   {
                                       InstanceMethod<&TensorHandle::Dispose>("dispose"),
                                       InstanceMethod<&TensorHandle::IsDisposed>("isDisposed"),
                                   });
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("TensorHandle", cls);
}

Napi::Object TensorHandle::Wrap(Napi::Env env, at::Tensor tensor) {
  Napi::Object obj = constructor->New({Napi::External<at::Tensor>::New(env, &tensor)});
  return obj;
}

Napi::Value TensorHandle::WrapOrNull(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  return Wrap(env, std::move(tensor));
}

bool TensorHandle::IsHandle(Napi::Value value) {
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(constructor->Value());
}

at::Tensor& TensorHandle::Arg(Napi::Value value, const char* arg) {
  if (!IsHandle(value)) ThrowTypeError(value.Env(), std::string(arg) + ": expected a Tensor");
  TensorHandle* handle = Napi::ObjectWrap<TensorHandle>::Unwrap(value.As<Napi::Object>());
  if (!handle->tensor_.defined()) {
    ThrowDisposed(value.Env(), std::string(arg) + ": the tensor was disposed and cannot be used");
  }
  return handle->tensor_;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "TensorHandle cannot be constructed from JavaScript");
  }
  tensor_ = std::move(*info[0].As<Napi::External<at::Tensor>>().Data());
  env_ = info.Env();
  int64_t added = 0;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.tensors++;
    if (tensor_.has_storage()) {
      storageKey_ = tensor_.storage().unsafeGetStorageImpl();
      auto& entry = r.storages[storageKey_];
      if (entry.first++ == 0) {
        entry.second = static_cast<int64_t>(tensor_.storage().nbytes());
        r.bytes += entry.second;
        added = entry.second;
      }
    }
  }
  if (added > 0) {
    reportedBytes_ = added;
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), added);
  }
}

TensorHandle::~TensorHandle() { Release(); }

void TensorHandle::Release() {
  if (!tensor_.defined()) return;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.tensors--;
    if (storageKey_ != nullptr) {
      auto it = r.storages.find(storageKey_);
      if (it != r.storages.end() && --it->second.first == 0) {
        r.bytes -= it->second.second;
        r.storages.erase(it);
      }
    }
  }
  tensor_.reset();
  storageKey_ = nullptr;
  // The bytes are handed back by the handle that reported them; a storage shared with
  // other handles may outlive it, which only makes V8's estimate briefly low.
  if (reportedBytes_ > 0 && env_ != nullptr) {
    napi_adjust_external_memory(env_, -reportedBytes_, nullptr);
    reportedBytes_ = 0;
  }
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value TensorHandle::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !tensor_.defined());
}

MemoryStats TensorHandle::Stats() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return {r.tensors, static_cast<int64_t>(r.storages.size()), r.bytes};
}

}  // namespace sd
