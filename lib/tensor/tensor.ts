// The Tensor class: one JS object per native handle, methods that mirror PyTorch's.
import type { BinaryOp, ReduceOp, UnaryOp } from '../native/names.js';
import { inspect } from 'node:util';
import { TensorDisposedError } from '../errors.js';
import { native, type Handle, type IndexEntry, type Operand } from '../native/addon.js';
import { isDType, type DType, type Device, type TensorData } from './dtype.js';
import { setTrackable, track } from './scope.js';

/** A slice for index(): like Python's start:stop:step. */
export interface Slice {
  start?: number;
  stop?: number;
  step?: number;
}

/** One entry of index(): an integer, null (new axis), '...', ':', a Slice or an index Tensor. */
export type Index = number | null | '...' | ':' | Slice | Tensor;

/** The right-hand side of arithmetic: a tensor or a plain number / boolean. */
export type Scalar = number | boolean;

export interface ToOptions {
  device?: Device;
  dtype?: DType;
  /** Always copy, even when device and dtype already match. */
  copy?: boolean;
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

function operand(x: Tensor | Scalar): Operand {
  return x instanceof Tensor ? x.handle : x;
}

function indexEntry(x: Index, position: number): IndexEntry {
  if (x instanceof Tensor) return x.handle;
  const ok = x === null || x === '...' || x === ':' || (typeof x === 'number' && Number.isInteger(x)) || (typeof x === 'object' && !Array.isArray(x));
  // an array ([10]) used to fall through as an empty slice and return the whole tensor
  if (!ok) {
    const hint = Array.isArray(x) ? ' (an array: pass tensor([...]) for index lists)' : '';
    throw new TypeError(`index: entry ${position} is ${JSON.stringify(x)}${hint}; expected an integer, null, '...', ':', a Slice or a Tensor`);
  }
  return x;
}

function shapeArgs(args: (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

/**
 * A LibTorch tensor. Free it with dispose() (or `using`), or create it inside scope();
 * a forgotten tensor is reclaimed by the garbage collector, which is told its size.
 */
export class Tensor {
  #handle: Handle | null;

  /** @internal Use tensor(), zeros(), ... to make tensors. */
  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** @internal The native handle; throws once disposed. */
  get handle(): Handle {
    if (this.#handle === null) throw new TensorDisposedError();
    return this.#handle;
  }

  /** Frees the native tensor now. Safe to call more than once. */
  dispose(): void {
    if (this.#handle !== null) {
      this.#handle.dispose();
      this.#handle = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  // ---- metadata -------------------------------------------------------------------

  get shape(): number[] {
    return native.shape(this.handle);
  }

  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }

  get device(): Device {
    return native.device(this.handle) as Device;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get numel(): number {
    return native.numel(this.handle);
  }

  /** The size of one dimension (negative counts from the end), or the whole shape. */
  size(dim?: number): number {
    const shape = this.shape;
    if (dim === undefined) return shape.reduce((a, b) => a * b, 1);
    const d = dim < 0 ? dim + shape.length : dim;
    if (d < 0 || d >= shape.length) throw new RangeError(`dim: ${dim} is out of range for ${shape.length} dimensions`);
    return shape[d];
  }

  // ---- conversion -----------------------------------------------------------------

  /** Moves or converts: a device ('cpu', 'cuda:0'), a dtype ('float64'), or both. */
  to(target: Device | DType | ToOptions): Tensor {
    if (typeof target === 'string') {
      return isDType(target) ? wrap(native.to(this.handle, null, target)) : wrap(native.to(this.handle, target, null));
    }
    return wrap(native.to(this.handle, target.device ?? null, target.dtype ?? null, target.copy ?? false));
  }

  cpu(): Tensor {
    return this.to('cpu');
  }

  cuda(index?: number): Tensor {
    return this.to(index === undefined ? 'cuda' : `cuda:${index}`);
  }

  float(): Tensor {
    return this.to('float32');
  }

  long(): Tensor {
    return this.to('int64');
  }

  /** A typed copy of the data in row-major order (int64 as BigInt64Array). */
  toArray(): TensorData {
    return native.toArray(this.handle);
  }

  /** The data as nested JS arrays of numbers (int64 converted to number, bool to 0 / 1). */
  toList(): unknown {
    const flat = Array.from(this.toArray() as ArrayLike<number | bigint>, Number);
    const shape = this.shape;
    const build = (dim: number, offset: number): unknown => {
      if (dim === shape.length) return flat[offset];
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor (bool as 1 / 0). */
  item(): number {
    const v = native.item(this.handle);
    if (typeof v === 'bigint') throw new RangeError(`item: ${v} does not fit a JS number exactly; use toArray()`);
    return typeof v === 'boolean' ? Number(v) : v;
  }

  // ---- element-wise arithmetic ----------------------------------------------------

  /** this + alpha * other */
  add(other: Tensor | Scalar, alpha?: number): Tensor {
    return wrap(native.add(this.handle, operand(other), alpha));
  }
  sub(other: Tensor | Scalar): Tensor {
    return this.binary('sub', other);
  }
  mul(other: Tensor | Scalar): Tensor {
    return this.binary('mul', other);
  }
  div(other: Tensor | Scalar): Tensor {
    return this.binary('div', other);
  }
  floorDivide(other: Tensor | Scalar): Tensor {
    return this.binary('floorDivide', other);
  }
  remainder(other: Tensor | Scalar): Tensor {
    return this.binary('remainder', other);
  }
  pow(exponent: Tensor | Scalar): Tensor {
    return this.binary('pow', exponent);
  }
  maximum(other: Tensor | Scalar): Tensor {
    return this.binary('maximum', other);
  }
  minimum(other: Tensor | Scalar): Tensor {
    return this.binary('minimum', other);
  }
  atan2(other: Tensor | Scalar): Tensor {
    return this.binary('atan2', other);
  }

  neg(): Tensor {
    return this.unary('neg');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  log1p(): Tensor {
    return this.unary('log1p');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }
  rsqrt(): Tensor {
    return this.unary('rsqrt');
  }
  square(): Tensor {
    return this.unary('square');
  }
  reciprocal(): Tensor {
    return this.unary('reciprocal');
  }
  sigmoid(): Tensor {
    return this.unary('sigmoid');
  }
  tanh(): Tensor {
    return this.unary('tanh');
  }
  relu(): Tensor {
    return this.unary('relu');
  }
  sin(): Tensor {
    return this.unary('sin');
  }
  cos(): Tensor {
    return this.unary('cos');
  }
  floor(): Tensor {
    return this.unary('floor');
  }
  ceil(): Tensor {
    return this.unary('ceil');
  }
  round(): Tensor {
    return this.unary('round');
  }
  trunc(): Tensor {
    return this.unary('trunc');
  }
  sign(): Tensor {
    return this.unary('sign');
  }
  isnan(): Tensor {
    return this.unary('isnan');
  }
  isfinite(): Tensor {
    return this.unary('isfinite');
  }

  clamp(min?: number | null, max?: number | null): Tensor {
    return wrap(native.clamp(this.handle, min ?? null, max ?? null));
  }

  // ---- in place (on this tensor's storage; views see the change) -----------------

  /** this += alpha * other */
  add_(other: Tensor | Scalar, alpha?: number): this {
    native.inplace('add_', this.handle, operand(other), alpha);
    return this;
  }
  /** this -= alpha * other */
  sub_(other: Tensor | Scalar, alpha?: number): this {
    native.inplace('sub_', this.handle, operand(other), alpha);
    return this;
  }
  mul_(other: Tensor | Scalar): this {
    native.inplace('mul_', this.handle, operand(other));
    return this;
  }
  div_(other: Tensor | Scalar): this {
    native.inplace('div_', this.handle, operand(other));
    return this;
  }
  /** Copies other's values (broadcast, converted) into this. */
  copy_(other: Tensor | Scalar): this {
    native.inplace('copy_', this.handle, operand(other));
    return this;
  }
  fill_(value: Scalar): this {
    native.inplace('fill_', this.handle, value);
    return this;
  }
  zero_(): this {
    native.inplace('zero_', this.handle);
    return this;
  }

  // ---- comparison and logic (bool results) ----------------------------------------

  eq(other: Tensor | Scalar): Tensor {
    return this.binary('eq', other);
  }
  ne(other: Tensor | Scalar): Tensor {
    return this.binary('ne', other);
  }
  lt(other: Tensor | Scalar): Tensor {
    return this.binary('lt', other);
  }
  le(other: Tensor | Scalar): Tensor {
    return this.binary('le', other);
  }
  gt(other: Tensor | Scalar): Tensor {
    return this.binary('gt', other);
  }
  ge(other: Tensor | Scalar): Tensor {
    return this.binary('ge', other);
  }
  logicalAnd(other: Tensor | Scalar): Tensor {
    return this.binary('logicalAnd', other);
  }
  logicalOr(other: Tensor | Scalar): Tensor {
    return this.binary('logicalOr', other);
  }
  logicalXor(other: Tensor | Scalar): Tensor {
    return this.binary('logicalXor', other);
  }
  logicalNot(): Tensor {
    return this.unary('logicalNot');
  }

  // ---- linear algebra and reductions ----------------------------------------------

  matmul(other: Tensor): Tensor {
    return wrap(native.matmul(this.handle, other.handle));
  }

  sum(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('sum', dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('mean', dim, keepdim);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return this.reduce('prod', dim, keepdim);
  }
  /** Sample standard deviation (Bessel's correction), as torch.std. */
  std(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('std', dim, keepdim);
  }
  var(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('var', dim, keepdim);
  }
  amax(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('amax', dim, keepdim);
  }
  amin(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('amin', dim, keepdim);
  }
  all(dim?: number, keepdim = false): Tensor {
    return this.reduce('all', dim, keepdim);
  }
  any(dim?: number, keepdim = false): Tensor {
    return this.reduce('any', dim, keepdim);
  }
  logsumexp(dim?: number | number[], keepdim = false): Tensor {
    return this.reduce('logsumexp', dim, keepdim);
  }

  /** The largest value, or along `dim` the values and their indices. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? this.reduce('amax', undefined, false) : this.extremum('max', dim, keepdim);
  }

  /** The smallest value, or along `dim` the values and their indices. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? this.reduce('amin', undefined, false) : this.extremum('min', dim, keepdim);
  }

  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(native.argExtremum('argmax', this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(native.argExtremum('argmin', this.handle, dim ?? null, keepdim));
  }

  softmax(dim: number): Tensor {
    return wrap(native.softmax('softmax', this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native.softmax('logSoftmax', this.handle, dim));
  }

  // ---- shape ----------------------------------------------------------------------

  /** New shape with the same elements; one size may be -1. */
  reshape(...shape: number[]): Tensor;
  reshape(shape: readonly number[]): Tensor;
  reshape(...args: (number | readonly number[])[]): Tensor {
    return wrap(native.reshape(this.handle, shapeArgs(args)));
  }

  permute(...dims: number[]): Tensor;
  permute(dims: readonly number[]): Tensor;
  permute(...args: (number | readonly number[])[]): Tensor {
    return wrap(native.permute(this.handle, shapeArgs(args)));
  }

  transpose(dim0: number, dim1: number): Tensor {
    return wrap(native.transpose(this.handle, dim0, dim1));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native.narrow(this.handle, dim, start, length));
  }
  select(dim: number, index: number): Tensor {
    return wrap(native.select(this.handle, dim, index));
  }
  squeeze(dim?: number): Tensor {
    return wrap(native.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native.unsqueeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(native.flatten(this.handle, startDim, endDim));
  }
  expand(...shape: number[]): Tensor;
  expand(shape: readonly number[]): Tensor;
  expand(...args: (number | readonly number[])[]): Tensor {
    return wrap(native.expand(this.handle, shapeArgs(args)));
  }
  contiguous(): Tensor {
    return wrap(native.simple('contiguous', this.handle));
  }
  clone(): Tensor {
    return wrap(native.simple('clone', this.handle));
  }
  /** The same data, cut from the autograd graph. */
  detach(): Tensor {
    return wrap(native.simple('detach', this.handle));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native.indexSelect(this.handle, dim, index.handle));
  }

  /** Python-style indexing: t.index(0, ':', {start: 1, stop: 3}, null, maskTensor). */
  index(...indices: Index[]): Tensor {
    return wrap(
      native.index(
        this.handle,
        indices.map((x, i) => indexEntry(x, i)),
      ),
    );
  }

  /** A copy with the indexed part set to `value` (t[indices] = value on a clone). */
  indexPut(indices: Index[], value: Tensor | Scalar): Tensor {
    return wrap(native.indexPut(this.handle, indices.map(indexEntry), operand(value)));
  }

  flip(dims: number | number[]): Tensor {
    return wrap(native.flip(this.handle, dims));
  }
  /** Rotates by k quarter turns in the plane of dims (default [0, 1]), as torch.rot90. */
  rot90(k = 1, dims: [number, number] = [0, 1]): Tensor {
    return wrap(native.rot90(this.handle, k, dims));
  }
  /** One-hot encoding of integer labels: int64 [..., numClasses]. */
  oneHot(numClasses: number): Tensor {
    return wrap(native.oneHot(this.handle, numClasses));
  }

  // ---- autograd -------------------------------------------------------------------

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(flag: boolean) {
    native.setRequiresGrad(this.handle, flag);
  }
  /** Sets requiresGrad and returns this, for chaining. */
  requiresGrad_(flag = true): this {
    native.setRequiresGrad(this.handle, flag);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new Tensor sharing its storage), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    native.zeroGrad(this.handle);
  }
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, options.retainGraph ?? null, options.createGraph ?? false);
  }

  // ---- display --------------------------------------------------------------------

  toString(): string {
    if (this.#handle === null) return 'Tensor(disposed)';
    return `Tensor(${this.dtype} [${this.shape.join(', ')}] ${this.device}${this.requiresGrad ? ' requiresGrad' : ''})`;
  }

  [inspect.custom](): string {
    if (this.#handle === null || this.numel > 64) return this.toString();
    return `${this.toString()} ${inspect(this.toList(), { depth: 8, breakLength: 100 })}`;
  }

  private unary(op: UnaryOp): Tensor {
    return wrap(native.unary(op, this.handle));
  }
  private binary(op: BinaryOp, other: Tensor | Scalar): Tensor {
    return wrap(native.binary(op, this.handle, operand(other)));
  }
  private reduce(op: ReduceOp, dim: number | number[] | undefined, keepdim: boolean): Tensor {
    return wrap(native.reduce(op, this.handle, dim ?? null, keepdim));
  }
  private extremum(op: 'max' | 'min', dim: number, keepdim: boolean): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.extremum(op, this.handle, dim, keepdim);
    return { values: wrap(values), indices: wrap(indices) };
  }
}

/** @internal */
export function wrap(handle: Handle): Tensor {
  return new Tensor(handle);
}

setTrackable((value): value is Tensor => value instanceof Tensor);
