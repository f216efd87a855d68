// The command-line face of the build's discovery scripts (libtorch.mjs, cuda-toolkit.mjs):
// run as a program, they print what they found as JSON, or one field with --get NAME (lists
// space-separated, as binding.gyp reads them).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs `resolve` and prints its answer when `moduleUrl` is the script node was started with. */
export function printAnswerWhenMain(moduleUrl, resolve, errorPrefix = '') {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  let info;
  try {
    info = resolve();
  } catch (e) {
    process.stderr.write(`${errorPrefix}${e.message}\n`);
    process.exit(1);
  }
  const i = process.argv.indexOf('--get');
  if (i >= 0) {
    const v = info[process.argv[i + 1]];
    process.stdout.write(`${Array.isArray(v) ? v.join(' ') : String(v)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  }
}
