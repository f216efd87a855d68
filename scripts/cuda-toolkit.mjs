#!/usr/bin/env node
// Finds the CUDA toolkit for a build against a CUDA LibTorch, so that cmake-js and node-gyp
// agree (both ask this script, after scripts/libtorch.mjs). No GPU is needed: nothing here
// runs CUDA code.
//   toolkit: CUDA_HOME, then CUDA_PATH, then the real nvcc behind the `nvcc` on the PATH
//            (which may be a wrapper script: `nvcc --dryrun` prints the toolkit's TOP), then
//            /usr/local/cuda;
//   libraries the toolkit lacks (nvrtc, even cudart): the nvidia/*/lib folders that the
//            torch wheel's nvidia-* packages installed next to torch;
//   TORCH_CUDA_ARCH_LIST: the user's, else sm_80/86/89/90 (so Caffe2 never probes for a GPU).
//
// CLI: node scripts/cuda-toolkit.mjs            -> prints the JSON description
//      node scripts/cuda-toolkit.mjs --get KEY  -> prints one field (arrays space-separated)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { printAnswerWhenMain } from './print-answer.mjs';
import { resolveLibtorch } from './libtorch.mjs';

export const DEFAULT_ARCH_LIST = '8.0;8.6;8.9;9.0';
// What Caffe2's config and the addon link (cudart; nvrtc via TORCH_LIBRARIES). cuBLAS, cuDNN
// and the rest are libtorch_cuda's own dependencies, found at run time through its rpath.
const REQUIRED_LIBS = ['cudart', 'nvrtc'];

function isToolkit(root) {
  return existsSync(path.join(root, 'bin', 'nvcc')) && existsSync(path.join(root, 'include', 'cuda_runtime.h'));
}

/** The toolkit behind `nvcc` on the PATH; follows symlinks and asks nvcc itself (wrappers). */
function toolkitOfPathNvcc() {
  const r = spawnSync('nvcc', ['--dryrun', '-x', 'cu', '-E', '/dev/null'], { encoding: 'utf8' });
  if (r.error) return null;
  const top = /^#\$ TOP=(.+)$/m.exec(`${r.stderr}\n${r.stdout}`);
  if (top) return path.resolve(top[1].trim());
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  return which.status === 0 ? path.dirname(path.dirname(realpathSync(which.stdout.trim()))) : null;
}

export function findToolkitRoot() {
  const tried = [];
  for (const name of ['CUDA_HOME', 'CUDA_PATH']) {
    const v = process.env[name];
    if (!v) continue;
    // a variable the user set is meant: no silent fallback past a wrong one
    if (isToolkit(v)) return { root: path.resolve(v), source: name };
    throw new Error(`${name}=${v} is not a CUDA toolkit (bin/nvcc or include/cuda_runtime.h is missing)`);
  }
  tried.push('CUDA_HOME and CUDA_PATH: not set');
  const fromPath = toolkitOfPathNvcc();
  if (fromPath && isToolkit(fromPath)) return { root: fromPath, source: 'nvcc on the PATH' };
  tried.push(fromPath ? `nvcc on the PATH: ${fromPath} is not a full toolkit` : 'nvcc on the PATH: none');
  if (isToolkit('/usr/local/cuda')) return { root: realpathSync('/usr/local/cuda'), source: '/usr/local/cuda' };
  tried.push('/usr/local/cuda: no toolkit there');
  const err = new Error(
    'a CUDA LibTorch needs the CUDA toolkit (nvcc, headers) to build against, and none was found. Tried:\n' +
      tried.map((t) => `  - ${t}`).join('\n') +
      '\nSet CUDA_HOME to the toolkit folder (the one holding bin/nvcc), e.g. CUDA_HOME=/usr/local/cuda-13.0.',
  );
  err.code = 'SD_NO_CUDA_TOOLKIT';
  throw err;
}

function nvccVersion(root) {
  const r = spawnSync(path.join(root, 'bin', 'nvcc'), ['--version'], { encoding: 'utf8' });
  const m = /release (\d+\.\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`${root}/bin/nvcc --version did not say its release: ${(r.stderr || r.error?.message || '').trim()}`);
  return m[1];
}

/** The CUDA version a LibTorch was built for (torch/version.py of a wheel, build-version of a download). */
function torchCudaVersion(libtorch) {
  const py = path.join(libtorch.root, 'version.py');
  if (existsSync(py)) {
    const m = /^cuda(?::\s*[^=]+)?\s*=\s*'([^']+)'/m.exec(readFileSync(py, 'utf8'));
    if (m) return m[1];
  }
  const m = /\+cu(\d+)(\d)$/.exec(libtorch.version ?? '');
  return m ? `${m[1]}.${m[2]}` : null;
}

