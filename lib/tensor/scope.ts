// Tensor lifetime: scopes dispose what was made inside them, except what they return.
// Scopes follow async continuations (AsyncLocalStorage), so an async scope only collects
// the tensors made by its own work, not by code running concurrently beside it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { native } from '../native/addon.js';

/** Anything that can be freed at once. */
export interface Disposable {
  dispose(): void;
}

const current = new AsyncLocalStorage<Set<Disposable>>();

/** @internal Registers a new tensor with the innermost scope, if any. */
export function track(item: Disposable): void {
  current.getStore()?.add(item);
}

/** Exempts tensors from every enclosing scope; they live until disposed or collected. */
export function keep<T extends Disposable>(item: T): T {
  current.getStore()?.delete(item);
  return item;
}

function collect(value: unknown, into: Set<Disposable>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTrackable(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

let isTrackable: (value: object) => value is Disposable = (_v): _v is Disposable => false;

/** @internal The Tensor module says what counts as a tensor (avoids an import cycle). */
export function setTrackable(test: (value: object) => value is Disposable): void {
  isTrackable = test;
}

function finish(made: Set<Disposable>, result: unknown, parent: Set<Disposable> | undefined): void {
  const returned = new Set<Disposable>();
  collect(result, returned);
  for (const item of made) {
    if (returned.has(item)) parent?.add(item);
    else item.dispose();
  }
}

/**
 * Runs fn and disposes every tensor created inside it except those it returns (found in
 * the returned value, arrays, Maps and plain objects). Returned tensors belong to the
 * enclosing scope. An async fn is awaited before the disposal. If fn throws, everything
 * made inside is disposed.
 */
export function scope<T>(fn: () => T): T {
  const parent = current.getStore();
  const made = new Set<Disposable>();
  let result: T;
  try {
    result = current.run(made, fn);
  } catch (e) {
    finish(made, undefined, parent);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => {
        finish(made, value, parent);
        return value;
      },
      (e: unknown) => {
        finish(made, undefined, parent);
        throw e;
      },
    ) as T;
  }
  finish(made, result, parent);
  return result;
}

/** The tf.js name for scope(). */
export const tidy = scope;

export interface MemoryInfo {
  /** Live tensor handles (not yet disposed or collected). */
  tensors: number;
  /** Distinct storages they keep alive. */
  storages: number;
  /** Bytes of those storages, each counted once. */
  bytes: number;
}

/** Tensor memory held from JavaScript right now. */
export function memory(): MemoryInfo {
  return native.memory();
}
