// Training checkpoints: the module (a whole TorchScript archive, so a checkpoint runs on its
// own), the optimizer's state, the random generators, and the loop's position and metrics,
// in one PyTorch pickle (torch.load reads it) written atomically.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, TorchError, isTorchErrorOf } from '../errors.js';
import { native, type Handle } from '../native/addon.js';
import { ScriptModule } from '../module/script-module.js';
import type { Optimizer, OptimizerState, ParamState } from '../optim/optimizer.js';
import { buildInfo } from '../runtime.js';
import type { Device } from '../tensor/dtype.js';
import { tensor } from '../tensor/factories.js';
import { scope } from '../tensor/scope.js';
import { type Tensor, wrap } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const CHECKPOINT_FORMAT = 'slice-distill-checkpoint/1';

export type Metrics = Record<string, number | string | boolean | null | number[]>;

export interface CheckpointContent {
  module: ScriptModule;
  optimizer?: Optimizer;
  epoch?: number;
  step?: number;
  metrics?: Metrics;
  /** Anything JSON the caller wants back (config, best score, ...). */
  extra?: unknown;
  /** Save the random generators' state (default true), so a resumed run draws the same numbers. */
  rng?: boolean;
}

interface Meta {
  epoch: number;
  step: number;
  metrics: Metrics;
  extra: unknown;
  training: boolean;
  savedAt: string;
  torchVersion: string;
  optimizer: { kind: string; lr: number; steps: (number | null)[]; present: boolean[] } | null;
  rng: { cuda: number } | null;
}

