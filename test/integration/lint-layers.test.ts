// The layer rules of .dependency-cruiser.cjs catch an upward import: a scratch tree with one
// module of lib/data importing lib/tensor fails the check, the same tree without it passes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { REPO_ROOT } from '../support/paths.js';

const root = REPO_ROOT;
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(dir: string): { status: number | null; out: string } {
  // CI may force colour on (FORCE_COLOR); the assertions read plain text either way.
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  const r = spawnSync(process.execPath, [depcruise, 'lib', '--config', '.dependency-cruiser.cjs'], { cwd: dir, encoding: 'utf8', env });
  return { status: r.status, out: stripVTControlCharacters(r.stdout + r.stderr) };
}

describe('layer rules (dependency-cruiser)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-layers-'));
    copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
    for (const d of ['lib/data', 'lib/tensor', 'lib/pipeline']) mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(path.join(dir, 'lib/tensor/tensor.ts'), 'export const tensorThing = 1;\n');
    writeFileSync(path.join(dir, 'lib/data/labels.ts'), 'export const labelThing = 2;\n');
    writeFileSync(
      path.join(dir, 'lib/pipeline/run.ts'),
      "import { tensorThing } from '../tensor/tensor.js';\nimport { labelThing } from '../data/labels.js';\nexport const run = tensorThing + labelThing;\n",
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('downward imports pass', () => {
    const r = cruise(dir);
    assert.equal(r.status, 0, r.out);
  });

  it('an upward import (lib/data -> lib/tensor) fails, naming the rule and both files', () => {
    writeFileSync(path.join(dir, 'lib/data/probe.ts'), "import { tensorThing } from '../tensor/tensor.js';\nexport const probe = tensorThing;\n");
    try {
      const r = cruise(dir);
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, /layer-data: lib\/data\/probe\.ts → lib\/tensor\/tensor\.ts/);
    } finally {
      rmSync(path.join(dir, 'lib/data/probe.ts'));
    }
  });
});
