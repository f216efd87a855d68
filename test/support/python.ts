// The project's Python (the one whose torch LibTorch came from) and the fixtures it makes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { REPO_ROOT as projectRoot } from './paths.js';

export { projectRoot };

/** PYTHON, else the Python recorded by LibTorch discovery (.libtorch.json), else null. */
export function projectPython(): string | null {
  if (process.env.PYTHON) return process.env.PYTHON;
  const cache = path.join(projectRoot, '.libtorch.json');
  if (!existsSync(cache)) return null;
  const python = (JSON.parse(readFileSync(cache, 'utf8')) as { libtorch?: { python?: string } }).libtorch?.python;
  return python && existsSync(python) ? python : null;
}

/** Runs `python -m module args` with python/ on PYTHONPATH; rejects with its stderr. */
export async function runPython(module: string, args: string[]): Promise<string> {
  const python = projectPython();
  if (!python) throw new Error('no Python with torch found');
  const { stdout } = await run(python, ['-m', module, ...args], {
    env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'python') },
    maxBuffer: 64 << 20,
  });
  return stdout;
}

export interface Fixtures {
  dir: string;
  reference: Reference;
}

export interface Reference {
  input: { shape: number[]; data: number[] };
  labels: number[];
  eval: number[];
  train: { seed: number; out: number[]; runningMean: number[] };
  optimizers: Record<'sgd' | 'sgdPlain' | 'adam' | 'adamw', { losses: number[]; params: number[][] }>;
  losses: {
    shape: number[];
    logits: number[];
    labels: number[];
    ignoredLabels: number[];
    classWeights: number[];
    crossEntropy: number;
    crossEntropyWeightedIgnore: number;
    dice: number;
    diceLinearNoBackground: number;
    segGrad: number[];
  }[];
  dist: {
    shape: number[];
    tau: number;
    ignoreIndex: number | null;
    interWeight: number;
    intraWeight: number;
    channels: 'present' | 'all';
    teacherMask: boolean[] | null;
    logits: number[];
    labels: number[];
    teacher: number[];
    loss: number;
    grad: number[];
  }[];
}

let made: Promise<Fixtures> | null = null;

/** Scripts the fixture modules with PyTorch once per test run. */
export function pythonFixtures(): Promise<Fixtures> {
  made ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sd-fixtures-'));
    await runPython('slice_distill_models.fixtures', ['--out', dir]);
    const reference = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    return { dir, reference };
  })();
  return made;
}

/** In a before() hook: skips the suite where no Python with torch is at hand. */
export async function fixturesOrSkip(ctx: Mocha.Context): Promise<Fixtures> {
  if (!projectPython()) {
    console.log('    (skipped: no Python with torch; set PYTHON or run npm install)');
    ctx.skip();
  }
  return pythonFixtures();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
