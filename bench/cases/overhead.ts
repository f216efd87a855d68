// The cost of going off the JS thread: the same small forward and training step called
// synchronously and through the async worker path, alternating. TypeScript only.
import { ScriptModule, noGrad, optim, trainStep, trainStepSync, type Tensor } from '../../lib/index.js';
import { studentBatch } from '../support/batches.js';
import type { BenchCase } from '../support/context.js';
import { alternate, median, type Side } from '../support/timing.js';

/** Microseconds per call, over `n` calls (one call is too short to time alone). */
function perCall(name: string, n: number, fn: () => unknown): Side {
  return {
    name,
    run: async () => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await fn();
      return ((performance.now() - t0) * 1e3) / n;
    },
  };
}

export const overheadCase: BenchCase = {
  name: 'overhead',
  title: 'async dispatch overhead (sync vs async call of the same small work), CPU',
  async run(bench) {
    // the smallest student on a 32 x 32 batch of 2 (BatchNorm needs two samples to train)
    const exported = await bench.model('deeplabv3', 'tiny');
    const module = await ScriptModule.load(exported.path);
    const optimizer = new optim.SGD(module.parameters(), { lr: 0.01 });
    const { x, y, teacher } = studentBatch(2, 32, 32, 7);
    const spec = { module, optimizer, inputs: x, target: y };
    const n = bench.options.quick ? 3 : 50;
    const o = { warmup: 1, reps: bench.options.quick ? 1 : bench.options.reps };
    bench.resetPeaks();
    module.eval();
    const fwd = await alternate(
      [
        perCall('sync', n, () => noGrad(() => module.forwardTensor(x).dispose())),
        perCall('async', n, async () => ((await module.forwardAsync(x)) as Tensor).dispose()),
      ],
      o,
    );
    module.train();
    const step = await alternate([perCall('sync', n, () => trainStepSync(spec)), perCall('async', n, () => trainStep(spec))], o);
    const memory = await bench.memory(false);
    [x, y, teacher].forEach((t) => t.dispose());
    return [
      ['forward (eval) deeplabv3 tiny 2x1x32x32', fwd],
      ['trainStep deeplabv3 tiny 2x1x32x32', step],
    ].map(([name, times]) => {
      const t = times as Record<string, number[]>;
      const [sync, async] = [median(t.sync!), median(t.async!)];
      return {
        name: name as string,
        unit: 'us/call',
        ts: { sync, async },
        py: {},
        ratios: { 'async / sync': async / sync },
        metrics: { overheadUs: async - sync },
        memory,
        reps: t.sync!.length,
      };
    });
  },
};
