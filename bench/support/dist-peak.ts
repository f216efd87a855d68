// Child process of the dist-op case: the peak RSS growth of three forward + backward calls of
// the fused or the reference op, in MiB, as one JSON line.
//   tsx bench/support/dist-peak.ts fused|reference THREADS B C H W
import { ops, randn, scope, setNumThreads } from '../../lib/index.js';
import { ctLabels } from './batches.js';
import { peakRssMiB } from './timing.js';

const [impl, threads, B, C, H, W] = process.argv.slice(2) as [string, ...string[]];
const [b, c, h, w] = [B, C, H, W].map(Number) as [number, number, number, number];
setNumThreads(Number(threads));
const op = impl === 'fused' ? ops : ops.reference;
const logits = randn([b, c, h, w]);
const labels = ctLabels([b, h, w], c);
const teacher = randn([c, c]);
const before = peakRssMiB();
for (let i = 0; i < 3; i++) scope(() => op.protoDistLoss(logits.detach().requiresGrad_(), labels, teacher).backward());
console.log(JSON.stringify({ peakMiB: peakRssMiB() - before }));
