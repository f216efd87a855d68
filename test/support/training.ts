// A fixed batch from the Python fixtures and a plain loop of async training steps.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tensor, trainStep, type ScriptModule, type Tensor, type optim } from '../../lib/index.js';

export function fixedBatch(fixturesDir: string): { input: Tensor; labels: Tensor } {
  const ref = JSON.parse(readFileSync(path.join(fixturesDir, 'reference.json'), 'utf8')) as {
    input: { shape: number[]; data: number[] };
    labels: number[];
  };
  const [b, , h, w] = ref.input.shape as [number, number, number, number];
  return {
    input: tensor(new Float32Array(ref.input.data), ref.input.shape),
    labels: tensor(BigInt64Array.from(ref.labels.map(BigInt)), [b, h, w]),
  };
}

export async function trainSteps(module: ScriptModule, optimizer: optim.Optimizer, batch: { input: Tensor; labels: Tensor }, steps: number): Promise<number[]> {
  module.train();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = await trainStep({ module, optimizer, inputs: batch.input, target: batch.labels });
    losses.push(r.loss);
  }
  return losses;
}
