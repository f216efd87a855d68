// Models of the pipeline: a TorchScript file or a training checkpoint (which holds the whole
// module) loaded the same way; fresh students and teachers exported from the Python zoo.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { barrier, rank } from '../distributed/process-group.js';
import { exportModel, type ModelArch, type ModelPreset } from '../models/export.js';
import { ScriptModule } from '../module/script-module.js';
import type { Device } from '../tensor/dtype.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import type { InitWeights } from './config.js';
import { fileStamp } from './manifest.js';

/** Loads a .ckpt checkpoint's module or a TorchScript file. */
export async function loadModel(file: string, device: Device = 'cpu'): Promise<ScriptModule> {
  if (file.endsWith('.ckpt')) return (await loadCheckpoint(file, { device, rng: false })).module;
  return ScriptModule.load(file, { device });
}

/**
 * The initial weights of a model to train: `given` where the config names a TorchScript file,
 * else a fresh export of arch / preset (seeded) into `dir`, loaded with the `init` state_dict
 * where one is given (a published checkpoint's through its format's key mapping). The export
 * is named by what it was made from, so a changed init file is exported again.
 */
export async function initialModel(o: {
  given?: string;
  init?: InitWeights;
  arch: ModelArch;
  preset: ModelPreset;
  dir: string;
  seed: number;
  device: Device;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<ScriptModule> {
  if (o.given) return loadModel(o.given, o.device);
  const from = o.init
    ? createHash('sha256')
        .update(JSON.stringify({ ...o.init, stamp: fileStamp(o.init.path) }))
        .digest('hex')
        .slice(0, 12)
    : null;
  const file = path.join(o.dir, from ? `initial-${from}.pt` : 'initial.pt');
  // data-parallel: rank 0 exports, the others load its file (and take its weights at the first step anyway)
  if (rank() === 0 && !existsSync(file)) {
    const exported = await exportModel({
      arch: o.arch,
      preset: o.preset,
      out: file,
      seed: o.seed,
      signal: o.signal,
      weights: o.init?.path,
      weightsFormat: o.init?.format,
    });
    const r = exported.weightsReport;
    if (r)
      o.log?.(
        `${o.arch}: ${o.init!.path} (${r.mapping}): ${r.mapped} tensors mapped, ${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.mismatched.length} of another shape, ${r.uncovered} outside the checkpoint (initialised as usual)`,
      );
  }
  await barrier();
  return ScriptModule.load(file, { device: o.device });
}
