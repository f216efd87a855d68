import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset, type Dataset } from '../../../lib/data/dataset.js';
import { DataLoadError } from '../../../lib/data/errors.js';
import { DataLoader, type Batch } from '../../../lib/loader/loader.js';
import { generatePhantom } from '../../../lib/data/phantom.js';
import * as T from '../../../lib/data/transforms.js';
import { tempDir } from '../../support/data-fixtures.js';
import { REPO_ROOT } from '../../support/paths.js';

interface Seen {
  subjects: string[][];
  images: number[][];
  labels: number[][];
}

async function collect(loader: DataLoader, epoch?: number): Promise<Seen> {
  const seen: Seen = { subjects: [], images: [], labels: [] };
  const iterable: AsyncIterable<Batch> = epoch === undefined ? loader : { [Symbol.asyncIterator]: () => loader.iterate(epoch) };
  for await (const b of iterable) {
    seen.subjects.push(b.subjects);
    seen.images.push(Array.from(b.image.toArray() as Float32Array));
    seen.labels.push(Array.from(b.label!.toArray() as BigInt64Array, Number));
    b.dispose();
  }
  return seen;
}

describe('data: loader', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let ds: Dataset;
  before(async () => {
    tmp = tempDir();
    const r = await generatePhantom({ out: tmp.dir, seed: 5, volumes: 2, slices: 10, volumeShape: [32, 32, 24], volumeZSpacing: 12, sliceSize: 48 });
    ds = await loadDataset(r.datasetFile);
  });
  after(() => tmp.cleanup());

  const options2d = { kind: 'slices' as const, batchSize: 4, transforms: T.student2d(32), seed: 9 };

  it('2D batches: image float32 [B, 1, H, W], label int64 [B, H, W], subjects; the same on 0, 1 and 2 workers', async () => {
    const results: Seen[] = [];
    for (const workers of [0, 1, 2]) {
      const loader = DataLoader.fromDataset(ds, { ...options2d, workers });
      try {
        assert.equal(loader.length, 3);
        let first: Batch | null = null;
        for await (const b of loader.iterate(0)) {
          first ??= b;
          assert.equal(b.image.dtype, 'float32');
          assert.equal(b.label!.dtype, 'int64');
          assert.deepEqual(b.image.shape.slice(1), [1, 32, 32]);
          assert.deepEqual(b.label!.shape.slice(1), [32, 32]);
          assert.equal(b.subjects.length, b.image.shape[0]);
        }
        assert.deepEqual(first!.image.shape, [4, 1, 32, 32]);
        results.push(await collect(loader, 0));
      } finally {
        await loader.close();
      }
    }
    assert.deepEqual(results[1], results[0], '1 worker = in-process');
    assert.deepEqual(results[2], results[0], '2 workers = in-process');
    const values = results[0].images.flat();
    assert.ok(Math.min(...values) >= 0 && Math.max(...values) <= 1, 'windowed to [0, 1]');
    assert.ok(new Set(results[0].labels.flat()).size >= 4, 'several classes present');
  });

  it('shuffles per epoch, reproducibly from the seed; dropLast', async () => {
    const loader = DataLoader.fromDataset(ds, { ...options2d, workers: 0 });
    const again = DataLoader.fromDataset(ds, { ...options2d, workers: 0 });
    const e0 = await collect(loader);
    const e1 = await collect(loader);
    assert.equal(loader.epoch, 2);
    assert.notDeepEqual(e0.subjects, e1.subjects, 'a new order each epoch');
    assert.deepEqual(e0.subjects.flat().sort(), e1.subjects.flat().sort(), 'each subject once per epoch');
    assert.deepEqual(await collect(again, 1), e1, 'epoch 1 is the same from a fresh loader');
    const dropping = DataLoader.fromDataset(ds, { ...options2d, workers: 0, dropLast: true });
    assert.equal(dropping.length, 2);
    assert.equal((await collect(dropping)).subjects.length, 2);
  });

  it('3D batches of random crops [B, 1, D, H, W], several per volume, with a z range', async () => {
    const loader = DataLoader.fromDataset(ds, {
      kind: 'volumes',
      batchSize: 2,
      samplesPerItem: 2,
      workers: 2,
      transforms: [T.window(), T.randomCrop([8, 16, 16], { pos: 1, neg: 1 })],
      zRanges: new Map([[ds.volumes[0].image, [4, 20] as [number, number]]]),
      pinMemory: true,
    });
    try {
      assert.equal(loader.pinMemory, true);
      let n = 0;
      for await (const b of loader) {
        assert.deepEqual(b.image.shape, [2, 1, 8, 16, 16]);
        assert.deepEqual(b.label!.shape, [2, 8, 16, 16]);
        assert.equal(b.image.device, 'cpu');
        n++;
      }
      assert.equal(n, 2);
    } finally {
      await loader.close();
    }
  });

  it('a corrupt file mid-epoch fails that epoch with a DataLoadError naming it, on workers and in-process', async () => {
    const broken = tempDir();
    try {
      cpSync(tmp.dir, broken.dir, { recursive: true });
      const bad = path.join(broken.dir, 'slices', 'phantom-s006.nii.gz');
      const bytes = readFileSync(bad);
      writeFileSync(bad, bytes.subarray(0, bytes.length >> 1));
      const badDs = await loadDataset(broken.dir);
      for (const workers of [2, 0]) {
        const loader = DataLoader.fromDataset(badDs, { ...options2d, workers, shuffle: false });
        try {
          let batches = 0;
          await assert.rejects(
            (async () => {
              for await (const b of loader) {
                batches++;
                b.dispose();
              }
            })(),
            (e: unknown) => {
              assert.ok(e instanceof DataLoadError, `got ${e}`);
              assert.equal(e.file, bad);
              assert.match(e.message, /phantom-s006\.nii\.gz.*truncated gzip/);
              return true;
            },
          );
          assert.ok(batches <= 1, 'fails in the batch with the broken file');
          // the loader stays usable: the next epoch runs (and fails the same way) without hanging
          await assert.rejects(collect(loader), DataLoadError);
        } finally {
          await loader.close();
        }
      }
    } finally {
      broken.cleanup();
    }
  });

  it('breaking out of an epoch leaves the loader ready for the next', async () => {
    const loader = DataLoader.fromDataset(ds, { ...options2d, workers: 2, prefetch: 2 });
    try {
      for await (const b of loader) {
        b.dispose();
        break;
      }
      const full = await collect(loader);
      assert.equal(full.subjects.length, 3);
    } finally {
      await loader.close();
    }
    assert.throws(() => new DataLoader({ items: [], spatialDims: 2, transforms: [{ type: 'nope' } as never] }), /unknown transform/);
    assert.throws(() => new DataLoader({ items: [], spatialDims: 2, batchSize: 0 }), /batchSize/);
  });

  it('a sample that does not fit the batch shape is named', async () => {
    const loader = DataLoader.fromDataset(ds, { kind: 'volumes', batchSize: 2, workers: 0, transforms: [T.window()] });
    // the two phantom volumes share a shape; a slice-sized item does not
    const mixed = new DataLoader({
      items: [{ ...loader.items[0] }, { image: ds.slices[0].image, label: ds.slices[0].label, subject: 'x' }],
      spatialDims: 3,
      batchSize: 2,
      workers: 0,
      shuffle: false,
    });
    await assert.rejects(
      collect(mixed),
      (e: unknown) => e instanceof DataLoadError && e.file === ds.slices[0].image && /differs from the batch's/.test(e.message),
    );
  });

  it('the worker never loads the native addon (its imports stay inside lib/data, which the layer rules keep addon-free)', () => {
    const lib = path.join(REPO_ROOT, 'lib');
    const dataDir = path.join(lib, 'data');
    const worker = path.join(lib, 'loader', 'loader-worker.ts');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
        if (/^\s*import\s+type\s/.test(m[0])) continue;
        const target = path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts');
        visit(target);
      }
    };
    visit(worker);
    const outside = [...seen].filter((f) => f !== worker && !f.startsWith(dataDir + path.sep));
    assert.deepEqual(outside, [], 'imports outside lib/data');
    assert.ok(![...seen].some((f) => /loader\.ts$|body-part-regressor\.ts$/.test(f)));
    assert.ok(seen.size >= 5);
  });
});
