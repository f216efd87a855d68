// The project's Python with numpy and scipy, for references computed by them. scipy is
// installed into that environment where it is missing (pip, from the configured index); null
// (the caller skips with a message) where that is not possible.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPython } from './python.js';

const run = promisify(execFile);
let cached: Promise<string | null> | undefined;

async function imports(python: string, modules: string): Promise<boolean> {
  try {
    await run(python, ['-c', `import ${modules}`]);
    return true;
  } catch {
    return false;
  }
}

export function scientificPython(): Promise<string | null> {
  cached ??= (async () => {
    const python = projectPython();
    if (!python || !(await imports(python, 'numpy'))) return null;
    if (await imports(python, 'scipy')) return python;
    try {
      await run(python, ['-m', 'pip', 'install', '--quiet', 'scipy'], { timeout: 240_000 });
    } catch {
      return null;
    }
    return (await imports(python, 'scipy')) ? python : null;
  })();
  return cached;
}

/** Runs a Python script given as text with a JSON input on stdin; returns its parsed JSON stdout. */
export async function pythonJson<T>(python: string, script: string, input: unknown): Promise<T> {
  const child = run(python, ['-c', script], { maxBuffer: 64 << 20 });
  child.child.stdin!.end(JSON.stringify(input));
  const { stdout } = await child;
  return JSON.parse(stdout) as T;
}
