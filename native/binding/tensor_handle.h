// The JS-visible handle that owns exactly one at::Tensor.
//
// The TypeScript Tensor class holds one of these. dispose() releases the at::Tensor at
// once; otherwise the GC finalizer does. Live handles and the bytes of the storages they
// keep alive are counted (each storage once) and reported to V8 as external memory, so
// that forgotten tensors put pressure on the garbage collector.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

#include <cstdint>

namespace sd {

struct MemoryStats {
  int64_t tensors;
  int64_t storages;
  int64_t bytes;
};

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // A new handle that owns `tensor` (which must be defined).
  static Napi::Object Wrap(Napi::Env env, at::Tensor tensor);
  // Wraps `tensor`, or returns null where it is undefined (e.g. a missing .grad).
  static Napi::Value WrapOrNull(Napi::Env env, at::Tensor tensor);
  static bool IsHandle(Napi::Value value);
  // The tensor behind a handle argument; TypeError if `value` is not a handle,
  // TensorDisposedError if it was disposed. `arg` names the argument in messages.
  static at::Tensor& Arg(Napi::Value value, const char* arg);
  static MemoryStats Stats();

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  void Release();

  at::Tensor tensor_;
  const void* storageKey_ = nullptr;
  int64_t reportedBytes_ = 0;
  napi_env env_ = nullptr;
};

}  // namespace sd
