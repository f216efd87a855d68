// The JS-visible handle of a torch::optim optimizer (SGD, Adam, AdamW) and its AMP scaler.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "binding/errors.h"
#include "ops/grad_utils.h"

namespace torch::optim {
class Optimizer;
}

namespace sd {

class OptimizerHandle : public Napi::ObjectWrap<OptimizerHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static OptimizerHandle* Get(Napi::Value value, const char* arg);

  explicit OptimizerHandle(const Napi::CallbackInfo& info);
  ~OptimizerHandle() override;

  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  const std::vector<at::Tensor>& params() const { return params_; }
  // The loss scaler of mixed-precision steps, made on first use on `device`.
  ops::GradScaler& Scaler(const at::Device& device);
  void SetBusy(bool busy) { busy_ = busy; }
  // Throws where it was disposed.
  void CheckLive(Napi::Env env) const;
  // CheckLive, and a BusyError while an async training step uses it.
  void CheckIdle(Napi::Env env) const;

  SD_GUARDED_METHODS(OptimizerHandle)

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value GetLr(const Napi::CallbackInfo& info);
  Napi::Value SetLr(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::string kind_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::optional<ops::GradScaler> scaler_;
  bool busy_ = false;
};

}  // namespace sd
