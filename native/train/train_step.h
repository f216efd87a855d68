// One training step (forward, loss, backward, optional data-parallel sync, clipping,
// optimizer step) as plain C++ that any thread can run; native/binding/train_step.* reads
// the spec from JS and hands the result back.
#pragma once
#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/api/module.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "distributed/group.h"
#include "ops/grad_utils.h"
#include "ops/prototype_ops.h"
#include "ops/seg_losses.h"

namespace torch::optim {
class Optimizer;
}

namespace sd::train {

struct StepSpec {
  std::shared_ptr<torch::jit::Module> module;
  torch::optim::Optimizer* optimizer = nullptr;
  std::vector<at::Tensor> params;  // the optimizer's
  // The loss scaler of mixed-precision steps on a device (owned by the optimizer's handle).
  std::function<ops::GradScaler&(const at::Device&)> scaler;
  std::vector<c10::IValue> inputs;
  at::Tensor target;
  // Each term's weight; 0 leaves it out (the defaults live in lib/losses/options.ts).
  double ceWeight = 0;
  double diceWeight = 0;
  std::optional<at::Tensor> classWeights;
  ops::DiceOptions dice;
  std::optional<int64_t> ignoreIndex;
  // beta * L_DIST against the teacher prototype, where distWeight > 0
  double distWeight = 0;
  at::Tensor teacherPrototype;
  ops::DistOptions dist;
  std::optional<double> clipGradNorm;
  bool amp = false;
  bool zeroGrad = false;
  bool step = false;
  double lossScale = 1.0;  // e.g. 1 / accumulation steps
  // Data-parallel: parameters from rank 0 on the module's first step, buffers from rank 0
  // each step, gradients averaged before clipping; the soft Dice over the global batch (its
  // sums all-reduced), cross-entropy and DIST per rank and averaged (DIST's per-sample means
  // then weigh each rank's share alike); null for one process.
  std::shared_ptr<dist::Group> group;
};

struct StepResult {
  // dist = tau^2 (w_inter * distInter + w_intra * distIntra); the two terms unweighted.
  // Data-parallel: the means over the ranks.
  double loss = 0, crossEntropy = 0, dice = 0, seg = 0, dist = 0, distInter = 0, distIntra = 0;
  std::optional<double> gradNorm;
  bool stepped = false;    // false when accumulating, or when AMP found inf / nan gradients
  bool nonFinite = false;  // the loss was NaN / infinite (on any rank): no backward, no step, gradients cleared
  std::optional<double> ampScale;
  std::optional<double> syncMs;  // data-parallel: time spent in collectives
};

StepResult RunStep(StepSpec& spec);

// The model's logits from whatever forward returned: a tensor, the first element of a
// tuple / list, or the "out" entry of a dict (torchvision's segmentation models).
at::Tensor LogitsOf(const c10::IValue& output);

}  // namespace sd::train
