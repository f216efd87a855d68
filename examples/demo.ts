// npm run demo: what the library does today, end to end on the CPU.
//
// The distillation pipeline (phantom data, teacher prototype, student pretraining and
// distillation, evaluation report) lands with the pipeline issue; until then the demo
// exercises the native foundation: LibTorch loaded from TypeScript, tensors, autograd,
// in-place updates and scoped memory.
import { buildInfo, cuda, manualSeed, memory, noGrad, randn, scope, tensor, zeros } from '../lib/index.js';

const info = buildInfo();
console.log(`slice-distill on LibTorch ${info.torchVersion} (${info.cudaBuild ? 'CUDA' : 'CPU'} build)`);
console.log(`addon: ${info.addonPath}`);
console.log(`CUDA devices: ${cuda.isAvailable() ? cuda.deviceCount() : 0}`);

// Recover y = X w + b by gradient descent with autograd.
manualSeed(0);
const trueW = tensor([[2], [-3], [0.5]]);
const X = randn([256, 3]);
const y = scope(() => X.matmul(trueW).add(1));
const w = zeros([3, 1], { requiresGrad: true });
const b = zeros([1], { requiresGrad: true });
const lr = 0.1;
for (let step = 0; step <= 100; step++) {
  scope(() => {
    const loss = X.matmul(w).add(b).sub(y).square().mean();
    loss.backward();
    noGrad(() => {
      for (const p of [w, b]) {
        p.sub_(p.grad!, lr);
        p.zeroGrad();
      }
    });
    if (step % 25 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.item().toFixed(6)}`);
  });
}
const fitted = (w.toList() as number[][]).map((r) => r[0].toFixed(3));
console.log(`fitted w = [${fitted.join(', ')}], b = ${b.item().toFixed(3)} (true: [2, -3, 0.5], 1)`);
for (const t of [trueW, X, y, w, b]) t.dispose();
console.log(`live tensors after dispose: ${memory().tensors}`);
console.log('\nThe distillation pipeline (teacher prototype, student training, evaluation) is not built yet;');
console.log('it arrives with the pipeline issue. See README.md.');
