// The student checkpoints a run holds, as the models `slice-distill evaluate` scores when none
// are named: runDir/students/<arch>[-n<N>]/pretrain/best.ckpt (variant 'none') and
// .../distill-<teacher>/best.ckpt (variant <teacher>); -s<S> folders (experiment.seeds) give
// their models seed S, and then the run's own folders seed config.seed.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ARCHS_2D, type Arch2d, type PipelineConfig, type SliceSplitConfig } from './config.js';
import { openDataset, sliceSplit } from './context.js';
import { BASELINE, type ModelToEvaluate } from './results-file.js';
import { STUDENT_NAMES } from './layout.js';
import { BEST_CHECKPOINT, runLayout } from './layout.js';

const STUDENT_FOLDER = /^([a-z0-9_]+?)(?:-n(\d+))?(?:-s(\d+))?$/;

function subfolders(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
    : [];
}

/**
 * Every best.ckpt of pretrain and distill in the run, students in the order of ARCHS_2D.
 * Where a student was also trained on fewer subjects (-n<N> folders), its full-data models
 * get the size of the training split as trainingSubjects, so the low-data curve has all points.
 */
export async function runCheckpoints(config: SliceSplitConfig & Pick<PipelineConfig, 'runDir' | 'dataset'>): Promise<ModelToEvaluate[]> {
  const layout = runLayout(config.runDir);
  const found: (ModelToEvaluate & { arch: Arch2d; n?: number; s?: number })[] = [];
  for (const folder of subfolders(path.join(config.runDir, 'students'))) {
    const m = STUDENT_FOLDER.exec(folder);
    const arch = m?.[1] as Arch2d | undefined;
    if (!m || !arch || !ARCHS_2D.includes(arch)) continue;
    const n = m[2] === undefined ? undefined : Number(m[2]);
    const s = m[3] === undefined ? undefined : Number(m[3]);
    const stages: [string, string][] = [[BASELINE, layout.pretrain(folder)]];
    for (const sub of subfolders(path.join(config.runDir, 'students', folder)))
      if (sub.startsWith('distill-')) stages.push([sub.slice('distill-'.length), path.join(config.runDir, 'students', folder, sub)]);
    for (const [variant, dir] of stages) {
      const checkpoint = path.join(dir, BEST_CHECKPOINT);
      if (existsSync(checkpoint))
        found.push({
          model: STUDENT_NAMES[arch],
          variant,
          checkpoint,
          arch,
          ...(n === undefined ? {} : { trainingSubjects: n, n }),
          ...(s === undefined ? {} : { s }),
        });
    }
  }
  const lowData = new Set(found.filter((f) => f.n !== undefined).map((f) => f.arch));
  const all = lowData.size ? sliceSplit(config, await openDataset(config.dataset), undefined).train.length : 0;
  const seeded = found.some((f) => f.s !== undefined);
  return found
    .sort(
      (a, b) =>
        ARCHS_2D.indexOf(a.arch) - ARCHS_2D.indexOf(b.arch) ||
        (a.s ?? config.seed) - (b.s ?? config.seed) ||
        (a.n ?? Infinity) - (b.n ?? Infinity) ||
        Number(b.variant === BASELINE) - Number(a.variant === BASELINE),
    )
    .map(({ arch, n, s, ...m }) => ({
      ...m,
      ...(n === undefined && lowData.has(arch) ? { trainingSubjects: all } : {}),
      ...(seeded ? { seed: s ?? config.seed } : {}),
    }));
}
