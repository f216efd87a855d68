// Optimizers over any list of leaf tensors, with a state dict that resumes training exactly.
#include "binding/optim.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/tensor_handle.h"

namespace sd {
namespace {

Napi::FunctionReference* constructor = nullptr;

// Every field is required: the defaults are resolved in TS (lib/optim/options.ts).
double Field(Napi::Object o, const char* key) { return ToDouble(o.Get(key), std::string("options.") + key); }
bool Flag(Napi::Object o, const char* key) { return ToBool(o.Get(key), std::string("options.") + key); }

std::unique_ptr<torch::optim::Optimizer> Make(const std::string& kind, const std::vector<at::Tensor>& params,
                                              Napi::Object o) {
  if (kind != "sgd" && kind != "adam" && kind != "adamw") {
    throw std::out_of_range("options.kind: expected 'sgd', 'adam' or 'adamw', got '" + kind + "'");
  }
  double lr = Field(o, "lr");
  if (!(lr >= 0)) throw std::out_of_range("options.lr: expected a learning rate >= 0");
  double wd = Field(o, "weightDecay");
  if (wd < 0) throw std::out_of_range("options.weightDecay: expected a value >= 0");
  if (kind == "sgd") {
    double momentum = Field(o, "momentum"), dampening = Field(o, "dampening");
    bool nesterov = Flag(o, "nesterov");
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw std::out_of_range("options.nesterov: needs momentum > 0 and dampening 0");
    }
    return std::make_unique<torch::optim::SGD>(
        params,
        torch::optim::SGDOptions(lr).momentum(momentum).dampening(dampening).weight_decay(wd).nesterov(nesterov));
  }
  auto betas = ToDoubleList(o.Get("betas"), "options.betas");
  if (betas.size() != 2) throw std::out_of_range("options.betas: expected two numbers");
  double eps = Field(o, "eps");
  bool amsgrad = Flag(o, "amsgrad");
  if (kind == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(lr).betas({betas[0], betas[1]}).eps(eps).weight_decay(wd).amsgrad(amsgrad));
  }
  return std::make_unique<torch::optim::AdamW>(  // "adamw", the kind left after the check above
      params, torch::optim::AdamWOptions(lr).betas({betas[0], betas[1]}).eps(eps).weight_decay(wd).amsgrad(amsgrad));
}

torch::optim::OptimizerParamState* StateOf(torch::optim::Optimizer& opt, const at::Tensor& p) {
  auto& state = opt.state();
  auto it = state.find(p.unsafeGetTensorImpl());
  return it == state.end() ? nullptr : it->second.get();
}

void SetTensor(Napi::Env env, Napi::Object out, const char* key, const at::Tensor& t) {
  if (t.defined()) out.Set(key, TensorHandle::Wrap(env, t.detach().clone()));
}

// A state tensor from a state dict, checked against its parameter's shape and moved to its device.
at::Tensor StateTensor(Napi::Object entry, const char* key, const at::Tensor& param, const std::string& where) {
  Napi::Value v = entry.Get(key);
  if (IsNullish(v)) return at::Tensor();
  const at::Tensor& t = TensorHandle::Arg(v, (where + "." + key).c_str());
  if (!t.sizes().equals(param.sizes())) {
    throw std::out_of_range(where + "." + key + ": shape " + ShapeString(t.sizes()) +
                            " does not match the parameter's " + ShapeString(param.sizes()));
  }
  return t.detach().to(param.device(), param.scalar_type()).clone();
}

}  // namespace

void OptimizerHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls =
      DefineClass(env, "OptimizerHandle",
                  {
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::Step>>("step"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::ZeroGrad>>("zeroGrad"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::GetLr>>("getLr"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::SetLr>>("setLr"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::StateDict>>("stateDict"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::LoadStateDict>>("loadStateDict"),
                      InstanceMethod<&OptimizerHandle::Guarded<&OptimizerHandle::Dispose>>("dispose"),
                  });
  constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  exports.Set("OptimizerHandle", cls);
}

OptimizerHandle* OptimizerHandle::Get(Napi::Value value, const char* arg) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor->Value())) {
    ThrowTypeError(value.Env(), std::string(arg) + ": expected an optimizer");
  }
  return Napi::ObjectWrap<OptimizerHandle>::Unwrap(value.As<Napi::Object>());
}

// new OptimizerHandle(params[], options: {kind, lr, ...every field of that kind})
OptimizerHandle::OptimizerHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerHandle>(info) {
  Napi::Env env = info.Env();
  try {
    Napi::Object options = ToObject(info[1], "options");
    kind_ = ToString(options.Get("kind"), "options.kind");
    params_ = ToTensorList(info[0], "params");
    if (params_.empty()) ThrowRangeError(env, "params: expected at least one parameter tensor");
    for (size_t i = 0; i < params_.size(); i++) {
      const at::Tensor& p = params_[i];
      if (!p.is_leaf() || !at::isFloatingType(p.scalar_type())) {
        ThrowTypeError(env, "params[" + std::to_string(i) + "]: expected a floating-point leaf tensor");
      }
      if (!p.requires_grad()) {
        ThrowTypeError(env, "params[" + std::to_string(i) + "]: does not require gradients (frozen?)");
      }
    }
    optimizer_ = Make(kind_, params_, options);
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw TranslateCurrentException(env);
  }
}

OptimizerHandle::~OptimizerHandle() = default;

ops::GradScaler& OptimizerHandle::Scaler(const at::Device& device) {
  if (!scaler_) {
    scaler_.emplace();
    scaler_->Init(device, 65536.0);
  }
  return *scaler_;
}

void OptimizerHandle::CheckLive(Napi::Env env) const {
  if (!optimizer_) ThrowObjectDisposed(env, "optimizer (" + kind_ + "): disposed and cannot be used");
}

void OptimizerHandle::CheckIdle(Napi::Env env) const {
  CheckLive(env);
  if (busy_) {
    throw MakeTorchError(env, "optimizer: busy with an async training step; await it first", "BusyError");
  }
}

Napi::Value OptimizerHandle::Step(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  c10::NoGradGuard guard;
  optimizer_->step();
  return info.Env().Undefined();
}

// zeroGrad(setToNone = true), as torch.optim's default.
Napi::Value OptimizerHandle::ZeroGrad(const Napi::CallbackInfo& info) {
  CheckIdle(info.Env());
  optimizer_->zero_grad(ToBool(info[0], "setToNone", true));
  return info.Env().Undefined();
}

Napi::Value OptimizerHandle::GetLr(const Napi::CallbackInfo& info) {
  CheckLive(info.Env());
  return Napi::Number::New(info.Env(), optimizer_->param_groups().front().options().get_lr());
}

Napi::Value OptimizerHandle::SetLr(const Napi::CallbackInfo& info) {
  double lr = ToDouble(info[0], "lr");
  if (!(lr >= 0) || !std::isfinite(lr)) ThrowRangeError(info.Env(), "lr: expected a finite learning rate >= 0");
  CheckLive(info.Env());
  for (auto& group : optimizer_->param_groups()) group.options().set_lr(lr);
  return info.Env().Undefined();
}

// stateDict() -> {kind, lr, state: [{step, momentumBuffer | expAvg, expAvgSq, maxExpAvgSq} | null],
//                 scaler?: {scale, growthTracker}}; every tensor a copy.
Napi::Value OptimizerHandle::StateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env);
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", kind_);
  out.Set("lr", optimizer_->param_groups().front().options().get_lr());
  Napi::Array states = Napi::Array::New(env, params_.size());
  for (size_t i = 0; i < params_.size(); i++) {
    auto* s = StateOf(*optimizer_, params_[i]);
    if (s == nullptr) {
      states.Set(static_cast<uint32_t>(i), env.Null());
      continue;
    }
    Napi::Object entry = Napi::Object::New(env);
    if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(s)) {
      SetTensor(env, entry, "momentumBuffer", sgd->momentum_buffer());
    } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(s)) {
      entry.Set("step", static_cast<double>(adam->step()));
      SetTensor(env, entry, "expAvg", adam->exp_avg());
      SetTensor(env, entry, "expAvgSq", adam->exp_avg_sq());
      SetTensor(env, entry, "maxExpAvgSq", adam->max_exp_avg_sq());
    } else if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(s)) {
      entry.Set("step", static_cast<double>(adamw->step()));
      SetTensor(env, entry, "expAvg", adamw->exp_avg());
      SetTensor(env, entry, "expAvgSq", adamw->exp_avg_sq());
      SetTensor(env, entry, "maxExpAvgSq", adamw->max_exp_avg_sq());
    }
    states.Set(static_cast<uint32_t>(i), entry);
  }
  out.Set("state", states);
  if (scaler_) {
    Napi::Object sc = Napi::Object::New(env);
    SetTensor(env, sc, "scale", scaler_->scale);
    SetTensor(env, sc, "growthTracker", scaler_->growth_tracker);
    out.Set("scaler", sc);
  }
  return out;
}