/**
 * A shared library by name: the unversioned .so where a toolkit has one, else the versioned
 * file (the wheels ship only libnvrtc.so.13 and the like, which links just as well).
 */
function findLibrary(dirs, name) {
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const plain = path.join(dir, `lib${name}.so`);
    if (existsSync(plain)) return plain;
    const versioned = readdirSync(dir)
      .filter((f) => new RegExp(`^lib${name}\\.so\\.\\d+$`).test(f))
      .sort();
    if (versioned.length) return path.join(dir, versioned[versioned.length - 1]);
  }
  return null;
}

/** Describes the CUDA toolkit to build `libtorch` (from resolveLibtorch) against. Throws with what is missing. */
export function resolveCudaToolkit(libtorch = resolveLibtorch()) {
  if (!libtorch.cuda) throw new Error(`LibTorch ${libtorch.version} at ${libtorch.root} has no CUDA (no libtorch_cuda.so)`);
  const { root, source } = findToolkitRoot();
  const version = nvccVersion(root);
  const torchCuda = torchCudaVersion(libtorch);
  if (torchCuda && torchCuda.split('.')[0] !== version.split('.')[0]) {
    throw new Error(
      `LibTorch ${libtorch.version} was built for CUDA ${torchCuda} but the toolkit at ${root} (from ${source}) is CUDA ${version}; ` +
        `set CUDA_HOME to a CUDA ${torchCuda.split('.')[0]}.x toolkit`,
    );
  }
  const toolkitLibDirs = [path.join(root, 'lib64'), path.join(root, 'targets', 'x86_64-linux', 'lib'), path.join(root, 'lib')];
  // pip's nvidia-* packages: site-packages/nvidia/<pkg>/lib, next to site-packages/torch
  const nvidiaDir = path.join(path.dirname(libtorch.root), 'nvidia');
  const wheelLibDirs = existsSync(nvidiaDir)
    ? readdirSync(nvidiaDir)
        .map((d) => path.join(nvidiaDir, d, 'lib'))
        .filter((d) => existsSync(d))
        .sort()
    : [];
  const libs = {};
  const missing = [];
  for (const name of REQUIRED_LIBS) {
    const variable = `CUDA_${name}_LIBRARY`;
    const found = process.env[variable] || findLibrary([...toolkitLibDirs, ...wheelLibDirs], name);
    if (found && existsSync(found)) libs[name] = found;
    else missing.push(`lib${name}.so (set ${variable} to its path, or pip install the torch wheel's nvidia packages)`);
  }
  if (missing.length) {
    throw new Error(
      `the CUDA toolkit at ${root} (from ${source}) lacks, and no nvidia package next to ${libtorch.root} has:\n` + missing.map((m) => `  - ${m}`).join('\n'),
    );
  }
  // lib folders the addon needs at run time, the wheel's first: it is what libtorch_cuda loads
  const libDirs = [...new Set(Object.values(libs).map((f) => path.dirname(f)))].sort(
    (a, b) => Number(!a.startsWith(nvidiaDir)) - Number(!b.startsWith(nvidiaDir)),
  );
  const archList = process.env.TORCH_CUDA_ARCH_LIST || DEFAULT_ARCH_LIST;
  return {
    root,
    source,
    version,
    torchCudaVersion: torchCuda,
    nvcc: path.join(root, 'bin', 'nvcc'),
    include: path.join(root, 'include'),
    cudart: libs.cudart,
    nvrtc: libs.nvrtc,
    // name -> file: CMake's CUDA_<name>_LIBRARY
    libraries: libs,
    libDirs,
    rpathFlags: libDirs.map((d) => `-Wl,-rpath,${d}`),
    archList,
    // the same architectures as nvcc flags, for node-gyp's rule (CMake gets them from Caffe2)
    gencode: gencodeFlags(archList),
  };
}

/** "8.0;8.6;9.0+PTX" -> -gencode flags (SASS for each, plus PTX where +PTX asks). */
export function gencodeFlags(archList) {
  const flags = [];
  for (const entry of archList.split(/[;\s]+/).filter(Boolean)) {
    const m = /^(\d+)\.(\d+)([a-z]?)(\+PTX)?$/.exec(entry);
    if (!m) throw new Error(`TORCH_CUDA_ARCH_LIST: cannot read "${entry}" (expected e.g. 8.0, 9.0a or 9.0+PTX)`);
    const sm = `${m[1]}${m[2]}${m[3]}`;
    flags.push(`-gencode=arch=compute_${sm},code=sm_${sm}`);
    if (m[4]) flags.push(`-gencode=arch=compute_${sm},code=compute_${sm}`);
  }
  return flags;
}

printAnswerWhenMain(import.meta.url, resolveCudaToolkit, '[slice-distill] ');
