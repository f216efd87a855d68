#!/usr/bin/env node
// Finds LibTorch for the addon build, in the order docs/design.md fixes:
//   1. LIBTORCH (a LibTorch folder) or Torch_DIR (its share/cmake/Torch folder);
//   2. the torch package of the Python named by PYTHON (default python3);
//   3. a project-local .venv, created and pip-installed on demand.
// Both build systems (cmake-js and node-gyp) ask this script, so they always agree.
// The answer is cached in .libtorch.json next to package.json (SLICE_DISTILL_LIBTORCH_CACHE
// moves it), keyed on the inputs. SLICE_DISTILL_VENV moves the venv of step 3;
// SLICE_DISTILL_NO_VENV=1 forbids creating it.
//
// CLI: node scripts/libtorch.mjs            -> prints the JSON description
//      node scripts/libtorch.mjs --get KEY  -> prints one field (arrays space-separated)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printAnswerWhenMain } from './print-answer.mjs';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheFile = process.env.SLICE_DISTILL_LIBTORCH_CACHE || path.join(projectRoot, '.libtorch.json');
const venvDir = process.env.SLICE_DISTILL_VENV ? path.resolve(process.env.SLICE_DISTILL_VENV) : path.join(projectRoot, '.venv');

// Run inside a Python to describe its torch; prints one JSON line.
const PY_PROBE = [
  'import json, os, torch, torch.utils',
  'root = os.path.dirname(torch.__file__)',
  'print(json.dumps({"root": root, "version": torch.__version__,',
  '  "cmakePrefix": torch.utils.cmake_prefix_path, "cudaVersion": torch.version.cuda}))',
].join('\n');

function log(msg) {
  process.stderr.write(`[slice-distill] ${msg}\n`);
}

/** Describes a LibTorch folder (root holds include/, lib/, share/cmake/Torch). */
function describeRoot(root, source, extra = {}) {
  const libDir = path.join(root, 'lib');
  const include = [path.join(root, 'include'), path.join(root, 'include', 'torch', 'csrc', 'api', 'include')];
  const torchConfig = path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  for (const p of [include[0], libDir, torchConfig]) {
    if (!existsSync(p)) throw new Error(`${root} is not a LibTorch folder: ${p} is missing`);
  }
  const cuda = existsSync(path.join(libDir, 'libtorch_cuda.so'));
  return {
    source,
    root,
    include,
    libDir,
    cmakePrefix: path.join(root, 'share', 'cmake'),
    torchDir: path.join(root, 'share', 'cmake', 'Torch'),
    cuda,
    version: extra.version ?? readVersion(root),
    python: extra.python ?? null,
    openmpRuntime: openmpRuntime(root, libDir),
  };
}

/**
 * The OpenMP runtime to link where LibTorch parallelises with OpenMP, else ''. at::parallel_for
 * is a header template: it splits a range over threads only in code compiled with -fopenmp
 * (elsewhere it runs the whole range on the caller), so the addon compiles with -fopenmp and
 * links the runtime LibTorch itself loads (its bundled libgomp / libiomp5), never a second
 * one; '-fopenmp' where LibTorch uses the compiler's own.
 */
function openmpRuntime(root, libDir) {
  const config = path.join(root, 'include', 'ATen', 'Config.h');
  if (!existsSync(config) || !/#define AT_PARALLEL_OPENMP 1/.test(readFileSync(config, 'utf8'))) return '';
  const bundled = readdirSync(libDir).find((f) => /^lib(gomp|iomp5)[-.\w]*\.so[.\d]*$/.test(f));
  return bundled ? path.join(libDir, bundled) : '-fopenmp';
}

function readVersion(root) {
  const header = path.join(root, 'include', 'torch', 'csrc', 'api', 'include', 'torch', 'version.h');
  if (!existsSync(header)) return 'unknown';
  const m = /TORCH_VERSION\s+"([^"]+)"/.exec(readFileSync(header, 'utf8'));
  return m ? m[1] : 'unknown';
}

function probePython(python) {
  const out = execFileSync(python, ['-c', PY_PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = JSON.parse(out.trim().split('\n').pop());
  return describeRoot(info.root, `python:${python}`, { version: info.version, python });
}

function createVenv() {
  const spec = process.env.SLICE_DISTILL_TORCH_SPEC || 'torch';
  const basePython = process.env.PYTHON || 'python3';
  const venvPython = path.join(venvDir, 'bin', 'python');
  if (!existsSync(venvPython)) {
    log(`creating ${venvDir} with ${basePython}`);
    run(basePython, ['-m', 'venv', venvDir]);
  }
  log(`pip install ${spec} numpy into ${venvDir} (this takes a few minutes once)`);
  run(venvPython, ['-m', 'pip', 'install', '--quiet', spec, 'numpy']);
  return venvPython;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function cacheKey() {
  return JSON.stringify({
    format: 2, // the description's fields: a cache written before openmpRuntime is redone
    LIBTORCH: process.env.LIBTORCH ?? null,
    Torch_DIR: process.env.Torch_DIR ?? null,
    PYTHON: process.env.PYTHON ?? null,
    venv: venvDir,
  });
}

/** Resolves LibTorch, creating the .venv if nothing else has torch. Throws with every attempt listed. */
export function resolveLibtorch({ useCache = true } = {}) {
  const key = cacheKey();
  if (useCache && existsSync(cacheFile)) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
      if (cached.key === key && existsSync(cached.libtorch.libDir)) return cached.libtorch;
    } catch {
      /* a broken cache is simply redone */
    }
  }
  const tried = [];
  const attempt = (label, fn) => {
    try {
      return fn();
    } catch (e) {
      tried.push(`${label}: ${String(e.message ?? e).split('\n')[0]}`);
      return null;
    }
  };
  let found = null;
  if (process.env.LIBTORCH) found = attempt(`LIBTORCH=${process.env.LIBTORCH}`, () => describeRoot(path.resolve(process.env.LIBTORCH), 'LIBTORCH'));
  if (!found && process.env.Torch_DIR) {
    found = attempt(`Torch_DIR=${process.env.Torch_DIR}`, () => describeRoot(path.resolve(process.env.Torch_DIR, '..', '..', '..'), 'Torch_DIR'));
  }
  const python = process.env.PYTHON || 'python3';
  if (!found) found = attempt(`torch of ${python}`, () => probePython(python));
  const venvPython = path.join(venvDir, 'bin', 'python');
  if (!found && existsSync(venvPython)) found = attempt(`torch of ${venvPython}`, () => probePython(venvPython));
  if (!found && process.env.SLICE_DISTILL_NO_VENV) tried.push(`a new ${venvDir}: skipped (SLICE_DISTILL_NO_VENV is set)`);
  else if (!found) found = attempt(`a new ${venvDir} with pip`, () => probePython(createVenv()));
  if (!found) {
    throw new Error(
      'slice-distill could not find LibTorch. Tried, in order:\n' +
        tried.map((t) => `  - ${t}`).join('\n') +
        '\nSet LIBTORCH to a LibTorch folder, or PYTHON to a Python that has torch installed.',
    );
  }
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ key, libtorch: found }, null, 2));
  renameSync(tmp, cacheFile);
  log(`LibTorch ${found.version} (${found.cuda ? 'CUDA' : 'CPU'}) from ${found.source}: ${found.root}`);
  return found;
}

printAnswerWhenMain(import.meta.url, resolveLibtorch, '');
