import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CheckpointError, ScriptModule, loadCheckpoint, manualSeed, optim, saveCheckpoint } from '../../../lib/index.js';
import { fixturesOrSkip, projectRoot, type Fixtures } from '../../support/python.js';
import { fixedBatch, trainSteps } from '../../support/training.js';

const run = promisify(execFile);
const child = path.join(projectRoot, 'test', 'support', 'train-child.ts');

describe('checkpoints', function () {
  let fx: Fixtures;
  let dir: string;
  const convnet = () => path.join(fx.dir, 'convnet.pt');

  before(async function () {
    fx = await fixturesOrSkip(this);
    dir = mkdtempSync(path.join(os.tmpdir(), 'sd-ckpt-'));
  });

  it('a checkpoint loaded in a fresh process continues with the same losses', async function () {
    const batch = fixedBatch(fx.dir);
    manualSeed(7);
    const a = ScriptModule.loadSync(convnet());
    const uninterrupted = await trainSteps(a, new optim.Adam(a.parameters(), { lr: 0.01 }), batch, 6);

    manualSeed(7);
    const b = ScriptModule.loadSync(convnet());
    const opt = new optim.Adam(b.parameters(), { lr: 0.01 });
    const first = await trainSteps(b, opt, batch, 3);
    const file = path.join(dir, 'mid.ckpt');
    await saveCheckpoint(file, { module: b, optimizer: opt, epoch: 1, step: 3, metrics: { dice: 0.5 } });
    assert.deepEqual(first, uninterrupted.slice(0, 3));

    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, 'resume', fx.dir, file, '3'], { cwd: projectRoot });
    const resumed = JSON.parse(stdout) as { epoch: number; step: number; metrics: object; losses: number[] };
    assert.equal(resumed.epoch, 1);
    assert.equal(resumed.step, 3);
    assert.deepEqual(resumed.metrics, { dice: 0.5 });
    assert.deepEqual(resumed.losses, uninterrupted.slice(3));
  });

  it('holds the whole module: loading without one gives a working copy', async function () {
    const m = ScriptModule.loadSync(convnet()).eval();
    const file = path.join(dir, 'self-contained.ckpt');
    await saveCheckpoint(file, { module: m, epoch: 4 });
    const ck = await loadCheckpoint(file);
    assert.equal(ck.epoch, 4);
    assert.equal(ck.module.isTraining, false);
    assert.deepEqual(ck.module.metadata, m.metadata);
    const want = m.namedParameters().get('head.weight')!.toList();
    assert.deepEqual(ck.module.namedParameters().get('head.weight')!.toList(), want);
  });

  it('a killed writer never leaves a torn checkpoint', async function () {
    const file = path.join(dir, 'churn.ckpt');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, 'churn', fx.dir, file], { cwd: projectRoot, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const ck = await loadCheckpoint(file);
    assert.ok(ck.step >= 0);
    assert.ok(readdirSync(dir).filter((f) => f.startsWith('.churn.ckpt')).length <= 1, 'at most the one interrupted temp file');
  });

  it('missing, truncated and foreign files are CheckpointErrors; a mismatched module or optimizer too', async function () {
    const m = ScriptModule.loadSync(convnet());
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const good = path.join(dir, 'good.ckpt');
    await saveCheckpoint(good, { module: m, optimizer: opt });
    const isCk = (pattern: RegExp) => (e: Error) => e instanceof CheckpointError && pattern.test(e.message);

    await assert.rejects(loadCheckpoint(path.join(dir, 'absent.ckpt')), isCk(/absent\.ckpt: cannot read \(ENOENT\)/));
    const truncated = path.join(dir, 'truncated.ckpt');
    const bytes = readFileSync(good);
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(loadCheckpoint(truncated), isCk(/truncated\.ckpt: not a readable checkpoint/));
    const text = path.join(dir, 'text.ckpt');
    writeFileSync(text, 'hello');
    await assert.rejects(loadCheckpoint(text), isCk(/not a readable checkpoint/));
    await assert.rejects(loadCheckpoint(convnet()), isCk(/convnet\.pt: not/));

    const multi = ScriptModule.loadSync(path.join(fx.dir, 'multi.pt'));
    await assert.rejects(loadCheckpoint(good, { module: multi }), isCk(/does not fit the given module/));
    await assert.rejects(loadCheckpoint(good, { module: m, optimizer: new optim.Adam(m.parameters()) }), isCk(/'sgd' optimizer state, not 'adam'/));
    const moduleOnly = path.join(dir, 'module-only.ckpt');
    await saveCheckpoint(moduleOnly, { module: m });
    await assert.rejects(loadCheckpoint(moduleOnly, { module: m, optimizer: opt }), isCk(/holds no optimizer state/));
    await assert.rejects(saveCheckpoint(path.join(dir, 'no', 'such', 'dir.ckpt'), { module: m }), /ENOENT/);
  });
});
