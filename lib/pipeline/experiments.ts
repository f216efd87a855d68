// The paper's two experiments end to end from one config, each stage resumable (a finished
// stage with the same inputs and config is reused, an interrupted training resumes):
//  - table1: every teacher (train or bring, prototype), every student (pretrain, distill
//    with each teacher, and with experiment.control the L_seg-only control), evaluate all on
//    the test split, report;
//  - lowdata: one student and teacher on nested subsets of the training subjects
//    (experiment.lowData.subjects, plus all), each with its control, evaluate, report with
//    the low-data curve.
// The student arms are repeated per entry of experiment.seeds (the training seed; the splits
// stay fixed by config.seed); teachers and prototypes are trained once and shared.
import path from 'node:path';
import { experimentSeeds, type Arch2d, type DistillConfig, type PipelineConfig, type TeacherVariant } from './config.js';
import { openDataset, sliceSplit, type StageOptions } from './context.js';
import { runLayout, STUDENT_NAMES } from './layout.js';
export { STUDENT_NAMES } from './layout.js';
import { distill } from './stages/distill.js';
import { BASELINE, CONTROL_VARIANT } from './results-file.js';
import { evaluate, type ModelToEvaluate } from './stages/evaluate.js';
import { pretrain } from './stages/pretrain.js';
import { extractPrototype } from './stages/prototype.js';
import { report } from './stages/report.js';
import { trainTeacher } from './stages/train-teacher.js';

export interface ExperimentOutcome {
  evaluation: string;
  report: string;
  models: ModelToEvaluate[];
}

/** The teachers of the experiment: experiment.teachers, or the config's one teacher. */
export function experimentTeachers(config: PipelineConfig): TeacherVariant[] {
  if (config.experiment.teachers.length) return config.experiment.teachers;
  return [{ name: config.teacher.name, phases: config.teacher.phases, model: config.teacher.model }];
}

async function prepareTeacher(config: PipelineConfig, teacher: TeacherVariant, options: StageOptions): Promise<void> {
  await trainTeacher(config, { ...options, teacher });
  await extractPrototype(config, { ...options, teacher });
}

/** The config of one training seed: the run's own for config.seed, else with trainingSeed set (folders get -s<S>). */
function seedConfig(config: PipelineConfig, seed: number): PipelineConfig {
  return seed === config.seed ? config : { ...config, trainingSeed: seed };
}

/** One student's arms for one seed and training-set size: pretrained, control (with experiment.control), one per teacher. */
async function studentArms(
  cfg: PipelineConfig,
  arch: Arch2d,
  teachers: readonly string[],
  tag: Pick<ModelToEvaluate, 'seed' | 'trainingSubjects'>,
  trainSubjects: number | undefined,
  options: StageOptions,
): Promise<ModelToEvaluate[]> {
  const model = STUDENT_NAMES[arch];
  const base = await pretrain(cfg, { ...options, arch, trainSubjects });
  const out: ModelToEvaluate[] = [{ model, variant: BASELINE, checkpoint: base.bestCheckpoint, ...tag }];
  if (cfg.experiment.control) {
    const c = await distill(cfg, { ...options, arch, control: true, trainSubjects });
    out.push({ model, variant: CONTROL_VARIANT, checkpoint: c.bestCheckpoint, ...tag });
  }
  for (const t of teachers) {
    const d = await distill(cfg, { ...options, arch, teacher: t, trainSubjects });
    out.push({ model, variant: t, checkpoint: d.bestCheckpoint, ...tag });
  }
  return out;
}

/** The seed tag of a model: only with several seeds, so a one-seed run reads as before. */
function seedTag(seeds: readonly number[], seed: number): { seed?: number } {
  return seeds.length > 1 ? { seed } : {};
}

export async function runTable1(config: PipelineConfig, options: StageOptions = {}): Promise<ExperimentOutcome> {
  const teachers = experimentTeachers(config);
  for (const t of teachers) await prepareTeacher(config, t, options);
  const seeds = experimentSeeds(config);
  const models: ModelToEvaluate[] = [];
  for (const seed of seeds) {
    for (const arch of config.experiment.students) {
      models.push(
        ...(await studentArms(
          seedConfig(config, seed),
          arch,
          teachers.map((t) => t.name),
          seedTag(seeds, seed),
          undefined,
          options,
        )),
      );
    }
  }
  const evaluated = await evaluate(config, models, { ...options, name: 'evaluate' });
  const evaluation = path.join(evaluated.dir, 'results.json');
  const out = runLayout(config.runDir).report('report');
  await report(config, { evaluation, out, title: 'Single-slice segmentation with and without 3D-to-2D distillation' });
  return { evaluation, report: out, models };
}

