// One training step (forward, loss, backward, optimizer step) as plain C++ that any thread
// can run: the spec is read from JS on the main thread, the step runs where it is called.
#pragma once
#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <napi.h>
#include <torch/csrc/jit/api/module.h>

#include <memory>
#include <optional>
#include <vector>

#include "ops/prototype_ops.h"
#include "ops/seg_losses.h"

namespace sd {

class ModuleHandle;
class OptimizerHandle;

struct TrainStepSpec {
  ModuleHandle* moduleHandle = nullptr;
  OptimizerHandle* optimizerHandle = nullptr;
  std::shared_ptr<torch::jit::Module> module;
  std::vector<c10::IValue> inputs;
  at::Tensor target;
  double ceWeight = 0.4;
  double diceWeight = 0.6;
  std::optional<at::Tensor> classWeights;
  ops::DiceOptions dice;
  std::optional<int64_t> ignoreIndex;
  // beta * L_DIST against the teacher prototype, where distWeight > 0
  double distWeight = 0;
  at::Tensor teacherPrototype;
  ops::DistOptions dist;
  std::optional<double> clipGradNorm;
  bool amp = false;
  bool zeroGrad = true;
  bool step = true;
  double lossScale = 1.0;  // e.g. 1 / accumulation steps
};

struct TrainStepResult {
  // dist = tau^2 (w_inter * distInter + w_intra * distIntra); the two terms unweighted
  double loss = 0, crossEntropy = 0, dice = 0, seg = 0, dist = 0, distInter = 0, distIntra = 0;
  std::optional<double> gradNorm;
  bool stepped = false;       // false when accumulating, or when AMP found inf / nan gradients
  bool nonFinite = false;     // the loss was NaN / infinite: no backward, no step, gradients cleared
  std::optional<double> ampScale;
};

// Reads {module, optimizer, inputs, target, loss, clipGradNorm, amp, zeroGrad, step, lossScale}.
TrainStepSpec ReadTrainStepSpec(Napi::Env env, Napi::Object spec);
TrainStepResult RunTrainStep(TrainStepSpec& spec);
Napi::Object TrainStepResultToJS(Napi::Env env, const TrainStepResult& result);

// The model's logits from whatever forward returned: a tensor, the first element of a
// tuple / list, or the "out" entry of a dict (torchvision's segmentation models).
at::Tensor LogitsOf(const c10::IValue& output);

}  // namespace sd
