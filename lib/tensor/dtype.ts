import { DTYPES, type DType } from '../native/names.js';

export { DTYPES, type DType, type Device } from '../native/names.js';

/** What toArray() returns: float16 / bfloat16 as Float32Array, int64 as BigInt64Array, bool as Uint8Array. */
export type TensorData = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array;

/** The typed arrays tensor() accepts. */
export type TypedArrayInput = TensorData | Uint8ClampedArray;

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}
