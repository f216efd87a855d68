#include "binding/module.h"
#include "binding/storage_check.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/ivalue.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

Napi::FunctionReference* constructor = nullptr;

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// loadModule(path, device?, extraFileNames?) -> ModuleHandle
Napi::Value LoadModule(const Napi::CallbackInfo& info) {
  std::string path = ToString(info[0], "path");
  auto device = ToOptionalDevice(info[1], "device");
  auto extra = ExtraFileNames(info[2]);
  auto module = ModuleHandle::Load(path, device, extra);
  return ModuleHandle::Wrap(info.Env(), std::move(module), std::move(extra));
}

}  // namespace

std::unordered_map<std::string, std::string> ExtraFileNames(Napi::Value names) {
  std::unordered_map<std::string, std::string> extra;
  if (IsNullish(names)) return extra;
  if (!names.IsArray()) ThrowTypeError(names.Env(), "extraFiles: expected an array of names");
  Napi::Array list = names.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) extra[ToString(list.Get(i), "extraFiles")] = "";
  return extra;
}

void ModuleHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls =
      DefineClass(env, "ModuleHandle",
                  {
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::Call>>("call"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::Train>>("train"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::IsTraining>>("isTraining"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::NamedParameters>>("namedParameters"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::NamedBuffers>>("namedBuffers"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::LoadStateDict>>("loadStateDict"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::To>>("to"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::Save>>("save"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::Freeze>>("freeze"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::MethodNames>>("methodNames"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::FrozenModeModules>>("frozenModeModules"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::ExtraFiles>>("extraFiles"),
                      InstanceMethod<&ModuleHandle::Guarded<&ModuleHandle::Dispose>>("dispose"),
                  });
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("ModuleHandle", cls);
  Export<LoadModule>(env, exports, "loadModule");
}

std::shared_ptr<torch::jit::Module> ModuleHandle::Load(const std::string& path,
                                                       const std::optional<c10::Device>& device,
                                                       std::unordered_map<std::string, std::string>& extra) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw KindError("LoadError", "cannot load a TorchScript module: " + path + " does not exist or is not a file");
  }
  try {
    auto module = std::make_shared<torch::jit::Module>(torch::jit::load(path, device, extra));
    CheckModuleStorage(*module, "LoadError", path);
    CheckRecordSizes(caffe2::serialize::PyTorchStreamReader(path), ModuleTensors(*module), "LoadError", path);
    return module;
  } catch (const c10::Error& e) {
    throw KindError("LoadError",
                    path + " is not a readable TorchScript module (" + FirstLine(e.what_without_backtrace()) + ")");
  } catch (const KindError&) {
    throw;
  } catch (const std::exception& e) {
    // code that fails to compile is a torch::jit::ErrorReport, not a c10::Error
    throw KindError("LoadError", path + " is not a loadable TorchScript module (" + FirstLine(e.what()) + ")");
  }
}

Napi::Object ModuleHandle::Wrap(Napi::Env env, std::shared_ptr<torch::jit::Module> module,
                                std::unordered_map<std::string, std::string> extra) {
  Napi::Object obj = constructor->New({});
  ModuleHandle* self = Napi::ObjectWrap<ModuleHandle>::Unwrap(obj);
  self->module_ = std::move(module);
  self->extra_ = std::move(extra);
  return obj;
}

ModuleHandle* ModuleHandle::Get(Napi::Value value, const char* arg) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor->Value())) {
    ThrowTypeError(value.Env(), std::string(arg) + ": expected a ScriptModule");
  }
  return Napi::ObjectWrap<ModuleHandle>::Unwrap(value.As<Napi::Object>());
}

ModuleHandle::ModuleHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModuleHandle>(info) {}

void ModuleHandle::CheckLive(Napi::Env env) const {
  if (disposed_) ThrowObjectDisposed(env, "module: disposed and cannot be used");
  if (!module_) throw MakeTorchError(env, "module: not loaded", "Error");
}

void ModuleHandle::CheckIdle(Napi::Env env) const {
  CheckLive(env);
  if (busy_) {
    throw MakeTorchError(env, "module: busy with an async call (forwardAsync / trainStep); await it first",
                         "BusyError");
  }
}

std::vector<c10::IValue> ModuleHandle::ConvertArgs(Napi::Env env, const std::string& method, Napi::Value args) const {
  auto found = module_->find_method(method);
  if (!found) ThrowRangeError(env, "method: the module has no method '" + method + "'");
  const auto& schema = found->function().getSchema();
  const auto& params = schema.arguments();  // params[0] is self
  if (!args.IsArray()) ThrowTypeError(env, "inputs: expected an array");
  Napi::Array a = args.As<Napi::Array>();
  size_t given = a.Length(), most = params.size() - 1, least = 0;
  for (size_t i = 1; i < params.size(); i++) {
    if (!params[i].default_value()) least = i;
  }
  if (given < least || given > most) {
    std::string expected;
    for (size_t i = 1; i < params.size(); i++) {
      expected += (i > 1 ? ", " : "") + params[i].name() + ": " + params[i].type()->annotation_str();
    }
    ThrowRangeError(env,
                    method + ": expects " +
                        (least == most ? std::to_string(most) : std::to_string(least) + " to " + std::to_string(most)) +
                        " inputs (" + expected + "), got " + std::to_string(given));
  }
  std::vector<c10::IValue> out;
  for (size_t i = 0; i < given; i++) {
    out.push_back(ToIValue(a.Get(static_cast<uint32_t>(i)), params[i + 1].type(),
                           method + " input " + std::to_string(i) + " (" + params[i + 1].name() + ")"));
  }
  return out;
}

// call(method, inputs[]) -> the converted result. Runs in the JS thread's grad mode.
Napi::Value ModuleHandle::Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env);
  const auto module = module_;  // held: converting the inputs runs JS, which could dispose the handle
  std::string method = ToString(info[0], "method");
  std::vector<c10::IValue> args = ConvertArgs(env, method, info[1]);
  c10::IValue out = module->get_method(method)(std::move(args));
  return FromIValue(env, out);
}

Napi::Value ModuleHandle::Train(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  module_->train(ToBool(info[0], "on", true));
  return info.Env().Undefined();
}

Napi::Value ModuleHandle::IsTraining(const Napi::CallbackInfo& info) {
  CheckLive(info.Env());
  return Napi::Boolean::New(info.Env(), module_->is_training());
}

template <typename List>
Napi::Value NamedTensors(Napi::Env env, const List& list) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& item : list) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, item.name));
    pair.Set(1u, TensorHandle::Wrap(env, item.value));
    out.Set(i++, pair);
  }
  return out;
}

