// Run in a fresh process by test/unit/tensor/allocator.test.ts: `rounds` times, an 11 MB tensor,
// a small one kept, the large one freed; prints the RSS growth in MiB and the bytes kept alive.
import { readFileSync } from 'node:fs';
import { memory, randn, zeros, type Tensor } from '../../lib/index.js';

const rssMiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const rounds = Number(process.argv[2]);
const kept: Tensor[] = [];
const before = rssMiB();
for (let i = 0; i < rounds; i++) {
  const large = zeros([8, 7, 224, 224]);
  kept.push(randn([64]));
  large.dispose();
}
process.stdout.write(JSON.stringify({ growthMiB: rssMiB() - before, liveBytes: memory().bytes }));
