// Making tensors, and the functions that take several tensors at once.
import { native, type CreationOptionsRaw } from '../native/addon.js';
import type { InterpolateMode } from '../native/names.js';
import type { DType, Device, TypedArrayInput } from './dtype.js';
import { wrap, type Scalar, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

/** Nested arrays of numbers, booleans or bigints. */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

function raw(options: TensorOptions | undefined, extra: Partial<CreationOptionsRaw> = {}): CreationOptionsRaw {
  return { dtype: options?.dtype, device: options?.device, requiresGrad: options?.requiresGrad, ...extra };
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0] as NestedArray;
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[]): (number | boolean | bigint)[] {
  const out: (number | boolean | bigint)[] = [];
  const walk = (v: NestedArray, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new RangeError(`data: ragged nested array at [${path.join(', ')}]`);
      out.push(v as number | boolean | bigint);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new RangeError(`data: ragged nested array at [${path.join(', ')}] (expected length ${shape[dim]})`);
    }
    v.forEach((x: NestedArray, i: number) => walk(x, dim + 1, [...path, i]));
  };
  walk(data, 0, []);
  return out;
}

function packScalars(values: (number | boolean | bigint)[]): { array: TypedArrayInput; dtype: DType } {
  const kinds = new Set(values.map((v) => typeof v));
  if (kinds.size > 1) throw new TypeError(`data: mixes ${[...kinds].join(' and ')} values`);
  const kind = kinds.values().next().value ?? 'number';
  if (kind === 'boolean') return { array: Uint8Array.from(values as boolean[], Number), dtype: 'bool' };
  if (kind === 'bigint') return { array: BigInt64Array.from(values as bigint[]), dtype: 'int64' };
  if (kind !== 'number') throw new TypeError(`data: expected numbers, booleans or bigints, got ${kind}`);
  // Float64 keeps integers and doubles exact until the requested dtype is applied.
  return { array: Float64Array.from(values as number[]), dtype: 'float32' };
}

/**
 * A tensor from data: a typed array (its element type is the default dtype, a Uint8Array
 * becomes uint8 unless dtype is 'bool'), nested arrays (numbers default to float32), or a
 * single value. The data is copied. `shape` reshapes flat data.
 */
export function tensor(data: TypedArrayInput | NestedArray, shape?: readonly number[], options?: TensorOptions): Tensor;
export function tensor(data: TypedArrayInput | NestedArray, options?: TensorOptions): Tensor;
export function tensor(data: TypedArrayInput | NestedArray, shapeOrOptions?: readonly number[] | TensorOptions, maybeOptions?: TensorOptions): Tensor {
  const shapeArg = Array.isArray(shapeOrOptions) ? [...(shapeOrOptions as readonly number[])] : undefined;
  const options = Array.isArray(shapeOrOptions) ? maybeOptions : (shapeOrOptions as TensorOptions | undefined);
  if (ArrayBuffer.isView(data)) {
    const array = data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
    const shape = shapeArg ?? [array.length];
    return wrap(native.fromTypedArray(array, shape, raw(options, { bool: options?.dtype === 'bool' && array instanceof Uint8Array })));
  }
  const inferred = inferShape(data);
  const { array, dtype } = packScalars(flatten(data, inferred));
  const shape = shapeArg ?? inferred;
  const resolved = options?.dtype ?? dtype;
  return wrap(native.fromTypedArray(array, shape, raw({ ...options, dtype: resolved }, { bool: dtype === 'bool' })));
}

export function zeros(shape: readonly number[], options?: TensorOptions): Tensor {
  return wrap(native.factory('zeros', [...shape], raw(options)));
}

export function ones(shape: readonly number[], options?: TensorOptions): Tensor {
  return wrap(native.factory('ones', [...shape], raw(options)));
}

/** Uninitialised memory: fastest, for buffers that are fully overwritten. */
export function empty(shape: readonly number[], options?: TensorOptions): Tensor {
  return wrap(native.factory('empty', [...shape], raw(options)));
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], options?: TensorOptions): Tensor {
  return wrap(native.factory('rand', [...shape], raw(options)));
}

/** Standard normal. */
export function randn(shape: readonly number[], options?: TensorOptions): Tensor {
  return wrap(native.factory('randn', [...shape], raw(options)));
}

/** Filled with one value; the dtype defaults to bool for a boolean, float32 otherwise. */
export function full(shape: readonly number[], value: Scalar, options?: TensorOptions): Tensor {
  return wrap(native.full([...shape], value, raw(options)));
}

export function zerosLike(t: Tensor, options?: TensorOptions): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

export function onesLike(t: Tensor, options?: TensorOptions): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

/** [start, end) in steps; all-integer arguments give int64, as torch.arange. */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, step?: number, options?: TensorOptions): Tensor;
export function arange(a: number, b?: number | TensorOptions, c?: number | TensorOptions, d?: TensorOptions): Tensor {
  if (typeof b !== 'number') return wrap(native.arange(0, a, 1, raw(b)));
  const step = typeof c === 'number' ? c : 1;
  const options = typeof c === 'number' ? d : c;
  return wrap(native.arange(a, b, step, raw(options)));
}

/** Concatenates along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return wrap(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}

/** Stacks along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return wrap(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}

/** Element-wise choice: input where condition is true, other elsewhere (broadcasting). */
export function where(condition: Tensor, input: Tensor | Scalar, other: Tensor | Scalar): Tensor {
  const h = (x: Tensor | Scalar) => (x instanceof Tensor ? x.handle : x);
  return wrap(native.where(condition.handle, h(input), h(other)));
}

export interface InterpolateOptions {
  /** Output spatial size: [H, W], [D, H, W] or one number for all. */
  size?: number | readonly number[];
  /** Or a factor per spatial dimension (one number for all). */
  scaleFactor?: number | readonly number[];
  /** 'nearest' (the default; also for integer label maps), 'linear' (bi- or trilinear by rank), 'bilinear', 'trilinear'. */
  mode?: InterpolateMode;
  alignCorners?: boolean;
}

/** Resamples [N, C, H, W] or [N, C, D, H, W], as torch.nn.functional.interpolate. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const list = (v: number | readonly number[] | undefined): readonly number[] | null => (v === undefined ? null : typeof v === 'number' ? [v] : v);
  return wrap(
    native.interpolate(input.handle, {
      mode: options.mode ?? 'nearest',
      size: list(options.size),
      scaleFactor: list(options.scaleFactor),
      alignCorners: options.alignCorners ?? null,
    }),
  );
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}
