// Exports a model of the zoo (python/slice_distill_models) as a TorchScript archive by running
// `python -m slice_distill_models.export` with the project's Python: the one LibTorch was
// found in (recorded in .libtorch.json), or $PYTHON.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelMetadata } from '../module/script-module.js';

import { MODEL_ARCHS, type ModelArch, type Preset } from './archs.js';

export { MODEL_ARCHS, PRESETS, type ModelArch, type Preset } from './archs.js';
/** @deprecated the same as Preset. */
export type ModelPreset = Preset;
export const MODEL_FORMAT = 'slice-distill-model/1';

export interface ExportModelOptions {
  arch: ModelArch;
  /** 'base' (the paper's size, the default) or 'tiny' (a few channels, small input; for tests). */
  preset?: ModelPreset;
  /** Output channels C (default 7). */
  classes?: number;
  /** The TorchScript file to write (atomically); its folder is created. */
  out: string;
  /** A Python state_dict (.pt / .pth, or a checkpoint dict holding one) loaded strictly before export. */
  weights?: string;
  /**
   * Where `weights` come from, mapped to this zoo's names (python/slice_distill_models/weight_maps.py);
   * absent: this project's own names, loaded strictly.
   */
  weightsFormat?: WeightsFormat;
  /** With weightsFormat: fail on any missing, unexpected or mismatched key (default: report them). */
  strict?: boolean;
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  /** Run one forward on a zero input of the preset size before saving (default true). */
  check?: boolean;
  /** The Python to run (default: $PYTHON, else the one in .libtorch.json, else python3). */
  python?: string;
  signal?: AbortSignal;
}

/** metadata.json of an exported model, as ScriptModule#metadata returns it. */
export interface ExportedModelMetadata extends ModelMetadata {
  format: typeof MODEL_FORMAT;
  arch: ModelArch;
  preset: ModelPreset;
  classes: number;
  inputSize: number[];
  spatialDims: 2 | 3;
  inChannels: number;
  output: 'logits';
  parameters: number;
  config: Record<string, unknown>;
  seed: number;
  /** File name of the weights loaded, or null for a random initialisation. */
  weights: string | null;
  weightsFormat?: WeightsFormat | null;
  torchVersion: string;
}

/** Published checkpoints the exporter maps (see weightsFormat), and the architecture each fits. */
export const WEIGHTS_FORMATS = {
  'torchvision-resnet50': 'deeplabv3',
  'torchvision-deeplabv3': 'deeplabv3',
  'timm-swin': 'swin_unet',
  'monai-unest': 'unest',
} as const satisfies Record<string, ModelArch>;
export type WeightsFormat = keyof typeof WEIGHTS_FORMATS;

/** What a weightsFormat export mapped: counts and the keys that did not fit, by name. */
export interface WeightsReport {
  mapping: WeightsFormat;
  mapped: number;
  missing: string[];
  unexpected: string[];
  mismatched: string[];
  dropped: number;
  reinitialised: string[];
  uncovered: number;
}

export interface ExportedModel {
  path: string;
  metadata: ExportedModelMetadata;
  /** With weightsFormat. */
  weightsReport?: WeightsReport;
}

/** The export failed: bad arguments, weights that do not fit (exitCode 2), or a Python error. */
export class ExportError extends Error {
  constructor(
    message: string,
    /** The Python process's exit code (null when it did not start or was killed). */
    readonly exitCode: number | null,
    /** Everything the process wrote to stderr. */
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

const STDERR_LINES = 25;
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** $PYTHON, else the Python recorded by LibTorch discovery (.libtorch.json), else 'python3'. */
export function projectPython(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  const cache = path.join(packageRoot, '.libtorch.json');
  if (existsSync(cache)) {
    try {
      const python = (JSON.parse(readFileSync(cache, 'utf8')) as { libtorch?: { python?: unknown } }).libtorch?.python;
      if (typeof python === 'string' && existsSync(python)) return python;
    } catch {
      // an unreadable cache falls through to python3
    }
  }
  return 'python3';
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function exportArgs(o: ExportModelOptions, out: string): string[] {
  if (!MODEL_ARCHS.includes(o.arch)) throw new TypeError(`arch must be one of ${MODEL_ARCHS.join(', ')}, got ${String(o.arch)}`);
  const classes = o.classes ?? 7;
  if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`classes must be a positive integer, got ${classes}`);
  const args = ['-m', 'slice_distill_models.export', '--arch', o.arch, '--preset', o.preset ?? 'base'];
  args.push('--classes', String(classes), '--out', out);
  if (o.weights !== undefined) args.push('--weights', path.resolve(o.weights));
  if (o.weightsFormat !== undefined) {
    const fits = (WEIGHTS_FORMATS as Record<string, ModelArch>)[o.weightsFormat];
    if (!fits) throw new TypeError(`weightsFormat must be one of ${Object.keys(WEIGHTS_FORMATS).join(', ')}, got ${String(o.weightsFormat)}`);
    if (fits !== o.arch) throw new TypeError(`weightsFormat ${o.weightsFormat} maps to ${fits}, not ${o.arch}`);
    if (o.weights === undefined) throw new TypeError('weightsFormat needs weights');
    args.push('--weights-format', o.weightsFormat);
    if (o.strict) args.push('--strict');
  }
  if (o.seed !== undefined) {
    if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
    args.push('--seed', String(o.seed));
  }
  if (o.check === false) args.push('--no-check');
  return args;
}

/**
 * Builds the architecture in Python (optionally loading a state_dict), compiles it with
 * torch.jit.script and writes it with its metadata; resolves to the file and the metadata
 * that ScriptModule.load exposes as `module.metadata`. Invalid options reject with a
 * TypeError / RangeError; a failed export rejects with an ExportError.
 */
export async function exportModel(options: ExportModelOptions): Promise<ExportedModel> {
  const out = path.resolve(options.out);
  const args = exportArgs(options, out);
  const python = options.python ?? projectPython();
  const pythonPath = [path.join(packageRoot, 'python'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `Python not found: ${python} (set PYTHON or run npm install)` : e.message;
      reject(new ExportError(`export of ${options.arch} failed: ${why}`, null, stderr));
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const how = code === null ? `killed by ${signal}` : `exit code ${code}`;
        const tail = lastLines(stderr, STDERR_LINES);
        reject(new ExportError(`export of ${options.arch}/${options.preset ?? 'base'} failed (${how})${tail ? `:\n${tail}` : ''}`, code, stderr));
        return;
      }
      const line = stdout.trimEnd().split('\n').pop() ?? '';
      try {
        const result = JSON.parse(line) as { path: string; metadata: ExportedModelMetadata & { weightsReport?: WeightsReport } };
        const { weightsReport, ...metadata } = result.metadata;
        resolve({ path: result.path, metadata, ...(weightsReport ? { weightsReport } : {}) });
      } catch {
        reject(new ExportError(`export of ${options.arch}: unexpected output from Python: ${lastLines(stdout, 5)}`, code, stderr));
      }
    });
  });
}