Napi::Value OptimizerHandle::LoadStateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckIdle(env);
  if (!info[0].IsObject()) ThrowTypeError(env, "stateDict: expected an object");
  Napi::Object dict = info[0].As<Napi::Object>();
  std::string kind = ToString(dict.Get("kind"), "stateDict.kind");
  if (kind != kind_)
    ThrowTypeError(env, "stateDict.kind: the state is of a '" + kind + "' optimizer, this one is '" + kind_ + "'");
  Napi::Value statesValue = dict.Get("state");
  if (!statesValue.IsArray()) ThrowTypeError(env, "stateDict.state: expected an array");
  Napi::Array states = statesValue.As<Napi::Array>();
  if (states.Length() != params_.size()) {
    ThrowRangeError(env, "stateDict.state: has " + std::to_string(states.Length()) + " entries, the optimizer has " +
                             std::to_string(params_.size()) + " parameters");
  }
  // Build every entry first, so a bad one leaves the optimizer untouched.
  std::vector<std::unique_ptr<torch::optim::OptimizerParamState>> built(params_.size());
  for (uint32_t i = 0; i < states.Length(); i++) {
    Napi::Value v = states.Get(i);
    if (IsNullish(v)) continue;
    if (!v.IsObject()) ThrowTypeError(env, "stateDict.state[" + std::to_string(i) + "]: expected an object or null");
    Napi::Object entry = v.As<Napi::Object>();
    std::string where = "stateDict.state[" + std::to_string(i) + "]";
    const at::Tensor& p = params_[i];
    if (kind_ == "sgd") {
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(StateTensor(entry, "momentumBuffer", p, where));
      built[i] = std::move(s);
    } else {
      int64_t step = ToInt(entry.Get("step"), where + ".step");
      at::Tensor m = StateTensor(entry, "expAvg", p, where), v2 = StateTensor(entry, "expAvgSq", p, where),
                 mx = StateTensor(entry, "maxExpAvgSq", p, where);
      if (!m.defined() || !v2.defined()) ThrowTypeError(env, where + ": expected expAvg and expAvgSq tensors");
      if (kind_ == "adam") {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(step).exp_avg(m).exp_avg_sq(v2).max_exp_avg_sq(mx);
        built[i] = std::move(s);
      } else {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(step).exp_avg(m).exp_avg_sq(v2).max_exp_avg_sq(mx);
        built[i] = std::move(s);
      }
    }
  }
  Napi::Value lr = dict.Get("lr");
  auto& state = optimizer_->state();
  state.clear();
  for (size_t i = 0; i < params_.size(); i++) {
    if (built[i]) state[params_[i].unsafeGetTensorImpl()] = std::move(built[i]);
  }
  if (!IsNullish(lr)) {
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(ToDouble(lr, "stateDict.lr"));
  }
  Napi::Value sc = dict.Get("scaler");
  if (sc.IsObject()) {
    Napi::Object s = sc.As<Napi::Object>();
    const at::Tensor& scale = TensorHandle::Arg(s.Get("scale"), "stateDict.scaler.scale");
    auto& scaler = Scaler(params_.front().device());
    scaler.scale = scale.detach().to(params_.front().device(), at::kFloat).clone();
    scaler.growth_tracker = TensorHandle::Arg(s.Get("growthTracker"), "stateDict.scaler.growthTracker")
                                .detach()
                                .to(scaler.scale.device(), at::kInt)
                                .clone();
  }
  return env.Undefined();
}

void RegisterOptim(Napi::Env env, Napi::Object exports) { OptimizerHandle::Init(env, exports); }

// dispose(): frees the state (momentum, moments, the scaler) now (idempotent); refused during
// an async step. The parameters belong to their module and stay.
Napi::Value OptimizerHandle::Dispose(const Napi::CallbackInfo& info) {
  if (!optimizer_) return info.Env().Undefined();
  CheckIdle(info.Env());
  optimizer_.reset();
  params_.clear();
  scaler_.reset();
  return info.Env().Undefined();
}

}  // namespace sd
