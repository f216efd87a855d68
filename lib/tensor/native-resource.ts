// A JS object that owns one native handle (a module, an optimizer) and can free it before the
// garbage collector would: V8 sees only the small wrapper, not the memory behind it.
import { DisposedError } from '../errors.js';

export abstract class NativeResource<Raw extends { dispose(): void }> {
  #raw: Raw | null;

  protected constructor(raw: Raw) {
    this.#raw = raw;
  }

  /** How errors name it, e.g. the file a module came from. */
  protected abstract get resourceName(): string;

  /** @internal The native handle; a DisposedError once disposed. */
  get raw(): Raw {
    if (this.#raw === null) throw new DisposedError(`${this.resourceName}: disposed and cannot be used`);
    return this.#raw;
  }

  /** Frees the native memory now; idempotent; refused (a BusyError) while an async call uses it. */
  dispose(): void {
    this.#raw?.dispose();
    this.#raw = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get isDisposed(): boolean {
    return this.#raw === null;
  }
}
