// A training loop of your own from the library's pieces: the loader, a student module, an
// optimizer and schedule, the fused DIST loss, and async training steps that leave the event
// loop free. Here: distil a tiny DeepLabv3 on the phantom with a prototype made on the spot
// from the labels' one-hot maps (a stand-in for a teacher's).
//
//   npx tsx examples/custom-loop.ts
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DataLoader, ScriptModule, exportModel, generatePhantom, loadDataset, ops, optim, scope, trainStep, transforms } from 'slice-distill';

const dir = await mkdtemp(path.join(os.tmpdir(), 'sd-custom-'));
await generatePhantom({ out: path.join(dir, 'data'), volumes: 0, slices: 48, seed: 2, sliceSize: 96 });
const dataset = await loadDataset(path.join(dir, 'data'));
await exportModel({ arch: 'deeplabv3', preset: 'tiny', out: path.join(dir, 'student.pt') });
const student = await ScriptModule.load(path.join(dir, 'student.pt'));
student.train();

const loader = DataLoader.fromDataset(dataset, { kind: 'slices', transforms: transforms.student2d(64), batchSize: 8, workers: 1, seed: 0 });
const epochs = 15;
const optimizer = new optim.AdamW(student.parameters(), { lr: 2e-3, weightDecay: 1e-4 });
const schedule = optim.schedules.poly({ baseLr: 2e-3, total: epochs * loader.length });

// A prototype from one-hot "logits" of the labels: each class's row peaks in its own channel.
const accumulator = new ops.PrototypeAccumulator({ numClasses: 7 });
for await (const batch of loader.iterate(0)) {
  scope(() => accumulator.add(batch.label!.oneHot(7).permute([0, 3, 1, 2]).float(), batch.label!));
  batch.dispose();
}
const teacherPrototype = accumulator.result().prototype.float();

let step = 0;
const ticker = setInterval(() => process.stdout.write('.'), 250); // the event loop stays free
for (let epoch = 0; epoch < epochs; epoch++) {
  let sum = 0;
  for await (const batch of loader.iterate(epoch)) {
    optimizer.lr = schedule(step++);
    const r = await trainStep({
      module: student,
      optimizer,
      inputs: batch.image,
      target: batch.label!,
      loss: { crossEntropy: { weight: 0.4 }, dice: { weight: 0.6 }, dist: { weight: 0.5, teacherPrototype } },
    });
    sum += r.loss;
    batch.dispose();
  }
  process.stdout.write(`\nepoch ${epoch + 1}: mean loss ${(sum / loader.length).toFixed(4)}`);
}
clearInterval(ticker);
console.log(`\ndone; files in ${dir}`);
await loader.close();
