import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allocatorStats, configureAllocator, releaseCachedMemory, zeros, type AllocatorStats } from '../../../lib/index.js';

const MiB = 1 << 20;
const floats = (bytes: number): number[] => [bytes / 4];

describe('CPU tensor allocator', () => {
  let initial: AllocatorStats;
  before(function () {
    initial = allocatorStats();
    if (!initial.installed) this.skip(); // SLICE_DISTILL_ALLOCATOR=system
  });
  afterEach(() => {
    if (initial.installed)
      configureAllocator({ minBlockBytes: initial.minBlockBytes, cacheFloorBytes: initial.cacheFloorBytes, followPeak: initial.followPeak });
  });

  it('serves a freed large tensor from the cache: the next one of its size maps nothing', () => {
    zeros(floats(3 * MiB)).dispose();
    const before = allocatorStats();
    const t = zeros(floats(3 * MiB));
    const after = allocatorStats();
    assert.equal(after.hits, before.hits + 1);
    assert.equal(after.misses, before.misses);
    assert.equal(after.liveBytes - before.liveBytes, 3 * MiB);
    assert.equal(t.sum().item(), 0, 'a reused block is filled as asked');
    t.dispose();
  });

  it('small tensors stay with LibTorch’s allocator', () => {
    const before = allocatorStats();
    const t = zeros(floats(initial.minBlockBytes / 2));
    assert.equal(allocatorStats().liveBytes, before.liveBytes);
    t.dispose();
  });

  it('keeps idle memory within its limit, oldest out first, and releases it on request', () => {
    configureAllocator({ cacheFloorBytes: 8 * MiB, followPeak: false });
    const before = allocatorStats();
    const ts = Array.from({ length: 6 }, (_, i) => zeros(floats(2 * MiB + 4096 * (i + 1))));
    ts.forEach((t) => t.dispose());
    const after = allocatorStats();
    assert.equal(after.limitBytes, 8 * MiB);
    assert.ok(after.idleBytes <= 8 * MiB, `idle ${after.idleBytes}`);
    assert.ok(after.evictions >= before.evictions + 2, 'six blocks of 2 MiB and more: two or more returned');
    assert.ok(releaseCachedMemory() > 0);
    assert.equal(allocatorStats().idleBytes, 0);
  });

  it('with followPeak, the limit is the peak of live block bytes where that is above the floor', () => {
    configureAllocator({ cacheFloorBytes: 4 * MiB, followPeak: true });
    releaseCachedMemory(); // the peak starts again from what is live now
    const base = allocatorStats().liveBytes;
    const ts = [zeros(floats(6 * MiB)), zeros(floats(6 * MiB))];
    ts.forEach((t) => t.dispose());
    const s = allocatorStats();
    assert.equal(s.peakLiveBytes, base + 12 * MiB);
    assert.equal(s.limitBytes, base + 12 * MiB);
    assert.ok(s.idleBytes >= 12 * MiB, 'both blocks kept for the next step');
  });

  it('maps a new size only after idle blocks of other sizes make room: live and idle stay within the limit', () => {
    configureAllocator({ cacheFloorBytes: 8 * MiB, followPeak: false });
    releaseCachedMemory();
    Array.from({ length: 4 }, () => zeros(floats(2 * MiB))).forEach((t) => t.dispose());
    const t = zeros(floats(5 * MiB)); // fits no idle block: a miss
    const s = allocatorStats();
    assert.ok(s.idleBytes + s.liveBytes <= Math.max(8 * MiB, s.liveBytes), `idle ${s.idleBytes} + live ${s.liveBytes}`);
    t.dispose();
  });

  it('changing one setting keeps the others; a size under a page is a RangeError', () => {
    configureAllocator({ cacheFloorBytes: 5 * MiB });
    const s = allocatorStats();
    assert.equal(s.cacheFloorBytes, 5 * MiB);
    assert.equal(s.minBlockBytes, initial.minBlockBytes);
    assert.equal(s.followPeak, initial.followPeak);
    assert.throws(
      () => configureAllocator({ minBlockBytes: -1 }),
      (e: Error) => e instanceof RangeError && /minBlockBytes/.test(e.message),
    );
    assert.throws(
      () => configureAllocator({ minBlockBytes: 1 }),
      (e: Error) => e instanceof RangeError && /minBlockBytes: must be >= \d+ \(a page\)/.test(e.message),
    );
  });
});

// Whatever the allocator: SLICE_DISTILL_ALLOCATOR=system fails this, as LibTorch's default does.
describe('CPU memory under a mix of large and small tensors', () => {
  it('the heap does not grow when small tensors are kept between large ones', function () {
    // LibTorch's default allocator (posix_memalign in glibc) grew RSS by about 2.1 GB over
    // these 200 rounds with 13 KB alive: each freed block's hole was too small for the next
    if (!existsSync('/proc/self/status')) this.skip();
    const child = fileURLToPath(new URL('../../support/heap-growth-child.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--import', 'tsx', child, '200'], { encoding: 'utf8' });
    const { growthMiB, liveBytes } = JSON.parse(out) as { growthMiB: number; liveBytes: number };
    assert.ok(liveBytes < 64 * 1024, `kept ${liveBytes} bytes`);
    assert.ok(growthMiB < 100, `RSS grew by ${growthMiB.toFixed(0)} MiB over 200 rounds`);
  });
});
