// The names the addon's generic ops dispatch on (native/binding/math.cc), as unions so that a
// misspelt op is a type error; test/native-op-names.test.ts checks them against the addon.
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
