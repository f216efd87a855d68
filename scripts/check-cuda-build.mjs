#!/usr/bin/env node
// Proves the CUDA build without a GPU (npm run check:cuda-build):
//   1. a CUDA torch pip-installed into a cache venv (reused when already there);
//   2. the addon built with cmake-js against it into build-cuda/ (--gyp: node-gyp as well, in a
//      copy of the sources, since node-gyp always writes ./build);
//   3. ldd shows libtorch_cuda and nothing "not found";
//   4. it loads in Node: buildInfo().cudaBuild is true, cuda.isAvailable() is false without a GPU;
//   5. CPU test files pass with that build (SLICE_DISTILL_ADDON).
// Leaves the default build (build-cmake/, .venv, .libtorch.json) alone.
//
// SLICE_DISTILL_CUDA_CACHE   cache folder (default ~/.cache/slice-distill/cuda-torch)
// SLICE_DISTILL_CUDA_TORCH   the torch requirement (default torch==2.14.1, a CUDA 13 wheel)
// options: --out DIR (default build-cuda), --gyp, --no-tests,
//          --if-toolkit (CI: exit 0 with a note where no CUDA toolkit is installed)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findToolkitRoot } from './cuda-toolkit.mjs';
import { projectRoot } from './libtorch.mjs';

const cacheDir = path.resolve(process.env.SLICE_DISTILL_CUDA_CACHE || path.join(os.homedir(), '.cache', 'slice-distill', 'cuda-torch'));
const torchSpec = process.env.SLICE_DISTILL_CUDA_TORCH || 'torch==2.14.1';
const outAt = process.argv.indexOf('--out');
const outDir = outAt >= 0 ? process.argv[outAt + 1] : 'build-cuda';
const withGyp = process.argv.includes('--gyp');
const withTests = !process.argv.includes('--no-tests');
// CPU test files that cover the addon broadly: tensors, memory, modules, training, the fused ops, I/O, errors
const TEST_FILES = [
  'integration/build',
  'unit/tensor/math',
  'unit/tensor/shape',
  'unit/tensor/data',
  'unit/tensor/autograd',
  'unit/tensor/allocator',
  'unit/module/script-module',
  'unit/module/dispose',
  'unit/optim/optimizer',
  'unit/losses/losses',
  'unit/train/train-step',
  'unit/ops/prototypes',
  'unit/train/checkpoint',
  'unit/errors',
].map((f) => `test/${f}.test.ts`);

const venv = path.join(cacheDir, 'venv');
const python = path.join(venv, 'bin', 'python');
const libtorchCache = path.join(cacheDir, 'libtorch.json');
const started = Date.now();
const steps = [];

const secs = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
function log(msg) {
  process.stderr.write(`[check:cuda-build] ${msg}\n`);
}
function fail(msg) {
  log(`FAILED: ${msg}`);
  process.exit(1);
}
function step(name, fn) {
  log(`${name} ...`);
  const t0 = Date.now();
  const result = fn();
  steps.push([name, secs(t0)]);
  log(`${name}: done in ${secs(t0)} s`);
  return result;
}
function run(cmd, args, { env = process.env, cwd = projectRoot, capture = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: capture ? 'pipe' : 'inherit', maxBuffer: 64 << 20 });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  return r;
}
function must(r, what) {
  if (r.status !== 0) fail(`${what} exited with ${r.status}${r.stderr ? `:\n${r.stderr.slice(-4000)}` : ''}`);
  return r;
}

if (process.argv.includes('--if-toolkit')) {
  try {
    findToolkitRoot();
  } catch (e) {
    // no toolkit at all: a note; a CUDA_HOME that points nowhere is still an error
    if (e.code !== 'SD_NO_CUDA_TOOLKIT') fail(e.message);
    log(
      `skipped: no CUDA toolkit here (${e.message
        .split('\n')
        .slice(1, -1)
        .map((l) => l.trim().slice(2))
        .join('; ')})`,
    );
    process.exit(0);
  }
}

