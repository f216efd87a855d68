// slice-distill: the public API.
export { TorchError, TensorDisposedError, ModuleLoadError, CheckpointError } from './errors.js';
export { Tensor, type Index, type Slice, type Scalar, type ToOptions, type BackwardOptions } from './tensor/tensor.js';
export { DTYPES, type DType, type Device, type TensorData, type TypedArrayInput } from './tensor/dtype.js';
export {
  tensor,
  zeros,
  ones,
  empty,
  rand,
  randn,
  full,
  zerosLike,
  onesLike,
  arange,
  cat,
  stack,
  where,
  interpolate,
  matmul,
  type TensorOptions,
  type InterpolateOptions,
  type NestedArray,
} from './tensor/factories.js';
export { scope, tidy, keep, memory, type MemoryInfo } from './tensor/scope.js';
export { noGrad, enableGrad, isGradEnabled } from './tensor/autograd.js';
export { manualSeed, setNumThreads, getNumThreads, cuda, buildInfo, type BuildInfo } from './runtime.js';
export { ScriptModule, type ModelMetadata, type LoadModuleOptions, type ForwardMode } from './module/script-module.js';
export { logitsOf, type ModuleInput, type ModuleOutput } from './module/ivalue.js';
export * as optim from './optim/index.js';
export * as losses from './losses/index.js';
export { clipGradNorm } from './optim/clip-grad.js';
export { trainStep, trainStepSync, type TrainStepOptions, type TrainStepResult, type LossSpec } from './train/train-step.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  CHECKPOINT_FORMAT,
  type CheckpointContent,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type Metrics,
} from './train/checkpoint.js';
export * as ops from './ops/index.js';
export {
  exportModel,
  ExportError,
  MODEL_ARCHS,
  MODEL_FORMAT,
  type ExportModelOptions,
  type ExportedModel,
  type ExportedModelMetadata,
  type ModelArch,
  type ModelPreset,
} from './models/export.js';
