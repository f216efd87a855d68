// Converting module inputs and outputs between Tensors and native handles.
import { native, type Handle, type IValueRaw } from '../native/addon.js';
import { Tensor, wrap } from '../tensor/tensor.js';

/** What a TorchScript method accepts: tensors, numbers, strings, null, and lists / dicts of them. */
export type ModuleInput = Tensor | number | boolean | string | null | readonly ModuleInput[] | { readonly [key: string]: ModuleInput };

/** What a TorchScript method returns: a tensor, or tuples / lists / dicts of values. */
export type ModuleOutput = Tensor | number | boolean | string | null | ModuleOutput[] | { [key: string]: ModuleOutput };

export function toRaw(value: ModuleInput): IValueRaw {
  if (value instanceof Tensor) return value.handle;
  if (Array.isArray(value)) return value.map(toRaw);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: IValueRaw } = {};
    for (const [k, v] of Object.entries(value)) out[k] = toRaw(v as ModuleInput);
    return out;
  }
  return value as IValueRaw;
}

/**
 * As toRaw, but each tensor becomes a new handle on the same at::Tensor (autograd intact),
 * collected in `owned`: queued work then survives the caller disposing its tensors.
 */
export function toOwnedRaw(value: ModuleInput, owned: Handle[]): IValueRaw {
  if (value instanceof Tensor) {
    const alias = native.to(value.handle, null, null, false);
    owned.push(alias);
    return alias;
  }
  if (Array.isArray(value)) return value.map((v: ModuleInput) => toOwnedRaw(v, owned));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: IValueRaw } = {};
    for (const [k, v] of Object.entries(value)) out[k] = toOwnedRaw(v as ModuleInput, owned);
    return out;
  }
  return value as IValueRaw;
}

/** Runs queued work with owned handles and frees them when it settles. */
export async function withOwned<T>(owned: Handle[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    for (const h of owned) h.dispose();
  }
}

function isHandle(value: object): value is Handle {
  return typeof (value as Handle).dispose === 'function' && typeof (value as Handle).isDisposed === 'function';
}

export function fromRaw(value: IValueRaw): ModuleOutput {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromRaw);
  if (isHandle(value)) return wrap(value);
  const out: { [key: string]: ModuleOutput } = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromRaw(v);
  return out;
}

/**
 * The logits in a model's output: the tensor itself, the first element of a tuple / list,
 * or the 'out' entry of a dict (torchvision's segmentation models).
 */
export function logitsOf(output: ModuleOutput): Tensor {
  if (output instanceof Tensor) return output;
  if (Array.isArray(output) && output[0] instanceof Tensor) return output[0];
  if (output !== null && typeof output === 'object' && !Array.isArray(output) && output.out instanceof Tensor) {
    return output.out;
  }
  throw new TypeError('forward: the module did not return a tensor, a tuple / list starting with one, or a dict with "out"');
}
