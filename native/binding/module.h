// The JS-visible handle of a TorchScript module (torch::jit::Module).
#pragma once
#include <napi.h>
#include <torch/csrc/jit/api/module.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "binding/errors.h"

namespace sd {

// The extra files to read from an archive: a JS array of names (or nullish), as map keys.
std::unordered_map<std::string, std::string> ExtraFileNames(Napi::Value names);

class ModuleHandle : public Napi::ObjectWrap<ModuleHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Loads a module file; throws KindError("LoadError") with a clear message on failure.
  // Safe on any thread. `extra` holds the names of extra files to read (filled in place).
  static std::shared_ptr<torch::jit::Module> Load(const std::string& path, const std::optional<c10::Device>& device,
                                                  std::unordered_map<std::string, std::string>& extra);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<torch::jit::Module> module,
                           std::unordered_map<std::string, std::string> extra);
  static ModuleHandle* Get(Napi::Value value, const char* arg);

  explicit ModuleHandle(const Napi::CallbackInfo& info);

  const std::shared_ptr<torch::jit::Module>& module() const { return module_; }
  // An async call holds the module; sync calls refuse to touch it meanwhile.
  const std::unordered_map<std::string, std::string>& extraFiles() const { return extra_; }
  void SetBusy(bool busy) { busy_ = busy; }
  // Throws where the module was disposed (or never loaded).
  void CheckLive(Napi::Env env) const;
  // CheckLive, and a BusyError while an async call holds the module.
  void CheckIdle(Napi::Env env) const;
  // The arguments of `method` converted by its schema; RangeError on a wrong count.
  std::vector<c10::IValue> ConvertArgs(Napi::Env env, const std::string& method, Napi::Value args) const;

  SD_GUARDED_METHODS(ModuleHandle)

 private:
  Napi::Value Call(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value IsTraining(const Napi::CallbackInfo& info);
  Napi::Value NamedParameters(const Napi::CallbackInfo& info);
  Napi::Value NamedBuffers(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Freeze(const Napi::CallbackInfo& info);
  Napi::Value MethodNames(const Napi::CallbackInfo& info);
  Napi::Value FrozenModeModules(const Napi::CallbackInfo& info);
  Napi::Value ExtraFiles(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<torch::jit::Module> module_;
  std::unordered_map<std::string, std::string> extra_;
  bool busy_ = false, disposed_ = false;
};

}  // namespace sd
