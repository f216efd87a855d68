// Checks (or, with --fix, applies) .clang-format on the C++ sources tracked by git, with the
// clang-format binary of the npm package so every machine formats alike.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const fix = process.argv.includes('--fix');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);
const bin = path.join(path.dirname(require.resolve('clang-format/package.json')), 'bin', `${process.platform}_${process.arch}`, 'clang-format');
const files = execFileSync('git', ['ls-files', 'native/**.cc', 'native/**.h', 'native/**.cu', 'python/**.cc'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const args = fix ? ['-i', '--style=file', ...files] : ['--dry-run', '--Werror', '--style=file', ...files];
try {
  execFileSync(bin, args, { cwd: root, stdio: 'inherit' });
} catch {
  console.error(`clang-format: ${fix ? 'failed' : 'C++ sources are not formatted; run npm run format'}`);
  process.exit(1);
}
console.log(`clang-format: ${files.length} C++ files ${fix ? 'formatted' : 'formatted as .clang-format says'}`);
