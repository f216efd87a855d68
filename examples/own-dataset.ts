// Your own dataset and a teacher trained in Python, through the same stages as the demo.
//
//   npx tsx examples/own-dataset.ts --dataset DIR --teacher unest.pt [--student swin_unet]
//       [--out runs/mine] [--device cuda] [--epochs 100]
//
// DIR holds dataset.json (docs/dataset-json.md): labelled 3D volumes for the prototype and
// labelled single slices for the student. The teacher is a TorchScript file, e.g. a UNesT
// trained with MONAI and exported with its state_dict:
//
//   PYTHONPATH=python python -m slice_distill_models.export --arch unest --preset base \
//       --weights my_unest_state_dict.pt --out unest.pt
//
// Any 3D TorchScript model keeping the model contract (docs/design.md: [B, 1, D, H, W] in [0, 1]
// -> [B, 7, D, H, W] logits) works; set teacher.roi / spacing to what it was trained with.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, report as reports, type EvaluationResult } from 'slice-distill';

const { resolveConfig, openDataset, STUDENT_NAMES, distill, evaluate, pretrain, extractPrototype, report } = pipeline;
const { diceTableText } = reports;
type Arch2d = pipeline.Arch2d;
type PartialConfig = pipeline.PartialConfig;

const { values: a } = parseArgs({
  options: {
    dataset: { type: 'string' },
    teacher: { type: 'string' },
    student: { type: 'string', default: 'deeplabv3' },
    out: { type: 'string', default: 'runs/own-dataset' },
    device: { type: 'string', default: 'cpu' },
    epochs: { type: 'string', default: '100' },
  },
});
if (!a.dataset || !a.teacher) {
  console.error('usage: npx tsx examples/own-dataset.ts --dataset DIR --teacher unest.pt [--student ARCH] [--out DIR] [--device cuda] [--epochs N]');
  process.exit(2);
}
const arch = a.student as Arch2d;
const epochs = Number(a.epochs);
const out = path.resolve(a.out!);
await mkdir(out, { recursive: true });

// The paper's recipes (docs/design.md), a teacher brought from Python, the base-size student.
const partial: PartialConfig = {
  dataset: path.resolve(a.dataset),
  runDir: out,
  device: a.device as 'cpu',
  teacher: { name: 'unest', model: path.resolve(a.teacher) },
  student: { arch, preset: 'base', size: 224, epochs, lr: arch === 'deeplabv3' ? 0.01 : 0.05 },
  distill: { epochs, beta: 0.5 },
};
await writeFile(path.join(out, 'config.json'), JSON.stringify(partial, null, 2) + '\n');
const config = resolveConfig(partial, process.cwd(), path.join(out, 'config.json'));

await openDataset(config.dataset); // every problem of the dataset at once, before any training
const proto = await extractPrototype(config);
console.log(`teacher prototype: ${proto.file} (${proto.volumes} volumes)`);
const base = await pretrain(config);
const distilled = await distill(config);
const evaluated = await evaluate(config, [
  { model: STUDENT_NAMES[arch], variant: 'none', checkpoint: base.bestCheckpoint },
  { model: STUDENT_NAMES[arch], variant: 'unest', checkpoint: distilled.bestCheckpoint },
]);
const results = JSON.parse(await readFile(path.join(evaluated.dir, 'results.json'), 'utf8')) as { results: EvaluationResult[] };
console.log(diceTableText(results.results));
await report(config, { evaluation: path.join(evaluated.dir, 'results.json'), out: path.join(out, 'report') });
console.log(`report: ${path.join(out, 'report', 'index.html')}`);
