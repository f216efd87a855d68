#!/usr/bin/env node
// Builds the native addon: cmake-js by default (into build-cmake/), node-gyp with --gyp
// (into build/). Both take LibTorch from scripts/libtorch.mjs, then the fresh addon is
// loaded once in a child process so a broken build fails here, not in the first test.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { projectRoot, resolveLibtorch } from './libtorch.mjs';

const require = createRequire(import.meta.url);
const useGyp = process.argv.includes('--gyp');
const jobs = String(Math.max(1, Math.min(os.cpus().length, 8)));

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

const started = Date.now();
let addon;
if (useGyp) {
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  run(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`]);
  addon = path.join(projectRoot, 'build', 'Release', 'slice_distill.node');
} else {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [
    cmakeJs, 'compile', '--out', 'build-cmake', '--parallel', jobs,
    `--CDCMAKE_PREFIX_PATH=${libtorch.cmakePrefix}`,
    `--CDTorch_DIR=${libtorch.torchDir}`,
  ]);
  addon = path.join(projectRoot, 'build-cmake', 'Release', 'slice_distill.node');
}
if (!existsSync(addon)) {
  process.stderr.write(`[slice-distill] the build finished but ${addon} is missing\n`);
  process.exit(1);
}

const check = spawnSync(process.execPath, ['-e', `
  const m = require(${JSON.stringify(addon)});
  const info = m.buildInfo();
  process.stdout.write(JSON.stringify(info));
`], { encoding: 'utf8' });
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
