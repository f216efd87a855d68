// Models of the pipeline: a TorchScript file or a training checkpoint (which holds the whole
// module) loaded the same way; fresh students and teachers exported from the Python zoo.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { barrier, rank } from '../distributed/process-group.js';
import { exportModel, type ModelArch, type ModelPreset } from '../models/export.js';
import { ScriptModule } from '../module/script-module.js';
import type { Device } from '../tensor/dtype.js';
import { loadCheckpoint } from '../train/checkpoint.js';

/** Loads a .ckpt checkpoint's module or a TorchScript file. */
export async function loadModel(file: string, device: Device = 'cpu'): Promise<ScriptModule> {
  if (file.endsWith('.ckpt')) return (await loadCheckpoint(file, { device, rng: false })).module;
  return ScriptModule.load(file, { device });
}

/**
 * The initial weights of a model to train: `given` where the config names a file, else a
 * fresh export of arch / preset (seeded) into `dir`/initial.pt, reused when already there.
 */
export async function initialModel(o: { given?: string; arch: ModelArch; preset: ModelPreset; dir: string; seed: number; device: Device; signal?: AbortSignal }): Promise<ScriptModule> {
  if (o.given) return loadModel(o.given, o.device);
  const file = path.join(o.dir, 'initial.pt');
  // data-parallel: rank 0 exports, the others load its file (and take its weights at the first step anyway)
  if (rank() === 0 && !existsSync(file)) await exportModel({ arch: o.arch, preset: o.preset, out: file, seed: o.seed, signal: o.signal });
  await barrier();
  return ScriptModule.load(file, { device: o.device });
}
