// Data-parallel training on c10d Gloo, 2 ranks on 127.0.0.1 (skipped where the addon was
// built without the gloo headers): equivalence with one process on the global batch, exact
// resume, a dead rank failing the others in bounded time, and the launcher.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distributed } from '../../lib/index.js';
import { freePort } from '../../lib/distributed/launcher.js';
import { generatePhantom } from '../../lib/data/phantom.js';
import { DataLoader } from '../../lib/loader/loader.js';
import { cli } from '../support/cli.js';
import { fixturesOrSkip, maxAbsDiff, projectRoot } from '../support/python.js';

const RANK_SCRIPT = path.join(projectRoot, 'test', 'support', 'dist-rank.ts');
const nodeArgs = [...process.execArgv, RANK_SCRIPT];

async function ranks(world: number, args: string[]): Promise<string> {
  let output = '';
  const r = await distributed.launch({
    command: [process.execPath, ...nodeArgs, ...args],
    nproc: world,
    env: { OMP_NUM_THREADS: '1' },
    output: (line) => (output += line + '\n'),
  });
  assert.equal(r.exitCode, 0, `ranks failed:\n${output}`);
  return output;
}

const read = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

describe('distributed (c10d Gloo, 2 ranks)', function () {
  let fixtures: string;
  let tmp: string;

  before(async function () {
    if (!distributed.available()) {
      console.log('    (skipped: this addon was built without the gloo headers; apt-get install libgloo-dev and rebuild)');
      this.skip();
    }
    fixtures = (await fixturesOrSkip(this)).dir;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sd-dist-'));
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  it('2 ranks with batch 2 take the steps of 1 rank with batch 4 (CE + global soft Dice, clipping)', async () => {
    await ranks(1, ['steps', fixtures, tmp, '5']);
    await ranks(2, ['steps', fixtures, tmp, '5']);
    type Out = { losses: number[]; syncMs: number[]; params: number[][] };
    const one = read<Out>(path.join(tmp, 'steps-1-0.json'));
    const r0 = read<Out>(path.join(tmp, 'steps-2-0.json'));
    const r1 = read<Out>(path.join(tmp, 'steps-2-1.json'));
    // the loss falls, so the steps did something; the ranks report the global batch's loss
    assert.ok(one.losses[4]! < one.losses[0]!, `losses ${one.losses}`);
    assert.ok(maxAbsDiff(r0.losses, one.losses) < 1e-5, `losses ${r0.losses} vs ${one.losses}`);
    assert.deepEqual(r0.losses, r1.losses);
    for (let i = 0; i < one.params.length; i++) {
      assert.ok(maxAbsDiff(r0.params[i]!, one.params[i]!) < 1e-5, `parameter ${i}: ${maxAbsDiff(r0.params[i]!, one.params[i]!)}`);
      // rank 1 started from other weights: the broadcast at its first step replaced them
      assert.deepEqual(r1.params[i], r0.params[i]);
    }
    assert.equal(r0.syncMs.length, 5);
    assert.ok(r0.syncMs.every((ms) => ms >= 0));
  });

  it('a distributed run stopped by rank 0 stops on every rank and resumes exactly', async () => {
    const full = path.join(tmp, 'full');
    const cut = path.join(tmp, 'cut');
    for (const d of [full, cut]) rmSync(d, { recursive: true, force: true });
    await ranks(2, ['train', fixtures, mkdir(full), '4']);
    await ranks(2, ['train', fixtures, mkdir(cut), '4', '2']);
    type Out = { aborted: boolean; epochs: number; steps: number; ranHere: number; params: number[][] };
    const stopped = [0, 1].map((r) => read<Out>(path.join(cut, `train-${r}.json`)));
    assert.deepEqual(
      stopped.map((s) => [s.aborted, s.epochs]),
      [
        [true, 2],
        [true, 2],
      ],
    );
    await ranks(2, ['train', fixtures, cut, '4']);
    const a = read<Out>(path.join(full, 'train-0.json'));
    const b = read<Out>(path.join(cut, 'train-0.json'));
    assert.deepEqual(
      [0, 1].map((r) => read<Out>(path.join(cut, `train-${r}.json`)).ranHere),
      [2, 2],
    ); // resumed, not redone
    assert.equal(b.steps, a.steps);
    for (let i = 0; i < a.params.length; i++) assert.ok(maxAbsDiff(a.params[i]!, b.params[i]!) < 1e-6, `parameter ${i}`);
    assert.deepEqual(read<Out>(path.join(cut, 'train-1.json')).params, b.params);
  });

  it('a rank killed with SIGKILL makes the other fail with a clear error within the timeout', async function () {
    this.timeout(120_000);
    const port = await freePort();
    const out = mkdir(path.join(tmp, 'die'));
    const started = Date.now();
    const codes = await Promise.all(
      [0, 1].map(
        (rank) =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, [...nodeArgs, 'die', out], {
              env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), TEST_TIMEOUT_MS: '5000' },
              stdio: 'ignore',
            });
            child.once('close', (code, signal) => resolve(signal ?? String(code)));
          }),
      ),
    );
    assert.deepEqual(codes, ['0', 'SIGKILL']);
    const r = read<{ error: string; ms: number }>(path.join(out, 'die-0.json'));
    assert.match(r.error, /DistributedError: distributed: the all-reduce of values failed on rank 0 of 2/);
    assert.match(r.error, /another rank died/);
    assert.ok(r.ms < 30_000 && Date.now() - started < 90_000, `${r.ms} ms`);
  });

  it('the launcher ends with the first failure and stops the other ranks', async function () {
    this.timeout(60_000);
    let output = '';
    const started = Date.now();
    // rank 1 is killed at once; rank 0 would wait a minute at its collective
    const r = await distributed.launch({
      command: [process.execPath, ...nodeArgs, 'die', mkdir(path.join(tmp, 'launch-die'))],
      nproc: 2,
      env: { TEST_TIMEOUT_MS: '60000' },
      output: (line) => (output += line + '\n'),
      graceMs: 2000,
    });
    assert.equal(r.failedRank, 1);
    assert.equal(r.exitCode, 137);
    assert.match(output, /\[launch\] rank 1 exited with 137: stopping the others/);
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });

  it('shards each epoch disjointly, padded to equal lengths, one global batch at a time', () => {
    const order = [0, 1, 2, 3, 4, 5, 6];
    const a = distributed.shardBatches(order, { rank: 0, worldSize: 2 }, 2);
    const b = distributed.shardBatches(order, { rank: 1, worldSize: 2 }, 2);
    assert.deepEqual(a, [
      [0, 1],
      [4, 5],
    ]);
    assert.deepEqual(b, [
      [2, 3],
      [6, 0],
    ]);
    assert.equal(distributed.shardLength(7, 2, 2), 2);
  });

  it("a DataLoader's shards are the single process's global batches, split by rank", () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ image: `img${i}.nii.gz`, subject: `s${i}` }));
    const loader = (o: object) => new DataLoader({ items, spatialDims: 2, workers: 0, seed: 4, ...o });
    const whole = loader({ batchSize: 4 })
      .plan(3)
      .map((j) => j.refs.map((r) => r.image));
    const parts = [0, 1].map((rank) =>
      loader({ batchSize: 2, shard: { rank, worldSize: 2 } })
        .plan(3)
        .map((j) => j.refs.map((r) => r.image)),
    );
    assert.equal(parts[0]!.length, whole.length);
    // the last global batch (2 samples) is split 1 + 1
    assert.deepEqual(
      parts[0]!.map((b, i) => [...b, ...parts[1]![i]!]),
      whole,
    );
    assert.equal(loader({ batchSize: 2, shard: { rank: 1, worldSize: 2 } }).length, 3);
  });
});

