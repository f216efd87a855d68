// Work off the JS thread: module loading, forward and the training step run on libuv's
// thread pool (CPU work on the compute thread, compute_thread.cc) and settle a Promise. The
// TypeScript layer queues calls per device, so one module never runs two of these at once;
// the busy flags make sync calls refuse meanwhile.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <functional>
#include <optional>

#include "binding/compute_thread.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/ivalue.h"
#include "binding/module.h"
#include "binding/optim.h"
#include "binding/promise_worker.h"
#include "binding/tensor_handle.h"
#include "binding/train_step.h"

namespace sd {
namespace {

// Whether any tensor among the arguments (or in a list of them) lives on a GPU.
bool OnCuda(const std::vector<c10::IValue>& args) {
  for (const auto& v : args) {
    if (v.isTensor() && v.toTensor().is_cuda()) return true;
    if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorList().vec()) {
        if (t.is_cuda()) return true;
      }
    }
  }
  return false;
}

// loadModuleAsync(path, device?, extraFileNames?) -> Promise<ModuleHandle>
Napi::Value LoadModuleAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto path = std::make_shared<std::string>(ToString(info[0], "path"));
  auto device = ToOptionalDevice(info[1], "device");
  auto extra = std::make_shared<std::unordered_map<std::string, std::string>>(ExtraFileNames(info[2]));
  auto loaded = std::make_shared<std::shared_ptr<torch::jit::Module>>();
  auto* worker = new PromiseWorker(
      env, [=] { *loaded = ModuleHandle::Load(*path, device, *extra); },
      [=](Napi::Env e) -> Napi::Value { return ModuleHandle::Wrap(e, *loaded, *extra); }, nullptr,
      !(device && device->is_cuda()));
  return Queue(worker);
}

// forwardAsync(module, method, inputs[], mode: 'inference' | 'noGrad' | 'grad' (required)) -> Promise<result>
Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModuleHandle* handle = ModuleHandle::Get(info[0], "module");
  handle->CheckIdle(env);
  std::string method = ToString(info[1], "method");
  auto args = std::make_shared<std::vector<c10::IValue>>(handle->ConvertArgs(env, method, info[2]));
  std::string mode = ToString(info[3], "mode");
  if (mode != "inference" && mode != "noGrad" && mode != "grad") {
    ThrowRangeError(env, "mode: expected 'inference', 'noGrad' or 'grad', got '" + mode + "'");
  }
  auto module = handle->module();
  auto result = std::make_shared<c10::IValue>();
  auto* worker = new PromiseWorker(
      env,
      [=] {
        // grad mode is thread-local: set it here, on the worker thread
        std::optional<c10::InferenceMode> inference;
        std::optional<c10::AutoGradMode> grad;
        if (mode == "inference")
          inference.emplace();
        else
          grad.emplace(mode == "grad");
        *result = module->get_method(method)(*args);
        args->clear();
      },
      [=](Napi::Env e) { return FromIValue(e, *result); }, [=] { handle->SetBusy(false); }, !OnCuda(*args));
  worker->Hold(info[0]);
  handle->SetBusy(true);  // last: a throw above must not leave the module busy for good
  return Queue(worker);
}

// trainStepAsync(spec) -> Promise<{loss, crossEntropy, dice, stepped, gradNorm?, ampScale?}>
Napi::Value TrainStepAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "spec: expected an object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto spec = std::make_shared<TrainStepSpec>(ReadTrainStepSpec(env, o));
  auto result = std::make_shared<TrainStepResult>();
  auto* worker = new PromiseWorker(
      env, [=] { *result = RunTrainStep(*spec); }, [=](Napi::Env e) { return TrainStepResultToJS(e, *result); },
      [=] {
        spec->moduleHandle->SetBusy(false);
        spec->optimizerHandle->SetBusy(false);
      },
      !spec->target.is_cuda());
  worker->Hold(o.Get("module"));
  worker->Hold(o.Get("optimizer"));
  spec->moduleHandle->SetBusy(true);  // last: a throw above must not leave them busy for good
  spec->optimizerHandle->SetBusy(true);
  return Queue(worker);
}

// trainStep(spec): the same step on the JS thread (blocks the event loop; for comparison and scripts).
Napi::Value TrainStepSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "spec: expected an object");
  TrainStepSpec spec = ReadTrainStepSpec(env, info[0].As<Napi::Object>());
  return TrainStepResultToJS(env, RunTrainStep(spec));
}

}  // namespace

void RegisterAsync(Napi::Env env, Napi::Object exports) {
  Export<LoadModuleAsync>(env, exports, "loadModuleAsync");
  Export<ForwardAsync>(env, exports, "forwardAsync");
  Export<TrainStepAsync>(env, exports, "trainStepAsync");
  Export<TrainStepSync>(env, exports, "trainStep");
}

}  // namespace sd
