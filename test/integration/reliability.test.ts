// Issue 15: each fault found by hand, as a test, plus property-based fuzzing (fast-check) of the
// NIfTI reader, the config schema and the checkpoint loader. SLICE_DISTILL_FUZZ_RUNS raises the
// number of fuzz cases (default small enough for CI on two cores).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import {
  CheckpointError,
  FileSystemError,
  LockedError,
  ModuleLoadError,
  ScriptModule,
  getNumThreads,
  loadCheckpoint,
  optim,
  saveCheckpoint,
  setNumThreads,
  tensor,
  trainStep,
  zeros,
} from '../../lib/index.js';
import * as nifti from '../../lib/data/nifti.js';
import { DatasetError, NiftiError } from '../../lib/data/errors.js';
import { loadDataset, validateDataset } from '../../lib/data/dataset.js';
import { loadConfig } from '../../lib/pipeline/config.js';
import { ConfigError } from '../../lib/pipeline/config-schema.js';
import { runStage } from '../../lib/pipeline/manifest.js';
import { train, NonFiniteLossError } from '../../lib/train/trainer.js';
import { fromFunction } from '../../lib/train/data-source.js';
import { copyFileAtomic, removeStaleTemps, writeFileAtomic } from '../../lib/util/atomic-write.js';
import { lockDir } from '../../lib/util/dir-lock.js';
import { parseArgs, UsageError } from '../../lib/cli/args.js';
import { SUBJECTS_OPTION } from '../../lib/cli/commands/stage-common.js';
import { CASE_A, CASE_B } from '../support/data-fixtures.js';
import { generatePhantom } from '../../lib/data/phantom.js';
import { fixturesOrSkip, maxAbsDiff, projectRoot, type Fixtures } from '../support/python.js';
import { fixedBatch, trainSteps } from '../support/training.js';

const RUNS = Number(process.env.SLICE_DISTILL_FUZZ_RUNS ?? 60);
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'sd-rel-'));

function header2d(extra: (view: DataView) => void = () => {}): Buffer {
  const img: nifti.NiftiImage = {
    data: new Int16Array(16).map((_, i) => i),
    shape: [4, 4, 1],
    spacing: [1, 1, 1],
    affine: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ],
  } as nifti.NiftiImage;
  const h = nifti.buildHeader(img, 'int16');
  const buf = Buffer.from(nifti.encode(h, img.data));
  extra(new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
  return buf;
}
// NIfTI-1 offsets: qform_code 252, sform_code 254, quatern_b 256, qoffset 268, srow_x 280, scl_slope 112
const SROW = 280;

