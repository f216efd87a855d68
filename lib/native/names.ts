// The names the addon dispatches on, as unions so that a misspelt name is a type error: the
// generic ops (native/binding/math.cc), the dtypes (native/binding/convert.cc), the optimizers
// (native/binding/optim.cc). test/unit/native/names.test.ts checks them against the addon.
export const UNARY_OPS = [
  'neg', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sigmoid', 'tanh', 'relu',
  'sin', 'cos', 'floor', 'ceil', 'round', 'trunc', 'sign', 'logicalNot', 'isnan', 'isfinite',
] as const;
export const BINARY_OPS = [
  'sub', 'mul', 'div', 'floorDivide', 'remainder', 'pow', 'maximum', 'minimum', 'atan2',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor',
] as const;
export const REDUCE_OPS = ['sum', 'mean', 'prod', 'std', 'var', 'amax', 'amin', 'all', 'any', 'logsumexp'] as const;
export const INPLACE_OPS = ['add_', 'sub_', 'mul_', 'div_', 'copy_', 'fill_', 'zero_'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type InplaceOp = (typeof INPLACE_OPS)[number];

/** Element types, spelled as in PyTorch without the `torch.` prefix. */
export const DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

/** 'cpu', 'cuda' (the current CUDA device) or 'cuda:N'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export const OPTIMIZER_KINDS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

export const INTERPOLATE_MODES = ['nearest', 'linear', 'bilinear', 'trilinear'] as const;
export type InterpolateMode = (typeof INTERPOLATE_MODES)[number];

/** How an async module call runs: InferenceMode, no autograd, or with autograd. */
export const FORWARD_MODES = ['inference', 'noGrad', 'grad'] as const;
export type ForwardMode = (typeof FORWARD_MODES)[number];

export const BACKENDS = ['gloo', 'nccl'] as const;
export type Backend = (typeof BACKENDS)[number];
