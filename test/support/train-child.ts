// Run in a fresh process by checkpoint.test.ts:
//   resume <fixtures> <checkpoint> <steps>   load a checkpoint, train on, print the losses as JSON
//   churn <fixtures> <checkpoint>            save checkpoints in a loop until killed
import path from 'node:path';
import { ScriptModule, loadCheckpoint, optim, saveCheckpoint } from '../../lib/index.js';
import { fixedBatch, trainSteps } from './training.js';

const [mode, fixtures, file, steps] = process.argv.slice(2) as [string, string, string, string];
const module = ScriptModule.loadSync(path.join(fixtures, 'convnet.pt'));
const optimizer = new optim.Adam(module.parameters(), { lr: 0.01 });
if (mode === 'resume') {
  const ck = await loadCheckpoint(file, { module, optimizer });
  const losses = await trainSteps(module, optimizer, fixedBatch(fixtures), Number(steps));
  process.stdout.write(JSON.stringify({ epoch: ck.epoch, step: ck.step, metrics: ck.metrics, losses }));
} else {
  for (let i = 0; ; i++) await saveCheckpoint(file, { module, optimizer, step: i });
}
