// slice-distill: the public API. One namespace per layer (optim, losses, ops, models, data,
// loader, training, infer, evaluation, report, pipeline, distributed), and the flat names of
// the first release for the core: tensors, modules, training, data loading, inference.
export { TorchError, DisposedError, TensorDisposedError, ModuleLoadError, CheckpointError, FileSystemError, LockedError } from './errors.js';
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
export { allocatorStats, configureAllocator, releaseCachedMemory, type AllocatorOptions, type AllocatorStats } from './tensor/allocator.js';
export { noGrad, enableGrad, isGradEnabled } from './tensor/autograd.js';
export { manualSeed, setNumThreads, getNumThreads, threadCounts, cuda, buildInfo, type BuildInfo } from './runtime.js';
export { ScriptModule, type ModelMetadata, type LoadModuleOptions, type ForwardMode } from './module/script-module.js';
export { logitsOf, type ModuleInput, type ModuleOutput } from './module/ivalue.js';
export * as optim from './optim/index.js';
export * as losses from './losses/index.js';
export { clipGradNorm } from './optim/clip-grad.js';
export * as ops from './ops/index.js';
export {
  exportModel,
  ExportError,
  MODEL_ARCHS,
  MODEL_FORMAT,
  WEIGHTS_FORMATS,
  type WeightsFormat,
  type WeightsReport,
  type ExportModelOptions,
  type ExportedModel,
  type ExportedModelMetadata,
  type ModelArch,
  type ModelPreset,
} from './models/export.js';
export * as models from './models/index.js';
export * as data from './data/index.js';
export {
  nifti,
  NiftiError,
  DatasetError,
  DataLoadError,
  loadDataset,
  validateDataset,
  assertValidDataset,
  subjectsOf,
  splitSubjects,
  nestedSubsets,
  transforms,
  CLASSES,
  NUM_CLASSES,
  LABEL_MAPS,
  LabelMapper,
  KidneyRangeCrop,
  ExplicitZRange,
  generatePhantom,
  renderPreview,
  Rng,
  type NiftiImage,
  type Dataset,
  type DatasetJson,
  type VolumeEntry,
  type SliceEntry,
  type Split,
  type BodyPartCrop,
  type ZRange,
  type PhantomOptions,
} from './data/index.js';
export * as evaluation from './eval/index.js';
export * as stats from './eval/stats.js';
export { diceScores, DiceAccumulator, ORGANS, type EvaluationResult } from './eval/index.js';
export * as report from './report/index.js';
export * as training from './train/index.js';
export * from './train/index.js';
export * as loader from './loader/index.js';
export { DataLoader, type LoaderOptions, type Batch } from './loader/index.js';
export * as infer from './infer/index.js';
export { slidingWindowInference, SliceScoreCrop, type SlidingWindowOptions } from './infer/index.js';
export * as pipeline from './pipeline/index.js';
export * as distributed from './distributed/index.js';
export { segment, modelInputSize, type SegmentOptions, type Segmentation } from './infer/index.js';
export { organStats, type OrganSliceStats, type OrganStatsInput } from './eval/organ-stats.js';
export { boundaryScores, boundaryScoresPerClass, SurfaceAccumulator, DEFAULT_TOLERANCE_MM, type BoundaryScores, type Grid } from './eval/surface.js';
export { CLASS_COLORS, CLASS_RGB } from './data/class-colors.js';
export { itkSnapLabels, slicerColorTable } from './data/label-descriptions.js';
