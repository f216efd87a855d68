// Each stage writes its outputs and a manifest.json into its own folder of the run: inputs,
// config, versions, seed, metrics and timing. A finished stage whose inputs and config are
// unchanged is not redone (experiments resume stage by stage).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { buildInfo } from '../runtime.js';
import { releaseCachedMemory } from '../tensor/allocator.js';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic-write.js';
import { lockDir } from '../util/dir-lock.js';
import { rank } from '../distributed/process-group.js';

export const MANIFEST = 'manifest.json';

export interface Manifest {
  stage: string;
  status: 'done';
  /** Hash of the stage's config and inputs: a change means the stage must run again. */
  key: string;
  inputs: Record<string, unknown>;
  config: unknown;
  outputs: Record<string, string>;
  metrics: Record<string, unknown>;
  seed: number;
  versions: { slice_distill: string; torch: string; node: string; cudaBuild: boolean };
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

let packageVersion: string | null = null;
function ownVersion(): string {
  if (packageVersion) return packageVersion;
  let dir = path.dirname(new URL(import.meta.url).pathname);
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  packageVersion = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return packageVersion;
}

export function stageKey(config: unknown, inputs: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ config, inputs })).digest('hex').slice(0, 16);
}

/**
 * Paths inside the run are stored relative to the stage folder, so a copied or moved run
 * folder points at its own files, not at the original's.
 */
function relativePaths(value: unknown, dir: string): unknown {
  if (typeof value === 'string') {
    if (!path.isAbsolute(value)) return value;
    const rel = path.relative(dir, value);
    return rel.startsWith('..' + path.sep) || rel === '..' || path.isAbsolute(rel) ? value : rel || '.';
  }
  if (Array.isArray(value)) return value.map((v) => relativePaths(v, dir));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativePaths(v, dir)]));
  return value;
}

/** The manifest's outputs as paths (relative ones resolved against its folder). */
function resolveOutputs(outputs: Record<string, string>, dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, typeof v === 'string' && !path.isAbsolute(v) ? path.resolve(dir, v) : v]));
}

/** The manifest of a finished stage in `dir` with this key, or null (outputs as absolute paths). */
export function finishedStage(dir: string, key: string): Manifest | null {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return null;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (m.status !== 'done' || m.key !== key) return null;
    return { ...m, outputs: resolveOutputs(m.outputs ?? {}, path.resolve(dir)) };
  } catch {
    return null;
  }
}

export interface StageRun<T> {
  outputs: Record<string, string>;
  metrics: Record<string, unknown>;
  result: T;
}

/**
 * Runs `work` for a stage in `dir` unless a finished run with the same key is there (then
 * `reuse` rebuilds the result from its manifest). Writes manifest.json when the work is done.
 */
export async function runStage<T>(options: {
  stage: string;
  dir: string;
  config: unknown;
  inputs: Record<string, unknown>;
  seed: number;
  force?: boolean;
  work: () => Promise<StageRun<T>>;
  reuse: (manifest: Manifest) => T;
}): Promise<{ result: T; manifest: Manifest; reused: boolean }> {
  const key = stageKey(options.config, options.inputs);
  const done = options.force ? null : finishedStage(options.dir, key);
  if (done) return { result: options.reuse(done), manifest: done, reused: true };
  await mkdir(options.dir, { recursive: true });
  // data-parallel: rank 0 owns the folder (lock, manifest); the other ranks only train
  if (rank() !== 0) return runLocked(options, key, false);
  // one process per stage folder: a second one would interleave or delete the first's files
  const lock = lockDir(options.dir, `stage ${options.stage}`);
  try {
    const again = options.force ? null : finishedStage(options.dir, key); // finished while we waited
    if (again) return { result: options.reuse(again), manifest: again, reused: true };
    removeStaleTemps(options.dir);
    return await runLocked(options, key, true);
  } finally {
    lock.release();
  }
}

async function runLocked<T>(
  options: Parameters<typeof runStage<T>>[0],
  key: string,
  write: boolean,
): Promise<{ result: T; manifest: Manifest; reused: boolean }> {
  const started = new Date();
  let run: StageRun<T>;
  try {
    run = await options.work();
  } finally {
    releaseCachedMemory(); // the next stage works with other models and sizes
  }
  const info = buildInfo();
  const finished = new Date();
  const manifest: Manifest = {
    stage: options.stage,
    status: 'done',
    key,
    inputs: options.inputs,
    config: options.config,
    outputs: run.outputs,
    metrics: run.metrics,
    seed: options.seed,
    versions: { slice_distill: ownVersion(), torch: info.torchVersion, node: process.version, cudaBuild: info.cudaBuild },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    seconds: (finished.getTime() - started.getTime()) / 1000,
  };
  if (!write) return { result: run.result, manifest, reused: false };
  const dir = path.resolve(options.dir);
  const stored = { ...manifest, inputs: relativePaths(manifest.inputs, dir), outputs: relativePaths(manifest.outputs, dir) };
  await writeFileAtomic(path.join(options.dir, MANIFEST), JSON.stringify(stored, null, 1) + '\n');
  return { result: run.result, manifest, reused: false };
}

/** A file's identity for stage keys: a re-written file (new size or time) means a new input. */
export function fileStamp(file: string): { file: string; bytes: number; mtime: number } {
  const s = statSync(file);
  return { file, bytes: s.size, mtime: Math.round(s.mtimeMs) };
}