Napi::Value ModuleHandle::NamedParameters(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  return NamedTensors(info.Env(), module_->named_parameters(true));
}

Napi::Value ModuleHandle::NamedBuffers(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  return NamedTensors(info.Env(), module_->named_buffers(true));
}

// loadStateDict({name: Tensor}, strict) -> {missing[], unexpected[]}; copies values in
// place (no autograd), checking shapes. Strict mode refuses any missing / unexpected key.
Napi::Value ModuleHandle::LoadStateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env);
  if (!info[0].IsObject()) ThrowTypeError(env, "stateDict: expected an object of tensors");
  Napi::Object dict = info[0].As<Napi::Object>();
  bool strict = ToBool(info[1], "strict", true);
  std::unordered_map<std::string, at::Tensor> targets;
  for (const auto& p : module_->named_parameters(true)) targets[p.name] = p.value;
  for (const auto& b : module_->named_buffers(true)) targets[b.name] = b.value;
  Napi::Array keys = dict.GetPropertyNames();
  std::vector<std::string> unexpected, missing;
  std::unordered_map<std::string, at::Tensor> given;
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string k = keys.Get(i).ToString().Utf8Value();
    if (!targets.count(k)) {
      unexpected.push_back(k);
      continue;
    }
    const at::Tensor& v = TensorHandle::Arg(dict.Get(k), ("stateDict." + k).c_str());
    if (!v.sizes().equals(targets[k].sizes())) {
      ThrowRangeError(env, "stateDict." + k + ": shape " + ShapeString(v.sizes()) + " does not match the module's " +
                               ShapeString(targets[k].sizes()));
    }
    given[k] = v;
  }
  for (const auto& [name, _] : targets) {
    if (!given.count(name)) missing.push_back(name);
  }
  std::sort(missing.begin(), missing.end());
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::string msg = "stateDict: does not match the module (strict)";
    if (!missing.empty()) msg += "; missing: " + c10::Join(", ", missing);
    if (!unexpected.empty()) msg += "; unexpected: " + c10::Join(", ", unexpected);
    ThrowRangeError(env, msg);
  }
  {
    c10::NoGradGuard guard;
    for (auto& [name, value] : given) targets[name].copy_(value);
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Array m = Napi::Array::New(env, missing.size()), u = Napi::Array::New(env, unexpected.size());
  for (size_t i = 0; i < missing.size(); i++) m.Set(static_cast<uint32_t>(i), missing[i]);
  for (size_t i = 0; i < unexpected.size(); i++) u.Set(static_cast<uint32_t>(i), unexpected[i]);
  out.Set("missing", m);
  out.Set("unexpected", u);
  return out;
}

