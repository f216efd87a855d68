#!/usr/bin/env node
// Builds the native addon: cmake-js by default (into build-cmake/, or --out DIR), node-gyp
// with --gyp (into build/). Both take LibTorch from scripts/libtorch.mjs, then the fresh addon is
// loaded once in a child process so a broken build fails here, not in the first test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { resolveCudaToolkit } from './cuda-toolkit.mjs';
import { projectRoot, resolveLibtorch } from './libtorch.mjs';

const require = createRequire(import.meta.url);
const useGyp = process.argv.includes('--gyp');
// another folder leaves the addon in use where it is (SLICE_DISTILL_ADDON selects a build)
const outAt = process.argv.indexOf('--out');
const cmakeOut = outAt >= 0 ? process.argv[outAt + 1] : 'build-cmake';
// SLICE_DISTILL_JOBS caps the compile jobs (a shared or small machine)
const jobs = String(Number(process.env.SLICE_DISTILL_JOBS) || Math.max(1, Math.min(os.cpus().length, 8)));

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: projectRoot, stdio: 'inherit', env });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(`[slice-distill] build failed: ${path.basename(cmd)} ${args.join(' ')} exited with ${r.status}\n`);
    process.exit(r.status ?? 1);
  }
}

let libtorch;
try {
  libtorch = resolveLibtorch();
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}

// A CUDA LibTorch needs the toolkit found before CMake's Caffe2 config looks for it.
let cuda = null;
if (libtorch.cuda) {
  try {
    cuda = resolveCudaToolkit(libtorch);
  } catch (e) {
    process.stderr.write(`[slice-distill] ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `[slice-distill] CUDA ${cuda.version} toolkit from ${cuda.source}: ${cuda.root}; ` + `nvrtc ${cuda.nvrtc}; architectures ${cuda.archList}\n`,
  );
}
// the real nvcc first on the PATH, whatever wrapper is there, for the tools that search it
const buildEnv = cuda
  ? { ...process.env, CUDA_HOME: cuda.root, CUDACXX: cuda.nvcc, PATH: `${path.dirname(cuda.nvcc)}${path.delimiter}${process.env.PATH ?? ''}` }
  : process.env;

const started = Date.now();
let addon;
if (useGyp) {
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  run(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`], buildEnv);
  addon = path.join(projectRoot, 'build', 'Release', 'slice_distill.node');
} else {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const defines = [
    `--CDCMAKE_PREFIX_PATH=${libtorch.cmakePrefix}`,
    `--CDTorch_DIR=${libtorch.torchDir}`,
    `--CDSD_OPENMP_RUNTIME=${libtorch.openmpRuntime}`,
    ...(cuda
      ? [
          `--CDCUDAToolkit_ROOT=${cuda.root}`,
          // cudart and nvrtc; the wheel's files where the toolkit lacks them
          ...Object.entries(cuda.libraries).map(([name, file]) => `--CDCUDA_${name}_LIBRARY=${file}`),
          `--CDTORCH_CUDA_ARCH_LIST=${cuda.archList}`,
          `--CDSD_CUDA_LIB_DIRS=${cuda.libDirs.join(';')}`,
        ]
      : []),
  ];
  // cmake-js compile configures only a new folder; where the settings changed since the last
  // build here (another LibTorch, TORCH_CUDA_ARCH_LIST, ...), configure again so they apply.
  const stamp = path.resolve(projectRoot, cmakeOut, 'slice-distill-defines.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') !== JSON.stringify(defines)) {
    run(process.execPath, [cmakeJs, 'configure', '--out', cmakeOut, ...defines], buildEnv);
  }
  run(process.execPath, [cmakeJs, 'compile', '--out', cmakeOut, '--parallel', jobs, ...defines], buildEnv);
  writeFileSync(stamp, JSON.stringify(defines));
  addon = path.resolve(projectRoot, cmakeOut, 'Release', 'slice_distill.node');
}
if (!existsSync(addon)) {
  process.stderr.write(`[slice-distill] the build finished but ${addon} is missing\n`);
  process.exit(1);
}

const check = spawnSync(
  process.execPath,
  [
    '-e',
    `
  const m = require(${JSON.stringify(addon)});
  const info = m.buildInfo();
  process.stdout.write(JSON.stringify(info));
`,
  ],
  { encoding: 'utf8' },
);
if (check.status !== 0) {
  process.stderr.write(`[slice-distill] ${addon} was built but does not load:\n${check.stderr}\n`);
  process.exit(1);
}
const info = JSON.parse(check.stdout);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const mib = (statSync(addon).size / 2 ** 20).toFixed(2);
process.stderr.write(
  `[slice-distill] built ${path.relative(projectRoot, addon)} (${useGyp ? 'node-gyp' : 'cmake-js'}, ` +
    `${info.cudaBuild ? 'CUDA' : 'CPU'}, LibTorch ${info.torchVersion}) in ${seconds} s, ${mib} MiB\n`,
);
