// Compiles the fused ops' CUDA kernels with nvcc alone (no GPU, no CUDA LibTorch needed):
// the compile-only check CI runs. Exits 0 with a note where nvcc is missing.
//   node scripts/check-cuda-kernels.mjs [--require]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nvcc = process.env.NVCC ?? 'nvcc';
const probe = spawnSync(nvcc, ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  const message = `[slice-distill] ${nvcc} not found: CUDA kernels not compiled`;
  if (process.argv.includes('--require')) {
    console.error(message);
    process.exit(1);
  }
  console.log(message);
  process.exit(0);
}
const version = probe.stdout.trim().split('\n').pop();
const out = mkdtempSync(path.join(os.tmpdir(), 'sd-nvcc-'));
const object = path.join(out, 'proto_kernels.o');
const started = Date.now();
try {
  execFileSync(
    nvcc,
    [
      '-std=c++17',
      '-c',
      path.join(root, 'native/ops/proto_kernels.cu'),
      '-o',
      object,
      '-I',
      path.join(root, 'native'),
      '--expt-relaxed-constexpr',
      '-Xcompiler',
      '-fPIC',
      '-Werror',
      'all-warnings',
      ...['80', '90'].flatMap((sm) => ['-gencode', `arch=compute_${sm},code=sm_${sm}`]),
    ],
    { stdio: 'inherit' },
  );
  console.log(
    `[slice-distill] nvcc (${version}) compiled native/ops/proto_kernels.cu for sm_80 and sm_90 in ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s (${(statSync(object).size / 1024).toFixed(0)} KiB)`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