Napi::Value ModuleHandle::To(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  auto device = ToOptionalDevice(info[0], "device");
  auto dtype = ToOptionalDtype(info[1], "dtype");
  if (dtype && !at::isFloatingType(*dtype))
    ThrowTypeError(info.Env(), "dtype: a module converts to floating-point dtypes only");
  if (device && dtype)
    module_->to(*device, *dtype);
  else if (device)
    module_->to(*device);
  else if (dtype)
    module_->to(*dtype);
  return info.Env().Undefined();
}

// save(path): TorchScript archive with the extra files the module was loaded with.
Napi::Value ModuleHandle::Save(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  module_->save(ToString(info[0], "path"), extra_);
  return info.Env().Undefined();
}

Napi::Value ModuleHandle::Freeze(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  for (auto p : module_->parameters(true)) p.set_requires_grad(false);
  return info.Env().Undefined();
}

Napi::Value ModuleHandle::MethodNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckLive(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& m : module_->get_methods()) out.Set(i++, m.name());
  return out;
}

// Submodules whose mode cannot change: Dropout layers, and BatchNorm / InstanceNorm layers
// with running statistics, whose forward never reads `self.training`, as torch.jit.trace
// leaves them.
Napi::Value ModuleHandle::FrozenModeModules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckLive(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& item : module_->named_modules()) {
    auto type = item.value.type()->name();
    if (!type) continue;
    std::string name = type->qualifiedName();
    const bool norm = name.find("BatchNorm") != std::string::npos || name.find("InstanceNorm") != std::string::npos;
    const bool dropout = name.find("Dropout") != std::string::npos;
    // a norm layer without running statistics uses batch statistics in both modes: not modal
    const bool modal =
        dropout || (norm && item.value.hasattr("running_mean") && item.value.attr("running_mean").isTensor());
    auto forward = item.value.find_method("forward");
    if (!modal || !forward) continue;
    std::string graph = forward->graph()->toString();
    if (graph.find("name=\"training\"") == std::string::npos) out.Set(i++, item.name.empty() ? "(root)" : item.name);
  }
  return out;
}

Napi::Value ModuleHandle::ExtraFiles(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  for (const auto& [k, v] : extra_) {
    if (!v.empty()) out.Set(k, v);
  }
  return out;
}

void RegisterModule(Napi::Env env, Napi::Object exports) { ModuleHandle::Init(env, exports); }

// dispose(): frees the module now (idempotent); refused while an async call holds it. Tensors
// taken from it (parameters, buffers) stay valid: they share its storages.
Napi::Value ModuleHandle::Dispose(const Napi::CallbackInfo& info) {
  if (disposed_) return info.Env().Undefined();
  CheckIdle(info.Env());
  module_.reset();
  extra_.clear();
  disposed_ = true;
  return info.Env().Undefined();
}

}  // namespace sd