// Unreachable indexes fail at once instead of being retried for minutes per package.
const pipEnv = { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '0', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
// The environment of the builds: discovery sees the cache venv and caches its answer there.
const buildEnv = { ...process.env, PYTHON: python, SLICE_DISTILL_LIBTORCH_CACHE: libtorchCache };
delete buildEnv.LIBTORCH;
delete buildEnv.Torch_DIR;

function installedTorch() {
  if (!existsSync(python)) return null;
  const r = run(python, ['-c', 'import importlib.metadata as m; print(m.version("torch"))'], { capture: true });
  return r.status === 0 ? r.stdout.trim() : null;
}

step('1. CUDA torch in the cache venv', () => {
  const have = installedTorch();
  const torchLib = () =>
    spawnSync(python, ['-c', 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))'], { encoding: 'utf8' }).stdout.trim();
  const wanted = /==\s*([^\s;]+)/.exec(torchSpec)?.[1];
  if (have && (!wanted || have === wanted) && existsSync(path.join(torchLib(), 'lib', 'libtorch_cuda.so'))) {
    log(`reusing torch ${have} in ${venv}`);
    return;
  }
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(python)) must(run(process.env.PYTHON_FOR_VENV || 'python3', ['-m', 'venv', venv]), 'python3 -m venv');
  log(`pip install --no-deps ${torchSpec} into ${venv}`);
  must(run(python, ['-m', 'pip', 'install', '--quiet', '--no-deps', torchSpec], { env: pipEnv }), `pip install ${torchSpec}`);
  // The wheel's own requirements, but not cuda-bindings and triton: neither is needed to
  // build or load LibTorch, and the local index lacks cuda-bindings.
  const reqs = must(
    run(
      python,
      [
        '-c',
        [
          'import importlib.metadata as m',
          'for r in m.requires("torch") or []:',
          '    if "extra ==" not in r and not r.startswith(("cuda-bindings", "triton")): print(r)',
        ].join('\n'),
      ],
      { capture: true },
    ),
    'reading torch requirements',
  )
    .stdout.trim()
    .split('\n')
    .filter(Boolean);
  log(`pip install the wheel's ${reqs.length} requirements (nvidia-* libraries; cuda-bindings and triton left out)`);
  must(run(python, ['-m', 'pip', 'install', '--quiet', ...reqs], { env: pipEnv }), 'pip install of the torch requirements');
  if (!existsSync(path.join(torchLib(), 'lib', 'libtorch_cuda.so')))
    fail(`${torchSpec} has no libtorch_cuda.so: not a CUDA torch (set SLICE_DISTILL_CUDA_TORCH)`);
});

const addon = path.resolve(projectRoot, outDir, 'Release', 'slice_distill.node');
step(`2. cmake-js build into ${outDir}/`, () => {
  must(run(process.execPath, [path.join(projectRoot, 'scripts', 'build-addon.mjs'), '--out', outDir], { env: buildEnv }), 'build-addon.mjs');
});
const builds = [['cmake-js', addon]];
if (withGyp) {
  // node-gyp writes ./build, which the default addon search would pick up: build a copy
  const src = path.join(cacheDir, 'gyp-src');
  step('2b. node-gyp build (in a copy of the sources)', () => {
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    for (const f of ['binding.gyp', 'package.json', 'native', 'scripts']) cpSync(path.join(projectRoot, f), path.join(src, f), { recursive: true });
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(src, 'node_modules'));
    const npm = process.env.npm_execpath;
    const r = npm
      ? run(process.execPath, [npm, 'run', 'build:gyp'], { env: buildEnv, cwd: src })
      : run('npm', ['run', 'build:gyp'], { env: buildEnv, cwd: src });
    must(r, 'node-gyp build');
  });
  builds.push(['node-gyp', path.join(src, 'build', 'Release', 'slice_distill.node')]);
}

