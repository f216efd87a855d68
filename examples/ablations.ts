// Ablations of the distillation on the demo's run (npm run demo first, same --out and --seeds):
// for one student, besides pretrained / control / distilled with the defaults, distilled with
//   channels-all   L_intra over all channels (the loss's first definition)
//   crop-input     the prototype of the teacher fed the lumbar crop alone (the first version)
//   beta0.1, beta1 other weights of L_DIST
//   tau4           a softer softmax (the loss is scaled by tau^2)
// every arm from the same pretrained checkpoint per seed, evaluated together: each against the
// control (primary) and the pretrained student, with bootstrap CIs and Holm-adjusted p.
//
//   npx tsx examples/ablations.ts --out demo-output --student deeplabv3 --seeds 0,1,2
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, report } from 'slice-distill';

const { resolveConfig, runAblations } = pipeline;
const { diceTableText, primaryComparisonText } = report;
type Arch2d = pipeline.Arch2d;
type PartialConfig = pipeline.PartialConfig;
type Ablation = pipeline.Ablation;
type EvaluationFile = pipeline.EvaluationFile;

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'demo-output' },
    student: { type: 'string', default: 'deeplabv3' },
    seeds: { type: 'string', default: '0' },
    progress: { type: 'string', default: 'auto' },
  },
});
const out = path.resolve(args.out!);
const configFile = path.join(out, 'config.json');
const partial = JSON.parse(await readFile(configFile, 'utf8')) as PartialConfig;
const seeds = args.seeds!.split(',').map((s) => Number(s.trim()));
const config = resolveConfig({ ...partial, experiment: { ...partial.experiment, seeds } }, out, configFile);

const ablations: Ablation[] = [
  { name: 'channels-all', distill: { channels: 'all' } },
  { name: 'crop-input', teacherInput: 'crop' },
  { name: 'beta0.1', distill: { beta: 0.1 } },
  { name: 'beta1', distill: { beta: 1 } },
  { name: 'tau4', distill: { tau: 4 } },
];
const started = performance.now();
const result = await runAblations(config, ablations, { student: args.student as Arch2d, progress: args.progress as 'auto' });
const { results, comparisons } = JSON.parse(await readFile(result.evaluation, 'utf8')) as EvaluationFile;
console.log(`\n[${((performance.now() - started) / 1000).toFixed(0)} s] ablations of ${args.student}, seeds ${seeds.join(', ')}:\n`);
console.log(diceTableText(results, { comparisons }));
console.log(primaryComparisonText(comparisons));
console.log(`report: ${path.join(result.report, 'index.html')}`);
