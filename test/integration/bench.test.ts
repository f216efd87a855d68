// `npm run bench -- --quick` works: every case runs once at tiny sizes (TypeScript and Python)
// and the JSON holds every case with finite figures. Nothing about speed is asserted here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectPython, projectRoot } from '../support/python.js';
import { distributed } from '../../lib/index.js';

const run = promisify(execFile);
// data-parallel only where the addon has c10d (built with libgloo-dev); it skips itself otherwise
const CASES = ['dist-op', 'train', 'loader', 'event-loop', 'prototype', 'inference', 'overhead', ...(distributed.available() ? ['data-parallel'] : [])];

interface Results {
  options: { quick: boolean; device: string };
  machine: { cpus: number; versions: Record<string, unknown> };
  cases: Record<
    string,
    {
      name: string;
      ts: Record<string, number>;
      py: Record<string, number>;
      ratios: Record<string, number>;
      metrics: Record<string, unknown>;
      memory: Record<string, number>;
    }[]
  >;
  errors: unknown[];
}

describe('bench --quick', function () {
  // the first run builds native/ops as a torch extension (about a minute on 2 cores)
  this.timeout(8 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-bench-test-'));
  const out = path.join(dir, 'quick.json');
  let results: Results;

  before(async function () {
    if (!projectPython()) {
      console.log('    (skipped: no Python with torch; set PYTHON or run npm install)');
      this.skip();
    }
    try {
      await run(process.execPath, ['--import', 'tsx', path.join('bench', 'index.ts'), '--quick', '--out', out], { cwd: projectRoot, maxBuffer: 64 << 20 });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      assert.fail(`bench --quick failed:\n${(err.stdout ?? '').slice(-3000)}\n${(err.stderr ?? err.message).slice(-3000)}`);
    }
    results = JSON.parse(readFileSync(out, 'utf8')) as Results;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the run, the machine and the versions', () => {
    assert.equal(results.options.quick, true);
    assert.equal(results.options.device, 'cpu');
    assert.ok(results.machine.cpus >= 1);
    assert.equal(typeof results.machine.versions.torchAddon, 'string');
    assert.equal(typeof results.machine.versions.torchPython, 'string');
    assert.deepEqual(results.errors, []);
  });

  it('has every case, each with finite figures', () => {
    assert.deepEqual(Object.keys(results.cases).sort(), [...CASES].sort());
    for (const [name, rows] of Object.entries(results.cases)) {
      assert.ok(rows.length > 0, `${name}: no rows`);
      for (const row of rows) {
        const figures = { ...row.ts, ...row.py, ...row.ratios, peakRss: row.memory.tsPeakRssMiB };
        assert.ok(Object.keys(row.ts).length > 0, `${name} / ${row.name}: no TypeScript time`);
        for (const [k, v] of Object.entries(figures)) assert.ok(Number.isFinite(v) && v >= 0, `${name} / ${row.name}: ${k} = ${v}`);
      }
    }
  });

  it('times the Python side where the case has one', () => {
    for (const name of ['dist-op', 'train', 'prototype', 'inference']) {
      for (const row of results.cases[name]!) assert.ok(Object.keys(row.py).length > 0, `${name} / ${row.name}: no Python time`);
    }
    // the extension side needs a compiler for native/ops; where it could not be built, the row says why
    for (const row of results.cases.train!) {
      assert.ok('onehot' in row.py, `${row.name}: no one-hot side`);
      assert.ok('extension' in row.py || typeof row.metrics['skipped extension'] === 'string', `${row.name}: extension side neither timed nor explained`);
    }
  });
});
