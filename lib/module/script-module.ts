// TorchScript modules exported from Python: load, run (sync or off the JS thread), train,
// inspect and save.
import path from 'node:path';
import { ModuleLoadError, isTorchErrorOf } from '../errors.js';
import { native, type Handle, type ModuleHandleRaw } from '../native/addon.js';
import { cuda } from '../runtime.js';
import { isDType, type Device, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { wrap } from '../tensor/tensor.js';
import { NativeResource } from '../tensor/native-resource.js';
import { replaceAtomicSync } from '../util/atomic-write.js';
import { enqueue } from './device-queue.js';
import { fromRaw, logitsOf, toOwnedRaw, toRaw, withOwned, type ModuleInput, type ModuleOutput } from './ivalue.js';

/** The metadata an exported slice-distill model carries (the `metadata.json` extra file). */
export interface ModelMetadata {
  arch?: string;
  preset?: string;
  classes?: number;
  inputSize?: number[];
  spatialDims?: 2 | 3;
  inChannels?: number;
  [key: string]: unknown;
}

export interface LoadModuleOptions {
  /**
   * Where the parameters go (default: where they were saved; on a machine without a GPU, the
   * CPU, so that a model saved on a GPU loads there).
   */
  device?: Device;
  /** Names of extra files to read from the archive besides metadata.json. */
  extraFiles?: readonly string[];
}

/**
 * 'inference' (fastest; outputs cannot enter autograd later), 'noGrad', or 'grad' (outputs
 * carry a graph, e.g. for a loss computed afterwards).
 */
import type { ForwardMode } from '../native/names.js';

export type { ForwardMode };

const METADATA_FILE = 'metadata.json';

/** The device asked for; else where the module was saved, when CUDA can be used; else the CPU. */
function loadDevice(options: LoadModuleOptions): Device | undefined {
  return options.device ?? (cuda.isAvailable() ? undefined : 'cpu');
}

function loadError(e: unknown, file: string): unknown {
  if (isTorchErrorOf(e, 'LoadError')) return new ModuleLoadError(e.message, file);
  return e;
}

/**
 * A TorchScript module. `dispose()` frees its weights and its executor's compiled plans (tens of
 * MB after a few training steps, unseen by V8) at once; tensors taken from it stay valid.
 */
export class ScriptModule extends NativeResource<ModuleHandleRaw> {
  #device: Device;
  #warnedTraced = false;
  /** The file it was loaded from, if any. */
  readonly file: string | null;

  /** @internal Use ScriptModule.load / loadSync. */
  constructor(raw: ModuleHandleRaw, file: string | null, device?: Device) {
    super(raw);
    this.file = file;
    this.#device = device ?? this.#firstParameterDevice();
  }

  /** Loads a TorchScript archive off the JS thread. */
  static async load(file: string, options: LoadModuleOptions = {}): Promise<ScriptModule> {
    const names = [METADATA_FILE, ...(options.extraFiles ?? [])];
    try {
      const device = loadDevice(options);
      const raw = await native.loadModuleAsync(path.resolve(file), device ?? null, names);
      return new ScriptModule(raw, path.resolve(file), device);
    } catch (e) {
      throw loadError(e, file);
    }
  }

  static loadSync(file: string, options: LoadModuleOptions = {}): ScriptModule {
    const names = [METADATA_FILE, ...(options.extraFiles ?? [])];
    try {
      const device = loadDevice(options);
      return new ScriptModule(native.loadModule(path.resolve(file), device ?? null, names), path.resolve(file), device);
    } catch (e) {
      throw loadError(e, file);
    }
  }

  protected get resourceName(): string {
    return this.file ?? 'module';
  }

  /** The device of its parameters, where its async work is queued. */
  get device(): Device {
    return this.#device;
  }

  /** The extra files read from the archive (name -> text). */
  get extraFiles(): Record<string, string> {
    return this.raw.extraFiles();
  }

  /** Parsed `metadata.json`, or null when the archive has none. */
  get metadata(): ModelMetadata | null {
    const text = this.extraFiles[METADATA_FILE];
    if (!text) return null;
    try {
      return JSON.parse(text) as ModelMetadata;
    } catch {
      throw new TypeError(`${this.file ?? 'module'}: ${METADATA_FILE} is not valid JSON`);
    }
  }

  /** Runs forward on the JS thread, in the current grad mode. */
  forward(...inputs: ModuleInput[]): ModuleOutput {
    return this.call('forward', ...inputs);
  }

  /** forward, returning the logits (see logitsOf); other outputs are disposed. */
  forwardTensor(...inputs: ModuleInput[]): Tensor {
    const out = this.forward(...inputs);
    const logits = logitsOf(out);
    disposeAllBut(out, logits);
    return logits;
  }

  /** Runs any method of the module on the JS thread. */
  call(method: string, ...inputs: ModuleInput[]): ModuleOutput {
    return fromRaw(this.raw.call(method, inputs.map(toRaw)));
  }

  /** forward off the JS thread without autograd (noGrad); queued behind other work on this device. */
  forwardAsync(...inputs: ModuleInput[]): Promise<ModuleOutput> {
    return this.callAsync('forward', inputs);
  }

  /**
   * Any method off the JS thread, in the given mode. The default is 'noGrad', not 'inference':
   * a scripted module that has run in training mode keeps differentiable graphs in its
   * executor, and those fail under InferenceMode ("Inference tensors cannot be saved for backward").
   */
  callAsync(method: string, inputs: readonly ModuleInput[], options: { mode?: ForwardMode } = {}): Promise<ModuleOutput> {
    const owned: Handle[] = []; // the caller may dispose its tensors while this waits in the queue
    const raw = inputs.map((v) => toOwnedRaw(v, owned));
    return withOwned(owned, () => enqueue(this.#device, async () => fromRaw(await native.forwardAsync(this.raw, method, raw, options.mode ?? 'noGrad'))));
  }

  /** Training mode (BatchNorm uses batch statistics, Dropout drops). Returns this. */
  train(on = true): this {
    if (on && !this.#warnedTraced) {
      const frozen = this.frozenModeModules();
      if (frozen.length > 0) {
        this.#warnedTraced = true;
        process.emitWarning(
          `${this.file ?? 'module'} looks traced, not scripted: ${frozen.join(', ')} keep the mode they were traced in, ` +
            'so train() cannot switch BatchNorm / Dropout. Export with torch.jit.script to train it.',
          { code: 'SLICE_DISTILL_TRACED_MODULE' },
        );
      }
    }
    this.raw.train(on);
    return this;
  }

  eval(): this {
    this.raw.train(false);
    return this;
  }

  get isTraining(): boolean {
    return this.raw.isTraining();
  }

  /**
   * BatchNorm / InstanceNorm / Dropout submodules whose forward ignores the training flag,
   * as torch.jit.trace leaves them; empty for a scripted module.
   */
  frozenModeModules(): string[] {
    return this.raw.frozenModeModules();
  }

  /** True where the module was evidently traced (see frozenModeModules). */
  get isTraced(): boolean {
    return this.frozenModeModules().length > 0;
  }

  /** All parameters, recursively; each a new Tensor sharing the module's storage. */
  parameters(): Tensor[] {
    return this.raw.namedParameters().map(([, h]) => wrap(h));
  }

  namedParameters(): Map<string, Tensor> {
    return new Map(this.raw.namedParameters().map(([n, h]) => [n, wrap(h)]));
  }

  buffers(): Tensor[] {
    return this.raw.namedBuffers().map(([, h]) => wrap(h));
  }

  namedBuffers(): Map<string, Tensor> {
    return new Map(this.raw.namedBuffers().map(([n, h]) => [n, wrap(h)]));
  }

  /** Parameters and buffers by name (views of the live values, as in PyTorch). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the module's parameters and buffers. Strict (the default) refuses
   * missing and unexpected names with a RangeError listing them; shapes must match.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const entries = state instanceof Map ? [...state.entries()] : Object.entries(state);
    const raw: Record<string, Handle> = {};
    for (const [k, v] of entries) raw[k] = v.handle;
    return this.raw.loadStateDict(raw, options.strict ?? true);
  }

  /** Total number of parameter elements. */
  parameterCount(): number {
    let n = 0;
    for (const p of this.parameters()) {
      n += p.numel;
      p.dispose();
    }
    return n;
  }

  /** Moves parameters and buffers to a device, or converts them to a floating dtype. */
  to(target: Device | DType): this {
    if (isDType(target)) {
      this.raw.to(null, target);
    } else {
      this.raw.to(target, null);
      this.#device = target;
    }
    return this;
  }

  /** Saves a TorchScript archive (with its extra files), atomically. */
  save(file: string): void {
    replaceAtomicSync(path.resolve(file), (temp) => this.raw.save(temp));
  }

  /** Stops gradients for every parameter (requiresGrad false), e.g. for a teacher. */
  freeze(): this {
    this.raw.freeze();
    return this;
  }

  methodNames(): string[] {
    return this.raw.methodNames();
  }

  #firstParameterDevice(): Device {
    const first = this.raw.namedParameters()[0];
    if (!first) return 'cpu';
    const device = native.device(first[1]) as Device;
    first[1].dispose();
    return device;
  }
}

function disposeAllBut(value: ModuleOutput, keep: Tensor): void {
  if (value === null || typeof value !== 'object' || value === keep) return;
  if ('dispose' in value && typeof value.dispose === 'function') {
    (value as Tensor).dispose();
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) disposeAllBut(v, keep);
}
