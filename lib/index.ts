// slice-distill: the public API.
export { TorchError, TensorDisposedError } from './errors.js';
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
