// Entry point of the slice-distill addon: registers the handle class and every binding.
#include <napi.h>

#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace {

Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "classes: expected an object");
  sd::RegisterErrorClasses(info.Env(), info[0].As<Napi::Object>());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sd::TensorHandle::Init(env, exports);
  sd::Export<SetErrorClasses>(env, exports, "setErrorClasses");
  sd::RegisterCreation(env, exports);
  sd::RegisterMath(env, exports);
  sd::RegisterShape(env, exports);
  sd::RegisterNN(env, exports);
  sd::RegisterAutograd(env, exports);
  sd::RegisterRuntime(env, exports);
  sd::RegisterModule(env, exports);
  sd::RegisterOptim(env, exports);
  sd::RegisterLosses(env, exports);
  sd::RegisterAsync(env, exports);
  sd::RegisterCheckpoint(env, exports);
  sd::RegisterProtoOps(env, exports);
  sd::RegisterDistributed(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(slice_distill, Init)