export async function runLowData(config: PipelineConfig, options: StageOptions = {}): Promise<ExperimentOutcome> {
  const { student: arch, teacher: teacherName } = config.experiment.lowData;
  const teachers = experimentTeachers(config);
  const teacher = teacherName ? teachers.find((t) => t.name === teacherName) : teachers[0];
  if (!teacher) throw new RangeError(`experiment.lowData.teacher: no teacher '${teacherName}' (known: ${teachers.map((t) => t.name).join(', ')})`);
  await prepareTeacher(config, teacher, options);
  const split = sliceSplit(config, await openDataset(config.dataset), undefined);
  const all = split.train.length;
  const sizes: (number | undefined)[] = [...new Set(config.experiment.lowData.subjects.filter((n) => n > 0 && n < all))].sort((a, b) => a - b);
  sizes.push(undefined);
  const seeds = experimentSeeds(config);
  const models: ModelToEvaluate[] = [];
  for (const seed of seeds) {
    for (const n of sizes) {
      const tag = { ...seedTag(seeds, seed), trainingSubjects: n ?? all };
      models.push(...(await studentArms(seedConfig(config, seed), arch, [teacher.name], tag, n, options)));
    }
  }
  const evaluated = await evaluate(config, models, { ...options, name: 'evaluate-lowdata' });
  const evaluation = path.join(evaluated.dir, 'results.json');
  const out = runLayout(config.runDir).report('report-lowdata');
  await report(config, { evaluation, lowData: evaluation, out, title: `${STUDENT_NAMES[arch]} with fewer training subjects` });
  return { evaluation, report: out, models };
}

/** One ablation arm of a student: another distillation setting or another teacher prototype. */
export interface Ablation {
  /** Its variant name in the tables and its folder (distill-<name>). */
  name: string;
  /** Distillation settings over config.distill (beta, tau, channels, ...). */
  distill?: Partial<DistillConfig>;
  /** 'crop': the prototype from the teacher fed the lumbar crop alone (the first version). */
  teacherInput?: 'volume' | 'crop';
}

/**
 * Ablations of one student and teacher: for every seed, the pretrained student, its control,
 * the default distilled arm and one arm per ablation, all from the same pretrained checkpoint,
 * evaluated together (each distilled arm against the control and the pretrained student).
 */
export async function runAblations(
  config: PipelineConfig,
  ablations: readonly Ablation[],
  options: StageOptions & { student?: Arch2d } = {},
): Promise<ExperimentOutcome> {
  const arch = options.student ?? config.experiment.students[0] ?? config.student.arch;
  const teacher = experimentTeachers(config)[0]!;
  await prepareTeacher(config, teacher, options);
  const layout = runLayout(config.runDir);
  const prototypes = new Map<string, string>();
  for (const a of ablations) {
    if (a.teacherInput !== 'crop') continue;
    // the same teacher and volumes, fed the crop alone
    const p = await extractPrototype(
      { ...config, prototype: { ...config.prototype, teacherInput: 'crop' } },
      { ...options, teacher, name: `${teacher.name}-crop-input` },
    );
    prototypes.set(a.name, p.file);
  }
  const seeds = experimentSeeds(config);
  const models: ModelToEvaluate[] = [];
  for (const seed of seeds) {
    const cfg = seedConfig(config, seed);
    const tag = seedTag(seeds, seed);
    models.push(...(await studentArms(cfg, arch, [teacher.name], tag, undefined, options)));
    for (const a of ablations) {
      const d = await distill(
        { ...cfg, distill: { ...cfg.distill, ...a.distill } },
        { ...options, arch, teacher: teacher.name, variant: a.name, prototype: prototypes.get(a.name) ?? layout.prototype(teacher.name) },
      );
      models.push({ model: STUDENT_NAMES[arch], variant: a.name, checkpoint: d.bestCheckpoint, ...tag });
    }
  }
  const evaluated = await evaluate(config, models, { ...options, name: 'evaluate-ablations' });
  const evaluation = path.join(evaluated.dir, 'results.json');
  const out = layout.report('report-ablations');
  await report(config, { evaluation, out, title: `${STUDENT_NAMES[arch]}: ablations of the distillation` });
  return { evaluation, report: out, models };
}