function mkdir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('launch: the tiny pipeline data-parallel', function () {
  let root: string;
  let fixtures: string;
  const write = (name: string, runDir: string, extra: object = {}) => {
    const file = path.join(root, name);
    const config = {
      dataset: 'data',
      runDir,
      seed: 0,
      workers: 0,
      threads: 1,
      split: { train: 0.6, val: 0.2, test: 0.2 },
      teacher: { preset: 'tiny', roi: [64, 64, 64], spacing: [6, 6, 6], epochs: 1, batchSize: 2, samplesPerVolume: 1, lr: 2e-3, warmupEpochs: 0 },
      // a student without BatchNorm or dropout: one process and two must agree step for step
      student: { arch: 'deeplabv3', model: path.join(fixtures, 'plain.pt'), size: 32, epochs: 3, batchSize: 4, optimizer: 'adamw', lr: 5e-3, augment: false },
      distill: { epochs: 2 },
      ...extra,
    };
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  const manifest = (runDir: string, stage: string) =>
    read<{ metrics: { bestMetric: number; steps: number; final: { loss: number; valDice: number } } }>(
      path.join(root, runDir, 'students', 'deeplabv3', stage, 'manifest.json'),
    );

  before(async function () {
    if (!distributed.available()) this.skip();
    fixtures = (await fixturesOrSkip(this)).dir;
    root = mkdtempSync(path.join(os.tmpdir(), 'sd-launch-'));
    await generatePhantom({ out: path.join(root, 'data'), volumes: 3, slices: 24, seed: 5, sliceSize: 32, slicePhase: 'portal-venous' });
  });
  after(() => root && rmSync(root, { recursive: true, force: true }));

  it('pretrain and distill under launch --nproc 2 give the metrics of one process with the same global batch', async function () {
    this.timeout(600_000);
    const one = write('one.json', 'one');
    const two = write('two.json', 'two');
    const single = await cli('pretrain', '--config', one, '--progress', 'none');
    assert.equal(single.code, 0, single.err);
    const launched = await cli('launch', '--nproc', '2', '--', 'pretrain', '--config', two, '--progress', 'none');
    assert.equal(launched.code, 0, launched.err);
    assert.match(launched.out, /\[rank 0\] pretrained: /);
    assert.match(launched.err, /\[rank 1\] pretrain deeplabv3: data-parallel rank 1 of 2 \(gloo\): 2 samples of each global batch of 4/);
    const a = manifest('one', 'pretrain').metrics;
    const b = manifest('two', 'pretrain').metrics;
    assert.equal(b.steps, a.steps);
    assert.ok(Math.abs(a.final.loss - b.final.loss) < 1e-4, `loss ${a.final.loss} vs ${b.final.loss}`);
    assert.ok(Math.abs(a.bestMetric - b.bestMetric) < 1e-4, `validation Dice ${a.bestMetric} vs ${b.bestMetric}`);

    // distill from the same teacher prototype (trained once, in one process)
    for (const c of [one, two]) {
      for (const stage of ['train-teacher', 'prototype']) assert.equal((await cli(stage, '--config', c, '--progress', 'none')).code, 0);
    }
    assert.equal((await cli('distill', '--config', one, '--progress', 'none')).code, 0);
    const d = await cli('launch', '--nproc', '2', '--', 'distill', '--config', two, '--progress', 'none');
    assert.equal(d.code, 0, d.err);
    const da = manifest('one', 'distill-unest').metrics;
    const db = manifest('two', 'distill-unest').metrics;
    console.log(`      distill: one process loss ${da.final.loss}, Dice ${da.bestMetric}; 2 ranks loss ${db.final.loss}, Dice ${db.bestMetric}`);
    assert.equal(db.steps, da.steps);
    assert.ok(Math.abs(da.final.loss - db.final.loss) < 1e-3, `loss ${da.final.loss} vs ${db.final.loss}`);
  });

  it('refuses a stage that does not train, and a global batch the ranks cannot split', async () => {
    const r = await cli('launch', '--nproc', '2', '--', 'evaluate', '--config', write('e.json', 'e'));
    assert.equal(r.code, 2);
    assert.match(r.err, /launch runs the training stages/);
    const odd = write('odd.json', 'odd', {
      student: { arch: 'deeplabv3', model: path.join(fixtures, 'plain.pt'), size: 32, epochs: 1, batchSize: 3, augment: false },
    });
    const o = await cli('launch', '--nproc', '2', '--', 'pretrain', '--config', odd, '--progress', 'none');
    assert.notEqual(o.code, 0);
    assert.match(o.err, /student\.batchSize 3 is the global batch and must divide by the 2 ranks/);
  });
});
