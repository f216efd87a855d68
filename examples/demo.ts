// npm run demo: the whole method on the built-in phantom, on the CPU, in minutes.
//
//   phantom data -> tiny 3D teacher (UNesT) -> teacher prototype -> tiny 2D student(s)
//   pretrained -> control and distilled -> evaluated (Dice; distilled vs control: mean
//   difference, bootstrap CI, Wilcoxon and Holm p) -> HTML report
//
// Everything goes to ./demo-output (or --out DIR). Run it again and finished stages are
// reused; interrupt it (Ctrl-C) and the next run resumes from the last checkpoint.
// Options: --quick (a shorter run, as CI uses), --students deeplabv3,swin_unet,missformer,
// --seeds 0,1,2 (repeat every student arm per training seed), --out DIR, --fresh (delete the
// output folder first).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildInfo, generatePhantom, pipeline, report } from 'slice-distill';

const { resolveConfig, runTable1 } = pipeline;
const { diceTableText, primaryComparisonText } = report;
type Arch2d = pipeline.Arch2d;
type PartialConfig = pipeline.PartialConfig;
type EvaluationFile = pipeline.EvaluationFile;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    students: { type: 'string', default: 'deeplabv3,swin_unet,missformer' },
    out: { type: 'string', default: 'demo-output' },
    fresh: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '0' },
    progress: { type: 'string', default: 'auto' },
  },
});
const quick = args.quick!;
const out = path.resolve(args.out!);
const students = args.students!.split(',').map((s) => s.trim()) as Arch2d[];
const seeds = args.seeds!.split(',').map((s) => Number(s.trim()));
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const info = buildInfo();
console.log(`slice-distill demo on LibTorch ${info.torchVersion} (${info.cudaBuild ? 'CUDA' : 'CPU'} build), ${quick ? 'quick' : 'full'} run into ${out}`);
if (args.fresh) await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

// 1. The phantom: 3D volumes (non-contrast and portal-venous) and unpaired single slices.
const data = path.join(out, 'data');
if (!existsSync(path.join(data, 'dataset.json'))) {
  const p = await generatePhantom({ out: data, volumes: quick ? 6 : 10, slices: quick ? 60 : 160, seed: 1, sliceSize: 96 });
  console.log(`[${elapsed()}] phantom: ${p.volumes.length} volumes, ${p.slices.length} single slices in ${data}`);
}

// 2. The configuration: docs/design.md's recipes at the tiny presets and phantom scale. It is
// written beside the run, so single stages can be re-run with the CLI.
const partial: PartialConfig = {
  dataset: 'data',
  runDir: 'run',
  seed: 0,
  workers: 1,
  split: { train: 0.5, val: 0.15, test: 0.35 },
  teacher: {
    name: 'unest',
    preset: 'tiny',
    roi: [64, 64, 64],
    spacing: [6, 6, 6],
    epochs: quick ? 4 : 60,
    batchSize: 1,
    samplesPerVolume: 1,
    lr: 3e-3,
    warmupEpochs: 2,
  },
  prototype: { mode: 'slice-mean', crop: { kind: 'kidneys', margin: 10 } },
  // AdamW for the students: from scratch, the papers' SGD needs far more steps than a CPU demo has
  student: { arch: students[0], preset: 'tiny', size: 64, epochs: quick ? 6 : 60, batchSize: 8, optimizer: 'adamw', lr: 2e-3 },
  distill: { epochs: quick ? 4 : 40, beta: 0.5 },
  // control: each student also trained on for the distillation's epochs with L_seg alone, so a
  // difference is not just the extra epochs
  experiment: { students, control: true, seeds },
};
const configFile = path.join(out, 'config.json');
await writeFile(configFile, JSON.stringify(partial, null, 2) + '\n');
const config = resolveConfig(partial, out, configFile);

// 3. teacher -> prototype -> pretrain -> control and distill -> evaluate -> report
const result = await runTable1(config, { progress: args.progress as 'auto' });

// 4. What it did.
const { results, comparisons } = JSON.parse(await readFile(result.evaluation, 'utf8')) as EvaluationFile;
console.log(
  `\n[${elapsed()}] Dice on the ${results[0]?.perSubject.length ?? 0} test subjects (mean over subjects; vs: each arm's primary comparison, on the subjects' mean Dice):\n`,
);
console.log(diceTableText(results, { comparisons }));
console.log(`Primary comparison, distilled vs the control (as many more epochs as distillation, L_seg only); a CI containing 0 shows no difference:\n`);
console.log(primaryComparisonText(comparisons));
console.log(`report: ${path.join(result.report, 'index.html')}`);
console.log(`config: ${configFile} (re-run a stage: npx slice-distill distill --config ${path.relative(process.cwd(), configFile)} --force)`);
