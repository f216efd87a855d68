// The project's Python with pydicom, for DICOM fixtures written and read by pydicom. pydicom is
// installed into that environment where missing (pip, from the configured index); null (the
// caller skips with a message) where that is not possible.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPython } from './python.js';

const run = promisify(execFile);
let cached: Promise<string | null> | undefined;

async function has(python: string): Promise<boolean> {
  try {
    await run(python, ['-c', 'import numpy, pydicom']);
    return true;
  } catch {
    return false;
  }
}

export function pydicomPython(): Promise<string | null> {
  cached ??= (async () => {
    const python = projectPython();
    if (!python) return null;
    if (await has(python)) return python;
    try {
      await run(python, ['-m', 'pip', 'install', '--quiet', 'pydicom'], { timeout: 240_000 });
    } catch {
      return null;
    }
    return (await has(python)) ? python : null;
  })();
  return cached;
}
