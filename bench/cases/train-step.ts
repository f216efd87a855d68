// One distillation training step (student forward, 0.4 CE + 0.6 Dice + 0.5 L_DIST, backward,
// SGD step) driven from TypeScript (one async native call) against the same step in Python
// PyTorch with the one-hot L_DIST and with the native op built as an extension; same
// TorchScript student, batch and threads, alternating.
import { ScriptModule, optim, randn, scope, trainStep, type Tensor } from '../../lib/index.js';
import type { ModelArch, ModelPreset } from '../../lib/models/export.js';
import type { Bench, BenchCase, Row } from '../support/context.js';
import { STUDENTS, studentPresets, studentReps, studentSetup } from '../support/students.js';
import { alternate, median, timeMs } from '../support/timing.js';

async function student(bench: Bench, arch: ModelArch, preset: ModelPreset, B: number, jsThreadPool = false): Promise<Row> {
  const { device } = bench.options;
  const { exported, batch: cpu, py, name } = await studentSetup(bench, arch, preset, B);
  // a parallel op on the JS thread leaves an OpenMP pool there (real training gets one from the
  // loader's batch conversion or validation); with the compute thread's pool that is more OpenMP
  // threads than CPUs when threads = CPUs, where libgomp throttles its spin-wait, unless the
  // addon frees that pool as async work is queued (native/binding/compute_thread.h)
  if (jsThreadPool)
    scope(() =>
      randn([1 << 22])
        .exp()
        .sum(),
    );
  const { sides, skipped } = await py.setup('train_step', {
    model: exported.path,
    input: bench.share(cpu.x),
    target: bench.share(cpu.y),
    teacher: bench.share(cpu.teacher),
  });

  const module = await ScriptModule.load(exported.path, { device });
  module.train();
  const optimizer = new optim.SGD(module.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const [x, y, teacher] = [cpu.x, cpu.y, cpu.teacher].map((t) => t.to(device)) as [Tensor, Tensor, Tensor];
  const loss = { crossEntropy: { weight: 0.4 }, dice: { weight: 0.6 }, dist: { weight: 0.5, teacherPrototype: teacher } };
  const times = await alternate(
    [{ name: 'ts', run: () => timeMs(device, () => trainStep({ module, optimizer, inputs: x, target: y, loss })) }, ...sides.map((s) => py.side(s))],
    studentReps(bench, preset),
  );
  const ts = median(times.ts!);
  const pyMs = Object.fromEntries(sides.map((s) => [s, median(times[`python ${s}`]!)]));
  const row: Row = {
    name: jsThreadPool ? `${name}, after a parallel op on the JS thread` : name,
    unit: 'ms/step',
    ts: { trainStep: ts },
    py: pyMs,
    ratios: Object.fromEntries(sides.map((s) => [`py ${s} / TS`, pyMs[s]! / ts])),
    metrics: {
      tsSlicesPerS: B / (ts / 1e3),
      parameters: exported.metadata.parameters,
      ...Object.fromEntries(Object.entries(skipped).map(([s, why]) => [`skipped ${s}`, why])),
    },
    memory: await bench.memory(true),
    reps: times.ts!.length,
  };
  for (const s of sides) {
    bench.target({ case: 'train', row: row.name, metric: `py ${s} / TS`, value: row.ratios[`py ${s} / TS`]!, goal: '>= 1.0' }, (v) => v >= 1);
  }
  [cpu.x, cpu.y, cpu.teacher, x, y, teacher].forEach((t) => t.dispose());
  optimizer.dispose(); // as Python drops each row's model: a later row does not run beside it
  module.dispose();
  return row;
}

export const trainCase: BenchCase = {
  name: 'train',
  title: 'distillation training step, TypeScript vs Python (one-hot L_DIST, extension L_DIST)',
  async run(bench) {
    if (!bench.options.base && !bench.options.quick)
      bench.notes.push('train: base presets left out on the CPU (a step takes seconds); add --base to include them');
    const rows: Row[] = [];
    for (const { preset, batch } of studentPresets(bench)) for (const arch of STUDENTS) rows.push(await student(bench, arch, preset, batch));
    rows.push(await student(bench, 'deeplabv3', 'tiny', 4, true)); // last: the JS thread's pool stays
    return rows;
  },
};
