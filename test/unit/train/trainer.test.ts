import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScriptModule, type Tensor, cat, manualSeed, noGrad, optim, readCheckpointInfo, tensor } from '../../../lib/index.js';
import { fromFunction } from '../../../lib/train/data-source.js';
import { train, type TrainData } from '../../../lib/train/trainer.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

// Deterministic synthetic batches: a bright square (class 1) and a dim stripe (class 2).
function synthetic(epoch: number, index: number, size = 12): { image: Tensor; label: Tensor } {
  const B = 4;
  const x = new Float32Array(B * size * size);
  const y = new BigInt64Array(B * size * size);
  for (let b = 0; b < B; b++) {
    const s = (epoch * 31 + index * 7 + b * 3) % (size - 5);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const p = b * size * size + i * size + j;
        const inSquare = i >= s && i < s + 4 && j >= s && j < s + 4;
        const inStripe = j === (s + 6) % size;
        x[p] = inSquare ? 0.9 : inStripe ? 0.5 : 0.1 + 0.02 * ((i * j) % 3);
        y[p] = inSquare ? 1n : inStripe ? 2n : 0n;
      }
    }
  }
  return { image: tensor(x, [B, 1, size, size]), label: tensor(y, [B, size, size]) };
}

function meanDice(module: ScriptModule, batch: { image: Tensor; label: Tensor }): number {
  return noGrad(() => {
    const pred = module.forwardTensor(batch.image).argmax(1);
    let sum = 0;
    for (const k of [1, 2]) {
      const p = pred.eq(k),
        t = batch.label.eq(k);
      const inter = p.logicalAnd(t).sum().item() as number;
      const size = (p.sum().item() as number) + (t.sum().item() as number);
      sum += size === 0 ? 1 : (2 * inter) / size;
    }
    return sum / 2;
  });
}

describe('Trainer', function () {
  let fx: Fixtures;
  const load = () => ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
  const data: TrainData = fromFunction(6, synthetic);
  const valBatch = () => synthetic(1000, 0);

  before(async function () {
    fx = await fixturesOrSkip(this);
  });

  it('lowers the loss and raises validation Dice; keeps the best checkpoint and a log', async function () {
    manualSeed(1);
    const module = load();
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.02 });
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'sd-train-'));
    const batches: number[] = [];
    const before = meanDice(module.eval(), valBatch());
    const r = await train({
      module,
      optimizer,
      data,
      epochs: 6,
      runDir,
      progress: 'none',
      validate: async (m) => ({ valDice: meanDice(m, valBatch()) }),
      callbacks: { onBatchEnd: (_b, logs) => void batches.push(logs.loss) },
    });
    assert.equal(r.history.length, 6);
    assert.equal(batches.length, 36);
    assert.ok(r.history[5]!.loss < r.history[0]!.loss * 0.7, `loss ${r.history[0]!.loss} -> ${r.history[5]!.loss}`);
    assert.ok(r.bestMetric! > before + 0.2, `val Dice ${before} -> ${r.bestMetric}`);
    assert.ok(r.bestCheckpoint);
    const lines = readFileSync(path.join(runDir, 'train-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    assert.equal(lines.filter((l) => l.best).at(-1).valDice, r.bestMetric);
  });

  it('resume after an abort ends with the same weights as an uninterrupted run', async function () {
    const run = async (abortAt: number | null) => {
      manualSeed(2);
      const runDir = mkdtempSync(path.join(os.tmpdir(), 'sd-resume-'));
      const schedule = optim.schedules.poly({ baseLr: 0.05, total: 24 });
      const make = () => {
        const module = load();
        return { module, optimizer: new optim.SGD(module.parameters(), { lr: 0.05, momentum: 0.9 }) };
      };
      let { module, optimizer } = make();
      const controller = new AbortController();
      let seen = 0;
      const common = { data, epochs: 4, runDir, schedule, accumulate: 2, progress: 'none' as const };
      const first = await train({
        ...common,
        module,
        optimizer,
        signal: controller.signal,
        callbacks: { onBatchEnd: () => void (++seen === abortAt && controller.abort()) },
      });
      if (abortAt !== null) {
        assert.equal(first.aborted, true);
        manualSeed(999); // the checkpoint's generator state must win over this
        ({ module, optimizer } = make());
        const second = await train({ ...common, module, optimizer, resume: true });
        assert.equal(second.aborted, false);
        assert.equal(second.steps, 12);
      }
      return cat(module.parameters().map((p) => p.flatten())).toArray() as Float32Array;
    };
    const whole = await run(null);
    const resumed = await run(9); // mid-epoch 2, inside an accumulation group
    assert.equal(maxAbsDiff(whole, resumed), 0);
  });

  it('resumes only a run with the same settings; other settings start over', async function () {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'sd-settings-'));
    const messages: string[] = [];
    const run = async (epochs: number, extra: unknown) => {
      const module = load();
      return train({
        module,
        optimizer: new optim.SGD(module.parameters(), { lr: 0.01 }),
        data,
        epochs,
        runDir,
        progress: (e) => void (e.message && messages.push(e.message)),
        resume: true,
        extra,
      });
    };
    await run(2, { epochs: 2, lr: 0.01 });
    const same = await run(3, { epochs: 2, lr: 0.01 }); // the same settings: continues at epoch 3
    assert.equal(same.steps, 18);
    assert.equal(same.history[0]!.seconds, (await run(3, { epochs: 2, lr: 0.01 })).history[0]!.seconds, 'epoch 1 kept, not rerun');
    assert.equal(same.history.length, 3);
    assert.ok(
      messages.some((m) => /resumed from .* at epoch 3/.test(m)),
      JSON.stringify(messages),
    );
    const other = await run(2, { epochs: 2, lr: 0.05 });
    assert.equal(other.steps, 12, 'started over: two epochs of six batches');
    assert.equal(other.history.length, 2);
    assert.ok(
      messages.some((m) => /other settings or inputs: starting over/.test(m)),
      messages.join('\n'),
    );
    const info = await readCheckpointInfo(other.lastCheckpoint);
    assert.equal(info.epoch, 2);
    assert.deepEqual((info.extra as { config: unknown }).config, { epochs: 2, lr: 0.05 });
  });

  it('stops early when the metric stops improving', async function () {
    const module = load();
    const r = await train({
      module,
      optimizer: new optim.SGD(module.parameters(), { lr: 0 }),
      data,
      epochs: 10,
      runDir: mkdtempSync(path.join(os.tmpdir(), 'sd-early-')),
      progress: 'none',
      validate: async () => ({ valDice: 0.5 }),
      earlyStop: { patience: 2 },
    });
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.history.length, 3);
    assert.equal(r.bestEpoch, 0);
  });

  it('reports progress as events', async function () {
    const module = load();
    const events: string[] = [];
    await train({
      module,
      optimizer: new optim.SGD(module.parameters(), { lr: 0.01 }),
      data: fromFunction(2, synthetic),
      epochs: 1,
      runDir: mkdtempSync(path.join(os.tmpdir(), 'sd-progress-')),
      progress: (e) => events.push(`${e.unit}:${e.done}/${e.total}`),
    });
    assert.deepEqual(events, ['batch:1/2', 'batch:2/2', 'epoch:1/1']);
  });
});
