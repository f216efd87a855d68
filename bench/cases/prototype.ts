// Teacher prototype extraction over the phantom's volumes, as the prototype stage does it:
// each volume windowed and resampled (prepared once, outside the timing), segmented whole by
// the tiny UNesT with Gaussian sliding windows, then its logits accumulated into the prototype.
// Python does the same with a MONAI-style sliding window and a scatter_add accumulator.
import { ScriptModule, ops, noGrad, slidingWindowInference, tensor, type Tensor } from '../../lib/index.js';
import { DEFAULT_HU_WINDOW } from '../../lib/data/transforms.js';
import { prepareVolume, volumePipeline, volumeRef } from '../../lib/pipeline/volumes.js';
import type { BenchCase, Row } from '../support/context.js';
import { alternate, median, timeMs } from '../support/timing.js';

const ROI = [64, 64, 64];
const OVERLAP = 0.5;

export const prototypeCase: BenchCase = {
  name: 'prototype',
  title: 'teacher prototype extraction (tiny UNesT sliding windows + accumulator), volumes/s',
  async run(bench) {
    const { device, quick } = bench.options;
    const dataset = await bench.phantom();
    // [z, y, x] mm: 6 mm gives one window per phantom volume, 3 / 4 / 4 mm eight
    const spacing = quick ? [6, 6, 6] : [3, 4, 4];
    const pipeline = volumePipeline(dataset);
    const volumes = dataset.volumes.map((v) => {
      const s = prepareVolume(pipeline, volumeRef(v), spacing, DEFAULT_HU_WINDOW);
      return { image: tensor(s.image, [1, 1, ...s.shape]), label: tensor(s.label!, [1, ...s.shape]), shape: s.shape };
    });
    const teacher = await bench.model('unest', 'tiny');
    bench.resetPeaks();
    const py = await bench.python();
    await py.setup('prototype', {
      model: teacher.path,
      volumes: volumes.map((v) => ({ image: bench.share(v.image), label: bench.share(v.label) })),
      roi: ROI,
      overlap: OVERLAP,
      classes: 7,
    });
    const module = await ScriptModule.load(teacher.path, { device });
    module.eval();
    module.freeze();
    const onDevice: [Tensor, Tensor][] = volumes.map((v) => [v.image.to(device), v.label.to(device)]);
    const pass = async () => {
      const acc = new ops.PrototypeAccumulator({ numClasses: 7 });
      for (const [image, label] of onDevice) {
        const logits = await slidingWindowInference(module, image, { roiSize: ROI, overlap: OVERLAP });
        noGrad(() => acc.add(logits, label));
        logits.dispose();
      }
      acc.result().prototype.dispose();
    };
    const times = await alternate([{ name: 'ts', run: () => timeMs(device, pass) }, py.side('python', 'python')], {
      warmup: Math.min(1, bench.options.warmup),
      reps: quick ? 1 : Math.max(3, Math.ceil(bench.options.reps / 3)),
    });
    const [t, p] = [median(times.ts!), median(times.python!)];
    const n = volumes.length;
    for (const v of volumes) [v.image, v.label].forEach((x) => x.dispose());
    for (const pair of onDevice) pair.forEach((x) => x.dispose());
    return [
      {
        name: `${n} phantom volume${n === 1 ? '' : 's'} (${volumes.map((v) => v.shape.join('x')).join(', ')}) at ${spacing.join('/')} mm, roi 64^3, overlap ${OVERLAP}`,
        unit: 'ms/pass',
        ts: { extract: t },
        py: { python: p },
        ratios: { 'py / TS': p / t },
        metrics: { tsVolumesPerS: n / (t / 1e3), pyVolumesPerS: n / (p / 1e3) },
        memory: await bench.memory(true),
        reps: times.ts!.length,
      } satisfies Row,
    ];
  },
};
