// Inference throughput: a student's forward in eval mode off the JS thread (forwardAsync runs
// without grad) against Python's forward under torch.no_grad, same batch.
import { ScriptModule, type Tensor } from '../../lib/index.js';
import type { ModelArch, ModelPreset } from '../../lib/models/export.js';
import type { Bench, BenchCase, Row } from '../support/context.js';
import { STUDENTS, studentPresets, studentReps, studentSetup } from '../support/students.js';
import { alternate, median, timeMs } from '../support/timing.js';

async function student(bench: Bench, arch: ModelArch, preset: ModelPreset, B: number): Promise<Row> {
  const { device } = bench.options;
  const { exported, batch: cpu, py, name } = await studentSetup(bench, arch, preset, B);
  await py.setup('inference', { model: exported.path, input: bench.share(cpu.x) });
  const module = await ScriptModule.load(exported.path, { device });
  module.eval();
  const x = cpu.x.to(device);
  const forward = async () => ((await module.forwardAsync(x)) as Tensor).dispose();
  const times = await alternate([{ name: 'ts', run: () => timeMs(device, forward) }, py.side('python', 'python')], studentReps(bench, preset));
  const [t, p] = [median(times.ts!), median(times.python!)];
  [cpu.x, cpu.y, cpu.teacher, x].forEach((v) => v.dispose());
  return {
    name,
    unit: 'ms/batch',
    ts: { forwardAsync: t },
    py: { noGrad: p },
    ratios: { 'py / TS': p / t },
    metrics: { tsSlicesPerS: B / (t / 1e3), pySlicesPerS: B / (p / 1e3) },
    memory: await bench.memory(true),
    reps: times.ts!.length,
  };
}

export const inferenceCase: BenchCase = {
  name: 'inference',
  title: 'student inference (eval, no grad), slices/s',
  async run(bench) {
    const rows: Row[] = [];
    // twice the training batch: no gradients to keep
    for (const { preset, batch } of studentPresets(bench)) for (const arch of STUDENTS) rows.push(await student(bench, arch, preset, 2 * batch));
    return rows;
  },
};