const PARAM_KEYS = ['momentumBuffer', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;

/** Writes a checkpoint atomically: a killed process leaves the previous file intact. */
export async function saveCheckpoint(file: string, content: CheckpointContent): Promise<void> {
  const bytes = scope(() => {
    const tensors: Record<string, Handle> = {};
    const moduleBytes = native.moduleToBuffer(content.module.raw);
    tensors.module = tensor(new Uint8Array(moduleBytes.buffer, moduleBytes.byteOffset, moduleBytes.byteLength), [moduleBytes.byteLength]).handle;
    let optimizer: Meta['optimizer'] = null;
    if (content.optimizer) {
      const state = content.optimizer.stateDict();
      optimizer = { kind: state.kind, lr: state.lr, steps: [], present: [] };
      state.state.forEach((entry, i) => {
        optimizer!.present.push(entry !== null);
        optimizer!.steps.push(entry?.step ?? null);
        for (const key of PARAM_KEYS) {
          const t = entry?.[key];
          if (t) tensors[`optimizer.${i}.${key}`] = t.handle;
        }
      });
      if (state.scaler) {
        tensors['optimizer.scaler.scale'] = state.scaler.scale.handle;
        tensors['optimizer.scaler.growthTracker'] = state.scaler.growthTracker.handle;
      }
    }
    let rng: Meta['rng'] = null;
    if (content.rng ?? true) {
      const state = native.rngState();
      tensors['rng.cpu'] = wrap(state.cpu).handle;
      state.cuda.forEach((h, i) => (tensors[`rng.cuda.${i}`] = wrap(h).handle));
      rng = { cuda: state.cuda.length };
    }
    const meta: Meta = {
      epoch: content.epoch ?? 0,
      step: content.step ?? 0,
      metrics: content.metrics ?? {},
      extra: content.extra ?? null,
      training: content.module.isTraining,
      savedAt: new Date().toISOString(),
      torchVersion: buildInfo().torchVersion,
      optimizer,
      rng,
    };
    return native.pickleSave(CHECKPOINT_FORMAT, JSON.stringify(meta), tensors);
  });
  await writeFileAtomic(path.resolve(file), bytes);
}

export interface LoadCheckpointOptions {
  /** Copy the weights into this module (strict names and shapes) instead of making a new one. */
  module?: ScriptModule;
  /** Restore this optimizer's state (it must be over the same parameters, in the same order). */
  optimizer?: Optimizer;
  /** Where a new module goes (default: the CPU, or `module`'s device). */
  device?: Device;
  /** Restore the random generators (default true). */
  rng?: boolean;
}

export interface LoadedCheckpoint {
  /** `options.module` with the weights loaded, or the module stored in the checkpoint. */
  module: ScriptModule;
  epoch: number;
  step: number;
  metrics: Metrics;
  extra: unknown;
  savedAt: string;
  torchVersion: string;
}

function fail(file: string, message: string): never {
  throw new CheckpointError(`${file}: ${message}`, file);
}

/** The file's bytes as the pickled archive: its metadata and its tensors (the caller disposes them). */
async function readArchive(file: string): Promise<{ resolved: string; meta: Meta; tensors: Map<string, Tensor> }> {
  const resolved = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(resolved);
  } catch (e) {
    fail(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let loaded: { format: string; meta: string; tensors: Record<string, Handle> };
  try {
    loaded = native.pickleLoad(bytes);
  } catch (e) {
    if (isTorchErrorOf(e, 'CheckpointError')) fail(file, e.message);
    throw e;
  }
  const tensors = new Map(Object.entries(loaded.tensors).map(([k, h]) => [k, wrap(h)]));
  try {
    if (loaded.format !== CHECKPOINT_FORMAT) fail(file, `format '${loaded.format}' is not ${CHECKPOINT_FORMAT}`);
    try {
      return { resolved, meta: JSON.parse(loaded.meta) as Meta, tensors };
    } catch {
      fail(file, 'its metadata is not valid JSON');
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
}

/** A checkpoint's position, metrics and extra JSON, without loading its module or optimizer. */
export async function readCheckpointInfo(file: string): Promise<Omit<LoadedCheckpoint, 'module'>> {
  const { meta, tensors } = await readArchive(file);
  for (const t of tensors.values()) t.dispose();
  return { epoch: meta.epoch, step: meta.step, metrics: meta.metrics, extra: meta.extra, savedAt: meta.savedAt, torchVersion: meta.torchVersion };
}

/** Reads a checkpoint; a missing, truncated or foreign file is a CheckpointError. */
export async function loadCheckpoint(file: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const { resolved, meta, tensors } = await readArchive(file);
  try {
    const moduleBytes = tensors.get('module');
    if (!moduleBytes) fail(file, 'holds no module');
    // an explicit device always: the storages of a module saved on a GPU name CUDA, and
    // without one they would be put back there (or fail on a machine without a GPU)
    const device = options.device ?? options.module?.device ?? 'cpu';
    const stored = new ScriptModule(moduleFromBytes(file, moduleBytes, device), resolved, device);
    let module = stored;
    if (options.module) {
      module = options.module;
      scope(() => {
        try {
          module.loadStateDict(stored.stateDict(), { strict: true });
        } catch (e) {
          fail(file, `does not fit the given module: ${(e as Error).message}`);
        }
      });
    }
    module.train(meta.training);
    if (options.optimizer) restoreOptimizer(file, options.optimizer, meta, tensors);
    if ((options.rng ?? true) && meta.rng) {
      const cpu = tensors.get('rng.cpu');
      if (!cpu) fail(file, 'rng state missing');
      const cuda: Handle[] = [];
      for (let i = 0; i < meta.rng.cuda; i++) {
        const t = tensors.get(`rng.cuda.${i}`);
        if (t) cuda.push(t.handle);
      }
      native.setRngState({ cpu: cpu.handle, cuda });
    }
    return {
      module,
      epoch: meta.epoch,
      step: meta.step,
      metrics: meta.metrics,
      extra: meta.extra,
      savedAt: meta.savedAt,
      torchVersion: meta.torchVersion,
    };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function moduleFromBytes(file: string, bytes: Tensor, device: Device) {
  const data = bytes.toArray() as Uint8Array;
  try {
    return native.moduleFromBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), device, ['metadata.json']);
  } catch (e) {
    if (e instanceof TorchError) fail(file, e.message);
    throw e;
  }
}

function restoreOptimizer(file: string, optimizer: Optimizer, meta: Meta, tensors: Map<string, Tensor>): void {
  const saved = meta.optimizer;
  if (!saved) fail(file, 'holds no optimizer state');
  if (saved.kind !== optimizer.kind) fail(file, `holds a '${saved.kind}' optimizer state, not '${optimizer.kind}'`);
  if (saved.present.length !== optimizer.size) {
    fail(file, `its optimizer had ${saved.present.length} parameters, this one has ${optimizer.size}`);
  }
  const state: OptimizerState = {
    kind: optimizer.kind,
    lr: saved.lr,
    state: saved.present.map((present, i) => {
      if (!present) return null;
      const entry: ParamState = {};
      if (saved.steps[i] !== null) entry.step = saved.steps[i]!;
      for (const key of PARAM_KEYS) {
        const t = tensors.get(`optimizer.${i}.${key}`);
        if (t) entry[key] = t;
      }
      return entry;
    }),
  };
  const scale = tensors.get('optimizer.scaler.scale');
  const growth = tensors.get('optimizer.scaler.growthTracker');
  if (scale && growth) state.scaler = { scale, growthTracker: growth };
  try {
    optimizer.loadStateDict(state);
  } catch (e) {
    fail(file, `its optimizer state does not fit: ${(e as Error).message}`);
  }
}
