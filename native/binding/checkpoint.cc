// The native half of checkpoints: tensors and text to and from PyTorch's pickle format
// (readable by torch.load), modules to and from bytes, and the random generators' state.
// The TypeScript half writes the bytes to disk atomically.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <sstream>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/module.h"
#include "binding/storage_check.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

Napi::Buffer<char> ToBuffer(Napi::Env env, const std::string& bytes) {
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

std::string FromBuffer(Napi::Value value, const char* arg) {
  if (!value.IsBuffer()) ThrowTypeError(value.Env(), std::string(arg) + ": expected a Buffer");
  auto b = value.As<Napi::Buffer<char>>();
  return std::string(b.Data(), b.Length());
}

// pickleSave(format, meta, {name: Tensor}) -> Buffer holding the tuple (format, meta, tensors)
Napi::Value PickleSave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string format = ToString(info[0], "format"), meta = ToString(info[1], "meta");
  if (!info[2].IsObject()) ThrowTypeError(env, "tensors: expected an object of tensors");
  Napi::Object tensors = info[2].As<Napi::Object>();
  c10::Dict<std::string, at::Tensor> dict;
  Napi::Array keys = tensors.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string k = keys.Get(i).ToString().Utf8Value();
    // saved from the CPU so that a checkpoint loads on any machine
    dict.insert(k, TensorHandle::Arg(tensors.Get(k), ("tensors." + k).c_str()).detach().cpu());
  }
  std::vector<char> bytes = torch::jit::pickle_save(c10::ivalue::Tuple::create({format, meta, dict}));
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

// pickleLoad(buffer) -> {format, meta, tensors}; KindError("CheckpointError") where unreadable.
Napi::Value PickleLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string raw = FromBuffer(info[0], "buffer");
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(std::vector<char>(raw.begin(), raw.end()));
  } catch (const c10::Error& e) {
    std::string m = e.what_without_backtrace();
    throw KindError("CheckpointError", "not a readable checkpoint (" + m.substr(0, m.find('\n')) + ")");
  }
  auto fail = [] {
    throw KindError("CheckpointError", "not a slice-distill checkpoint (a PyTorch pickle of another layout)");
  };
  if (!value.isTuple()) fail();
  const auto& items = value.toTupleRef().elements();
  if (items.size() != 3 || !items[0].isString() || !items[1].isString() || !items[2].isGenericDict()) fail();
  Napi::Object out = Napi::Object::New(env);
  out.Set("format", items[0].toStringRef());
  out.Set("meta", items[1].toStringRef());
  Napi::Object tensors = Napi::Object::New(env);
  for (const auto& item : items[2].toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) fail();
    CheckStorage(item.value().toTensor(), "CheckpointError", "tensor '" + item.key().toStringRef() + "'");
    tensors.Set(item.key().toStringRef(), TensorHandle::Wrap(env, item.value().toTensor()));
  }
  std::vector<at::Tensor> all;
  for (const auto& item : items[2].toGenericDict()) all.push_back(item.value().toTensor());
  CheckRecordSizes(caffe2::serialize::PyTorchStreamReader(std::make_shared<StringReadAdapter>(raw)), all,
                   "CheckpointError", "the checkpoint's tensors");
  out.Set("tensors", tensors);
  return out;
}

// moduleToBuffer(module) -> Buffer (a TorchScript archive, with the module's extra files)
Napi::Value ModuleToBuffer(const Napi::CallbackInfo& info) {
  ModuleHandle* handle = ModuleHandle::Get(info[0], "module");
  handle->CheckIdle(info.Env());
  std::ostringstream os;
  handle->module()->save(os, handle->extraFiles());
  return ToBuffer(info.Env(), os.str());
}

// moduleFromBuffer(buffer, device?, extraFileNames?) -> ModuleHandle
Napi::Value ModuleFromBuffer(const Napi::CallbackInfo& info) {
  const std::string raw = FromBuffer(info[0], "buffer");
  std::istringstream is(raw);
  auto device = ToOptionalDevice(info[1], "device");
  auto extra = ExtraFileNames(info[2]);
  std::shared_ptr<torch::jit::Module> module;
  try {
    module = std::make_shared<torch::jit::Module>(torch::jit::load(is, device, extra));
    CheckModuleStorage(*module, "CheckpointError", "the checkpoint's module");
    CheckRecordSizes(caffe2::serialize::PyTorchStreamReader(std::make_shared<StringReadAdapter>(raw)),
                     ModuleTensors(*module), "CheckpointError", "the checkpoint's module");
  } catch (const c10::Error& e) {
    std::string m = e.what_without_backtrace();
    throw KindError("CheckpointError", "the checkpoint's module is unreadable (" + m.substr(0, m.find('\n')) + ")");
  } catch (const KindError&) {
    throw;
  } catch (const std::exception& e) {
    std::string m = e.what();
    throw KindError("CheckpointError", "the checkpoint's module is unreadable (" + m.substr(0, m.find('\n')) + ")");
  }
  return ModuleHandle::Wrap(info.Env(), std::move(module), std::move(extra));
}

// rngState() -> {cpu: uint8 Tensor, cuda: uint8 Tensor[]}
Napi::Value RngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& ctx = at::globalContext();
  Napi::Object out = Napi::Object::New(env);
  out.Set("cpu", TensorHandle::Wrap(env, ctx.defaultGenerator(c10::Device(c10::kCPU)).get_state()));
  Napi::Array cuda = Napi::Array::New(env);
  if (ctx.hasCUDA()) {
    for (c10::DeviceIndex i = 0; i < static_cast<c10::DeviceIndex>(at::detail::getCUDAHooks().deviceCount()); i++) {
      cuda.Set(static_cast<uint32_t>(i),
               TensorHandle::Wrap(env, ctx.defaultGenerator(c10::Device(c10::kCUDA, i)).get_state()));
    }
  }
  out.Set("cuda", cuda);
  return out;
}

// setRngState({cpu, cuda?})
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "state: expected {cpu, cuda}");
  Napi::Object o = info[0].As<Napi::Object>();
  auto& ctx = at::globalContext();
  const at::Tensor& cpu = TensorHandle::Arg(o.Get("cpu"), "state.cpu");
  {
    auto gen = ctx.defaultGenerator(c10::Device(c10::kCPU));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(cpu);
  }
  auto cuda = ToTensorList(IsNullish(o.Get("cuda")) ? Napi::Array::New(env) : o.Get("cuda"), "state.cuda");
  if (ctx.hasCUDA()) {
    for (size_t i = 0; i < cuda.size() && i < at::detail::getCUDAHooks().deviceCount(); i++) {
      auto gen = ctx.defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(cuda[i]);
    }
  }
  return env.Undefined();
}

}  // namespace

void RegisterCheckpoint(Napi::Env env, Napi::Object exports) {
  Export<PickleSave>(env, exports, "pickleSave");
  Export<PickleLoad>(env, exports, "pickleLoad");
  Export<ModuleToBuffer>(env, exports, "moduleToBuffer");
  Export<ModuleFromBuffer>(env, exports, "moduleFromBuffer");
  Export<RngState>(env, exports, "rngState");
  Export<SetRngState>(env, exports, "setRngState");
}

}  // namespace sd