describe('reliability (issue 15)', function () {
  let fx: Fixtures;
  before(async function () {
    fx = await fixturesOrSkip(this);
  });

  it('1: best.ckpt is copied atomically (a failed copy leaves the old file, a typed error names it)', async () => {
    const d = tmp();
    const best = path.join(d, 'best.ckpt');
    writeFileSync(best, 'old');
    await assert.rejects(copyFileAtomic(path.join(d, 'missing'), best), (e: unknown) => e instanceof FileSystemError && e.message.includes(best));
    assert.equal(readFileSync(best, 'utf8'), 'old');
    assert.deepEqual(readdirSync(d), ['best.ckpt'], 'no temp file left');
    const src = path.join(d, 'last.ckpt');
    writeFileSync(src, 'new');
    await copyFileAtomic(src, best);
    assert.equal(readFileSync(best, 'utf8'), 'new');
    rmSync(d, { recursive: true });
  });

  it('1/11: ENOSPC and a read-only folder in a write are FileSystemErrors naming the file; the old file stays (tmpfs)', async function () {
    const d = tmp();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { stdio: 'ignore' });
    } catch {
      rmSync(d, { recursive: true });
      this.skip();
    }
    try {
      const f = path.join(d, 'best.ckpt');
      await writeFileAtomic(f, 'old');
      await assert.rejects(
        writeFileAtomic(f, Buffer.alloc(1 << 20)),
        (e: unknown) => e instanceof FileSystemError && e.code === 'ENOSPC' && e.message.startsWith(f),
      );
      assert.equal(readFileSync(f, 'utf8'), 'old');
      assert.deepEqual(readdirSync(d), ['best.ckpt']);
      // a read-only folder says so (it used to say ENOENT)
      execFileSync('mount', ['-o', 'remount,ro', d]);
      await assert.rejects(
        writeFileAtomic(f, 'new'),
        (e: unknown) => e instanceof FileSystemError && e.code === 'EROFS' && e.message.startsWith(f) && /read-only/.test(e.message),
      );
      assert.equal(readFileSync(f, 'utf8'), 'old');
    } finally {
      execFileSync('umount', [d]);
      rmSync(d, { recursive: true });
    }
  });

  it('2: setNumThreads refuses counts that cannot be created and keeps the old value', () => {
    const before = getNumThreads();
    assert.throws(() => setNumThreads(100000), RangeError);
    assert.equal(getNumThreads(), before);
    zeros([256, 256])
      .matmul(zeros([256, 256]))
      .dispose(); // a parallel op still works
  });

  it('2/5: the schema bounds threads and workers', async () => {
    const d = tmp();
    const f = path.join(d, 'c.json');
    writeFileSync(f, JSON.stringify({ dataset: '.', runDir: 'r', threads: 100000, workers: 100000 }));
    await assert.rejects(
      loadConfig(f),
      (e: unknown) => e instanceof ConfigError && /threads: expected <= 256/.test(e.message) && /workers: expected <= 64/.test(e.message),
    );
    rmSync(d, { recursive: true });
  });

  it('3: a checkpoint whose tensor storage is cut short is a CheckpointError', async () => {
    const d = tmp();
    const module = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
    const f = path.join(d, 'a.ckpt');
    await saveCheckpoint(f, { module, optimizer });
    const bytes = readFileSync(f);
    // every cut is refused (never garbage weights)
    for (const cut of [0.3, 0.6, 0.9, 0.99]) {
      writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * cut)));
      await assert.rejects(loadCheckpoint(f, { module, optimizer }), { name: 'CheckpointError' });
    }
    rmSync(d, { recursive: true });
  });

  // LibTorch sizes a storage from data.pkl and fills it from its record: a record cut short in
  // an intact zip used to load as heap garbage. Every data/K record is cut in turn.
  const cutRecords = (src: string, dir: string): string[] => {
    const rewrite = [
      'import sys, zipfile, os',
      'src, out = zipfile.ZipFile(sys.argv[1]), sys.argv[2]',
      'names = [i.filename for i in src.infolist() if "/data/" in i.filename and not i.filename.endswith(".pkl")]',
      'for k, name in enumerate(names):',
      '    dst = zipfile.ZipFile(os.path.join(out, f"cut{k}" + os.path.splitext(sys.argv[1])[1]), "w")',
      '    for i in src.infolist():',
      '        data = src.read(i)',
      '        if i.filename == name: data = data[: len(data) // 2]',
      '        dst.writestr(zipfile.ZipInfo(i.filename, i.date_time), data)', // writestr would move i's offsets
      '    dst.close()',
    ].join('\n');
    execFileSync('python3', ['-c', rewrite, src, dir]);
    return readdirSync(dir)
      .filter((f) => f.startsWith('cut'))
      .map((f) => path.join(dir, f));
  };

  it('3: a module whose tensor record is cut short is a ModuleLoadError, not heap garbage', async () => {
    const d = tmp();
    const files = cutRecords(path.join(fx.dir, 'convnet.pt'), d);
    assert.equal(files.length, 9);
    for (const f of files) {
      await assert.rejects(
        ScriptModule.load(f),
        (e: unknown) => e instanceof ModuleLoadError && /a tensor record of the file holds \d+ bytes where its tensor needs \d+/.test(e.message),
        f,
      );
    }
    rmSync(d, { recursive: true });
  });

  it('3: a checkpoint whose module, optimizer or rng record is cut short is a CheckpointError', async () => {
    const d = tmp();
    const module = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
    await trainSteps(module, optimizer, fixedBatch(fx.dir), 1); // optimizer state to save
    const good = path.join(d, 'good.ckpt');
    await saveCheckpoint(good, { module, optimizer });
    const files = cutRecords(good, d);
    assert.ok(files.length > 10, `${files.length} records`);
    for (const f of files) {
      await assert.rejects(
        loadCheckpoint(f, { module, optimizer }),
        (e: unknown) => e instanceof CheckpointError && /holds \d+ bytes where its tensor needs/.test(e.message),
        f,
      );
    }
    rmSync(d, { recursive: true });
  });

  it('4: a .nii.gz that inflates past what its header promises is refused without inflating it whole', function () {
    const img = header2d();
    // 4 KB image + 512 MB of zeros: about 0.5 MB compressed
    const z = zlib.createGzip();
    const parts: Buffer[] = [];
    z.on('data', (c: Buffer) => parts.push(c));
    z.write(img);
    const zeros1 = Buffer.alloc(1 << 24);
    for (let i = 0; i < 32; i++) z.write(zeros1);
    z.end();
    return new Promise<void>((resolve) => z.on('end', resolve)).then(async () => {
      const d = tmp();
      const f = path.join(d, 'bomb.nii.gz');
      writeFileSync(f, Buffer.concat(parts));
      const rss = process.memoryUsage().rss;
      assert.throws(
        () => nifti.readSync(f),
        (e: unknown) => e instanceof NiftiError && /more than the \d+ bytes its header promises/.test(e.message),
      );
      await assert.rejects(nifti.read(f), NiftiError);
      assert.ok(process.memoryUsage().rss - rss < 200 * 2 ** 20, 'did not inflate the whole stream');
      rmSync(d, { recursive: true });
    });
  });

  it('5: the loader refuses workers beyond its bound', async () => {
    const { DataLoader } = await import('../../lib/loader/loader.js');
    assert.throws(() => new DataLoader({ items: [], spatialDims: 2, transforms: [], workers: 100000 } as never), /workers: expected at most 64/);
  });

  it('6/10: non-finite or degenerate geometry is a NiftiError naming the file', () => {
    const cases: [string, (v: DataView) => void][] = [
      [
        'NaN sform',
        (v) => {
          v.setInt16(254, 1, true);
          v.setFloat32(SROW, NaN, true);
        },
      ],
      [
        'all-zero sform',
        (v) => {
          v.setInt16(254, 1, true);
          for (let i = 0; i < 12; i++) v.setFloat32(SROW + 4 * i, 0, true);
        },
      ],
      [
        'rank-1 sform',
        (v) => {
          v.setInt16(254, 1, true);
          for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(SROW + 16 * r + 4 * c, c < 3 ? 1 : 0, true);
        },
      ],
      [
        'qform |b,c,d| > 1',
        (v) => {
          v.setInt16(254, 0, true);
          v.setInt16(252, 1, true);
          v.setFloat32(256, 0.9, true);
          v.setFloat32(260, 0.9, true);
        },
      ],
      [
        'infinite qoffset',
        (v) => {
          v.setInt16(254, 0, true);
          v.setInt16(252, 1, true);
          v.setFloat32(268, Infinity, true);
        },
      ],
      [
        'scl_slope overflow',
        (v) => {
          v.setFloat32(112, 3e38, true);
        },
      ],
    ];
    for (const [name, mutate] of cases) {
      assert.throws(
        () => nifti.decode(header2d(mutate), '/data/x.nii'),
        (e: unknown) => e instanceof NiftiError && e.message.startsWith('/data/x.nii:'),
        name,
      );
    }
  });

  it('7: a stage folder has one owner: refused while it lives, taken over when it is dead', async () => {
    const d = tmp();
    const child = spawn(
      process.execPath,
      [
        '--import=tsx/esm',
        '-e',
        `import('${path.resolve('lib/util/dir-lock.ts')}').then((m) => { m.lockDir(${JSON.stringify(d)}); console.log('locked'); setTimeout(() => {}, 60000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.on('data', () => resolve()));
    await assert.rejects(
      runStage({ stage: 'x', dir: d, config: {}, inputs: {}, seed: 0, work: async () => ({ outputs: {}, metrics: {}, result: 1 }), reuse: () => 0 }),
      (e: unknown) => e instanceof LockedError && e.owner.pid === child.pid,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const lock = lockDir(d); // the dead owner's lock is taken over
    lock.release();
    assert.ok(!existsSync(path.join(d, '.lock')));
    rmSync(d, { recursive: true });
  });

  it('kill -9 at random points and inside checkpoint writes: the run resumes exactly; best.ckpt and the log agree', async function () {
    this.timeout(300_000);
    const script = path.join(projectRoot, 'test', 'support', 'dist-rank.ts');
    const EPOCHS = 60; // enough that each launch has epochs left to be killed in
    const start = (out: string) =>
      spawn(process.execPath, [...process.execArgv, script, 'train', fx.dir, out, String(EPOCHS)], {
        env: { ...process.env, TEST_PRINT_EPOCHS: '1', WORLD_SIZE: '', OMP_NUM_THREADS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const finish = (child: ReturnType<typeof start>) =>
      new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ?? String(code))));
    const reference = tmp();
    assert.equal(await finish(start(reference)), '0');

    const out = tmp();
    const runDir = path.join(out, 'run');
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const kills = { 'at a random point': 0, 'inside a checkpoint write': 0 };
    for (let launch = 0; ; launch++) {
      assert.ok(launch < 40, 'the killed run never finished');
      const child = start(out);
      const done = finish(child);
      const killing = kills['at a random point'] + kills['inside a checkpoint write'] < 10;
      const inWrite = launch % 2 === 1;
      let watcher: ReturnType<typeof watch> | undefined;
      if (killing && !inWrite) {
        // after the first epoch of this launch, somewhere in the next few
        child.stdout!.once('data', () => setTimeout(() => child.kill('SIGKILL'), random() * 120));
      } else if (killing) {
        // on the n-th temporary file of last.ckpt, or of best.ckpt (written after last.ckpt,
        // before the log line): a half-written file, an epoch saved but not yet copied / logged
        mkdirSync(runDir, { recursive: true });
        const which = launch % 4 === 1 ? 'last' : 'best';
        let n = 1 + Math.floor(random() * 2);
        watcher = watch(runDir, (_event, name) => {
          if (name && name.includes(which) && name.endsWith('.tmp') && --n === 0) child.kill('SIGKILL');
        });
      }
      const how = await done;
      watcher?.close();
      if (how === '0') break;
      assert.equal(how, 'SIGKILL');
      kills[inWrite ? 'inside a checkpoint write' : 'at a random point']++;
    }
    console.log(`      kills: ${JSON.stringify(kills)}`);
    // a launch may still finish before its kill comes (fewer epochs left each time)
    assert.ok(
      kills['at a random point'] + kills['inside a checkpoint write'] >= 8 && kills['at a random point'] >= 3 && kills['inside a checkpoint write'] >= 3,
      JSON.stringify(kills),
    );

    type Out = { steps: number; ranHere: number; bestEpoch: number; params: number[][] };
    const a = JSON.parse(readFileSync(path.join(reference, 'train-0.json'), 'utf8')) as Out;
    const b = JSON.parse(readFileSync(path.join(out, 'train-0.json'), 'utf8')) as Out;
    assert.equal(b.steps, a.steps);
    assert.ok(b.ranHere < EPOCHS, 'the last launch resumed');
    assert.equal(b.bestEpoch, a.bestEpoch);
    for (let i = 0; i < a.params.length; i++) assert.ok(maxAbsDiff(a.params[i]!, b.params[i]!) < 1e-6, `parameter ${i}`);
    const lines = (dir: string) =>
      readFileSync(path.join(dir, 'run', 'train-log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    assert.deepEqual(lines(out), lines(reference));
    const best = await loadCheckpoint(path.join(runDir, 'best.ckpt'), { rng: false });
    assert.equal(best.epoch, a.bestEpoch + 1);
    assert.deepEqual(
      readdirSync(runDir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    rmSync(reference, { recursive: true });
    rmSync(out, { recursive: true });
  });

  it('1: a kill after last.ckpt is saved but before best.ckpt and the log follow is repaired on resume', async () => {
    const d = tmp();
    const module = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
    const { input, labels } = fixedBatch(fx.dir);
    const run = (epochs: number) =>
      train({
        module,
        optimizer,
        epochs,
        runDir: d,
        progress: 'none',
        resume: true,
        data: fromFunction(2, () => ({ image: input, label: labels })),
        validate: async (_m, epoch) => ({ score: epoch === 3 ? 1 : 0 }), // epoch 4 is the best
        monitor: { metric: 'score', mode: 'max' },
      });
    const best = path.join(d, 'best.ckpt');
    const log = path.join(d, 'train-log.jsonl');
    await run(3);
    const oldBest = readFileSync(best);
    const oldLog = readFileSync(log, 'utf8');
    await run(4);
    const fullLog = readFileSync(log, 'utf8');
    // as a kill -9 right after last.ckpt's rename leaves it: the old best, a torn log line
    writeFileSync(best, oldBest);
    writeFileSync(log, oldLog + fullLog.slice(oldLog.length, oldLog.length + 10));
    assert.equal((await loadCheckpoint(best, { rng: false })).epoch, 1);
    const r = await run(4);
    assert.equal(r.bestEpoch, 3);
    assert.equal((await loadCheckpoint(best, { rng: false })).epoch, 4);
    assert.deepEqual(
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { best: boolean }).best),
      [true, false, false, true],
    );
    rmSync(d, { recursive: true });
  });

  it('11: Ctrl-C stops a CLI stage at the next batch with a checkpoint and exit status 130', async function () {
    this.timeout(120_000);
    const d = tmp();
    await generatePhantom({ out: path.join(d, 'data'), volumes: 2, slices: 16, seed: 2, sliceSize: 32, slicePhase: 'portal-venous' });
    const config = path.join(d, 'c.json');
    writeFileSync(
      config,
      JSON.stringify({
        dataset: 'data',
        runDir: 'run',
        workers: 0,
        threads: 1,
        split: { train: 0.5, val: 0.25, test: 0.25 },
        student: { arch: 'deeplabv3', model: path.join(fx.dir, 'plain.pt'), size: 32, epochs: 100000, batchSize: 2, augment: false },
      }),
    );
    const child = spawn(
      process.execPath,
      [...process.execArgv, path.join(projectRoot, 'lib', 'cli', 'main.ts'), 'pretrain', '--config', config, '--progress', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (/"unit":"epoch"/.test(err)) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 50);
      child.once('close', (c) => (clearInterval(poll), resolve(c)));
    });
    assert.equal(code, 130, err);
    assert.match(err, /SIGINT: stopping at the next batch/);
    assert.ok(existsSync(path.join(d, 'run', 'students', 'deeplabv3', 'pretrain', 'last.ckpt')));
    rmSync(d, { recursive: true });
  });

  it('8: a non-finite loss skips the step; the Trainer names the files and stops after maxNonFinite', async () => {
    const module = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
    const { input, labels } = fixedBatch(fx.dir);
    const bad = input.mul(NaN);
    const weights = module.parameters().map((p) => p.toList());
    const r = await trainStep({ module, optimizer, inputs: bad, target: labels });
    assert.equal(r.stepped, false);
    assert.equal(r.nonFinite, true);
    assert.deepEqual(
      module.parameters().map((p) => p.toList()),
      weights,
      'weights untouched',
    );
    const d = tmp();
    await assert.rejects(
      train({
        module,
        optimizer,
        epochs: 1,
        runDir: d,
        maxNonFinite: 2,
        progress: 'none',
        data: fromFunction(4, (_e, i) => ({ image: bad, label: labels, refs: [{ image: `/data/s${i}.nii.gz` }] })),
      }),
      (e: unknown) => e instanceof NonFiniteLossError && e.files.join() === '/data/s0.nii.gz,/data/s1.nii.gz',
    );
    rmSync(d, { recursive: true });
  });

  it('9: misuse is refused: a foreign optimizer, an array index, --train-subjects 0', async () => {
    const a = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const b = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
    const { input, labels } = fixedBatch(fx.dir);
    await assert.rejects(
      trainStep({ module: a, optimizer: new optim.SGD(b.parameters(), { lr: 0.1 }), inputs: input, target: labels }),
      /not parameters of this module/,
    );
    assert.throws(() => tensor([1, 2, 3]).index([10] as never), TypeError);
    const spec = { name: 'pretrain', summary: '', options: { 'train-subjects': SUBJECTS_OPTION } } as never;
    assert.throws(
      () => parseArgs(spec, ['--train-subjects', '0']),
      (e: unknown) => e instanceof UsageError && /--train-subjects expects a value >= 1/.test(e.message),
    );
  });

  it('11: a module that fails to compile is a ModuleLoadError; stray temp files of dead writers are removed', async () => {
    const d = tmp();
    const stale = path.join(d, '.last.ckpt.999999.deadbeef.tmp');
    const live = path.join(d, `.last.ckpt.${process.pid}.cafebabe.tmp`);
    writeFileSync(stale, 'x');
    writeFileSync(live, 'x');
    removeStaleTemps(d);
    assert.ok(!existsSync(stale) && existsSync(live));
    // a TorchScript zip whose code does not compile: replace the code record's text
    const f = path.join(d, 'broken.pt');
    const rewrite = [
      'import sys, zipfile',
      'src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w")',
      'for i in src.infolist():',
      '    data = src.read(i)',
      '    if i.filename.endswith("code/__torch__.py"): data = data.replace(b"def forward(", b"def forward(x y, ")',
      '    dst.writestr(i, data)',
      'dst.close()',
    ].join('\n');
    execFileSync('python3', ['-c', rewrite, path.join(fx.dir, 'convnet.pt'), f]);
    await assert.rejects(ScriptModule.load(f), ModuleLoadError);
    rmSync(d, { recursive: true });
  });

  it("11: manifests store the stage folder's own files as relative paths and resolve them on read", async () => {
    const d = tmp();
    const out = path.join(d, 'best.ckpt');
    writeFileSync(out, 'x');
    await runStage({
      stage: 's',
      dir: d,
      config: { a: 1 },
      inputs: {},
      seed: 0,
      work: async () => ({ outputs: { bestCheckpoint: out }, metrics: {}, result: 1 }),
      reuse: () => 0,
    });
    assert.equal(JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8')).outputs.bestCheckpoint, 'best.ckpt');
    const copy = d + '-copy';
    execFileSync('cp', ['-r', d, copy]);
    const r = await runStage({
      stage: 's',
      dir: copy,
      config: { a: 1 },
      inputs: {},
      seed: 0,
      work: async () => assert.fail('reused'),
      reuse: (m) => m.outputs.bestCheckpoint,
    });
    assert.equal(r.result, path.join(copy, 'best.ckpt'));
    rmSync(d, { recursive: true });
    rmSync(copy, { recursive: true });
  });

  describe('fuzz', () => {
    const seeds = [CASE_A.seg, CASE_B.seg].filter(existsSync).map((f) => zlib.gunzipSync(readFileSync(f)));
    const limit = 1 << 30;
    const decodeSafely = (buf: Uint8Array) => {
      try {
        const img = nifti.decode(buf, '/fuzz.nii');
        assert.ok(img.data.byteLength < limit);
      } catch (e) {
        if (!(e instanceof NiftiError)) throw e; // a crash: anything but a typed error
      }
    };

    it(`NIfTI: mutated headers and truncations of real files give a typed error or a read (${RUNS} x 2 runs)`, function () {
      if (seeds.length === 0) this.skip();
      fc.assert(
        fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(351), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (s, edits) => {
          const b = Buffer.from(seeds[s]!);
          for (const [at, v] of edits) b[at] = v;
          decodeSafely(b);
        }),
        { numRuns: RUNS, seed: 15 },
      );
      fc.assert(
        fc.property(fc.nat(seeds.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (s, frac) => {
          decodeSafely(seeds[s]!.subarray(0, Math.floor(seeds[s]!.length * frac)));
          // and gzip truncations through the bounded inflate
          const z = zlib.gzipSync(seeds[s]!.subarray(0, 4096));
          decodeSafely(z.subarray(0, Math.floor(z.length * frac)));
        }),
        { numRuns: RUNS, seed: 16 },
      );
    });

    it(`dataset validator: mutated dataset.json entries and file bytes give a report or a DatasetError (${RUNS} x 2 runs)`, async () => {
      const d = tmp();
      await generatePhantom({ out: d, volumes: 1, slices: 3, seed: 4, sliceSize: 16, slicePhase: 'portal-venous' });
      const jsonFile = path.join(d, 'dataset.json');
      const original = JSON.parse(readFileSync(jsonFile, 'utf8')) as { slices: Record<string, unknown>[]; volumes: Record<string, unknown>[] };
      const fields = ['image', 'label', 'subject', 'phase', 'kidneyLevel'];
      const validate = async (): Promise<void> => {
        try {
          const report = await validateDataset(await loadDataset(d));
          for (const p of report.problems) assert.ok(typeof p.message === 'string' && p.message.length > 0);
        } catch (e) {
          if (!(e instanceof DatasetError)) throw e;
        }
      };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('slices', 'volumes'),
          fc.nat(2),
          fc.constantFrom(...fields),
          fc.jsonValue({ maxDepth: 1 }),
          async (kind, i, field, value) => {
            const json = structuredClone(original);
            const entry = json[kind as 'slices'][i % json[kind as 'slices'].length]!;
            entry[field] = value;
            writeFileSync(jsonFile, JSON.stringify(json));
            await validate();
          },
        ),
        { numRuns: RUNS, seed: 19 },
      );
      writeFileSync(jsonFile, JSON.stringify(original));
      const image = path.join(d, String(original.slices[0]!.image));
      const bytes = zlib.gunzipSync(readFileSync(image));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(351), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
          fc.double({ min: 0.1, max: 1, noNaN: true }),
          async (edits, keep) => {
            const b = Buffer.from(bytes.subarray(0, Math.floor(bytes.length * keep)));
            for (const [at, v] of edits) if (at < b.length) b[at] = v;
            writeFileSync(image, zlib.gzipSync(b));
            await validate();
          },
        ),
        { numRuns: RUNS, seed: 20 },
      );
      rmSync(d, { recursive: true });
    });

    it(`config schema: random JSON values for every key give a ConfigError or a config (${RUNS} runs)`, async () => {
      const d = tmp();
      const f = path.join(d, 'c.json');
      const keys = ['threads', 'workers', 'seed', 'trainSubjects', 'maxNonFinite', 'split', 'student', 'teacher', 'distill', 'patience'];
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 })), async (extra) => {
          writeFileSync(f, JSON.stringify({ dataset: '.', runDir: 'r', ...extra }));
          try {
            const c = await loadConfig(f);
            assert.ok(c.threads <= 256 && c.workers <= 64);
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
          }
        }),
        { numRuns: RUNS, seed: 17 },
      );
      rmSync(d, { recursive: true });
    });

    it(`checkpoint loader: mutated bytes give a CheckpointError or a checkpoint (${Math.ceil(RUNS / 3)} runs)`, async () => {
      const d = tmp();
      const module = ScriptModule.loadSync(path.join(fx.dir, 'convnet.pt'));
      const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
      const good = path.join(d, 'good.ckpt');
      await saveCheckpoint(good, { module, optimizer });
      const bytes = readFileSync(good);
      const f = path.join(d, 'm.ckpt');
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
          fc.double({ min: 0.05, max: 1, noNaN: true }),
          async (edits, keep) => {
            const b = Buffer.from(bytes.subarray(0, Math.floor(bytes.length * keep)));
            for (const [at, v] of edits) if (at < b.length) b[at] = v;
            writeFileSync(f, b);
            try {
              await loadCheckpoint(f, { module, optimizer, rng: false });
            } catch (e) {
              if ((e as Error).name !== 'CheckpointError') throw e;
            }
          },
        ),
        { numRuns: Math.ceil(RUNS / 3), seed: 18 },
      );
      assert.ok(statSync(good).size > 0);
      rmSync(d, { recursive: true });
    });
  });
});
