// The training step's N-API side: reads the spec from JS on the main thread (the math is
// native/train/train_step.*, which runs wherever it is called) and converts the result.
#pragma once
#include <napi.h>

#include "train/train_step.h"

namespace sd {

class ModuleHandle;
class OptimizerHandle;

// The step's inputs plus the JS handles it holds busy while it runs.
struct TrainStepSpec : train::StepSpec {
  ModuleHandle* moduleHandle = nullptr;
  OptimizerHandle* optimizerHandle = nullptr;
};

using TrainStepResult = train::StepResult;

// Reads {module, optimizer, inputs, target, loss, clipGradNorm, amp, zeroGrad, step, lossScale, distributed}.
TrainStepSpec ReadTrainStepSpec(Napi::Env env, Napi::Object spec);
inline TrainStepResult RunTrainStep(TrainStepSpec& spec) { return train::RunStep(spec); }
Napi::Object TrainStepResultToJS(Napi::Env env, const TrainStepResult& result);

using train::LogitsOf;

}  // namespace sd