const checked = step('3. ldd and loading in Node', () =>
  builds.map(([name, file]) => {
    if (!existsSync(file)) fail(`${file} is missing`);
    const ldd = must(run('ldd', [file], { capture: true }), `ldd ${file}`).stdout;
    const missing = ldd.split('\n').filter((l) => /not found/.test(l));
    if (missing.length) fail(`${name}: libraries not found:\n${missing.join('\n')}`);
    const lines = ldd
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^lib(torch_cuda|c10_cuda|cudart|nvrtc)\b/.test(l));
    if (!lines.some((l) => l.startsWith('libtorch_cuda.so'))) fail(`${name}: ldd shows no libtorch_cuda.so:\n${ldd}`);
    const script = `
      import * as sd from ${JSON.stringify(path.join(projectRoot, 'lib', 'index.ts'))};
      const { parallelInfo, ...info } = sd.buildInfo();
      const y = sd.tensor([[1, 2], [3, 4]]).matmul(sd.tensor([1, 1])).toList();
      console.log(JSON.stringify({ ...info, cudaIsAvailable: sd.cuda.isAvailable(), cudaDeviceCount: sd.cuda.deviceCount(), y }));
    `;
    const r = must(
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, SLICE_DISTILL_ADDON: file },
        capture: true,
      }),
      `loading ${file}`,
    );
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (info.cudaBuild !== true) fail(`${name}: buildInfo().cudaBuild is ${info.cudaBuild}`);
    if (JSON.stringify(info.y) !== '[3,7]') fail(`${name}: a CPU matmul gave ${JSON.stringify(info.y)}`);
    const gpu = existsSync('/dev/nvidia0');
    if (!gpu && info.cudaIsAvailable !== false) fail(`${name}: cuda.isAvailable() is true with no /dev/nvidia0`);
    return { name, file, size: statSync(file).size, lines, info, gpu };
  }),
);

let tests = null;
if (withTests) {
  tests = step(`4. ${TEST_FILES.length} CPU test files with the CUDA build`, () => {
    // the tests' own Python (for reference values) stays the one of the default build
    const env = { ...process.env, SLICE_DISTILL_ADDON: addon, SLICE_DISTILL_LIBTORCH_CACHE: libtorchCache };
    delete env.PYTHON;
    const r = run(
      process.execPath,
      [
        '--import=tsx/esm',
        '--expose-gc',
        path.join(projectRoot, 'node_modules', 'mocha', 'lib', 'cli', 'cli.js'),
        '--no-config',
        '--no-package',
        '--timeout',
        '300000',
        '--reporter',
        path.join(projectRoot, 'test', 'support', 'summary-reporter.cjs'),
        ...TEST_FILES,
      ],
      { env, capture: true },
    );
    // not mocha's bare "N passed, N failed" line: CI takes the last such line as the suite's result
    process.stdout.write(r.stdout.replace(/^(\d+ passed, \d+ failed)/m, 'check:cuda-build tests: $1'));
    process.stderr.write(r.stderr);
    const m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(r.stdout);
    if (r.status !== 0 || !m) fail(`the tests with ${addon} failed (exit ${r.status})`);
    return { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) };
  });
}

const lines = ['', '== check:cuda-build: OK', `time: ${secs(started)} s in all (${steps.map(([n, s]) => `${n.split(' ')[0]} ${s} s`).join(', ')})`];
for (const c of checked) {
  lines.push(`${c.name}: ${c.file.startsWith(projectRoot) ? path.relative(projectRoot, c.file) : c.file}, ${(c.size / 2 ** 20).toFixed(2)} MiB`);
  for (const l of c.lines) lines.push(`  ldd: ${l}`);
  const { torchVersion, cudaBuild, napiVersion, cudaIsAvailable, cudaDeviceCount, distributed, distributedNccl } = c.info;
  lines.push(
    `  buildInfo: torch ${torchVersion}, cudaBuild ${cudaBuild}, napi ${napiVersion}, distributed ${distributed ?? false} (NCCL ${distributedNccl ?? false}); ` +
      `cuda.isAvailable() ${cudaIsAvailable}, deviceCount ${cudaDeviceCount} (${c.gpu ? 'a GPU is present' : 'no GPU here'})`,
  );
}
if (tests)
  lines.push(
    `tests (${TEST_FILES.map((f) => path.basename(f, '.test.ts')).join(', ')}): ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`,
  );
process.stdout.write(`${lines.join('\n')}\n`);
