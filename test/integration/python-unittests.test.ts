// The Python side's own unit tests (python/tests): the model zoo and native/ops built as a
// PyTorch extension against the Python reference. Run here so that `npm test` covers them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectPython, projectRoot } from '../support/python.js';

const run = promisify(execFile);

describe('python unit tests', function () {
  this.timeout(15 * 60_000);
  const files = readdirSync(path.join(projectRoot, 'python', 'tests')).filter((f) => /^test_.*\.py$/.test(f));

  for (const file of files) {
    it(file, async function () {
      const python = projectPython();
      if (!python) this.skip();
      try {
        await run(python!, ['-m', 'unittest', '-q', path.join('python', 'tests', file)], {
          cwd: projectRoot,
          env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'python') },
          maxBuffer: 64 << 20,
        });
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        assert.fail(`${file} failed:\n${(err.stderr ?? err.message).slice(-4000)}`);
      }
    });
  }
});
