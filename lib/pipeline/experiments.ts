// The paper's two experiments end to end from one config, each stage resumable (a finished
// stage with the same inputs and config is reused, an interrupted training resumes):
//  - table1: every teacher (train or bring, prototype), every student (pretrain, distill
//    with each teacher, and with experiment.control the L_seg-only control), evaluate all on
//    the test split, report;
//  - lowdata: one student and teacher on nested subsets of the training subjects
//    (experiment.lowData.subjects, plus all), evaluate, report with the low-data curve.
import path from 'node:path';
import type { Arch2d, PipelineConfig, TeacherVariant } from './config.js';
import { openDataset, sliceSplit, type StageOptions } from './context.js';
import { runLayout, STUDENT_NAMES } from './layout.js';
export { STUDENT_NAMES } from './layout.js';
import { distill } from './stages/distill.js';
import { BASELINE, CONTROL_VARIANT } from './evaluation.js';
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

export async function runTable1(config: PipelineConfig, options: StageOptions = {}): Promise<ExperimentOutcome> {
  const teachers = experimentTeachers(config);
  for (const t of teachers) await prepareTeacher(config, t, options);
  const models: ModelToEvaluate[] = [];
  for (const arch of config.experiment.students) {
    const base = await pretrain(config, { ...options, arch });
    models.push({ model: STUDENT_NAMES[arch], variant: BASELINE, checkpoint: base.bestCheckpoint });
    if (config.experiment.control) {
      const c = await distill(config, { ...options, arch, control: true });
      models.push({ model: STUDENT_NAMES[arch], variant: CONTROL_VARIANT, checkpoint: c.bestCheckpoint });
    }
    for (const t of teachers) {
      const d = await distill(config, { ...options, arch, teacher: t.name });
      models.push({ model: STUDENT_NAMES[arch], variant: t.name, checkpoint: d.bestCheckpoint });
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
  const models: ModelToEvaluate[] = [];
  for (const n of sizes) {
    const trainingSubjects = n ?? all;
    const base = await pretrain(config, { ...options, arch, trainSubjects: n });
    models.push({ model: STUDENT_NAMES[arch], variant: BASELINE, checkpoint: base.bestCheckpoint, trainingSubjects });
    const d = await distill(config, { ...options, arch, teacher: teacher.name, trainSubjects: n });
    models.push({ model: STUDENT_NAMES[arch], variant: teacher.name, checkpoint: d.bestCheckpoint, trainingSubjects });
  }
  const evaluated = await evaluate(config, models, { ...options, name: 'evaluate-lowdata' });
  const evaluation = path.join(evaluated.dir, 'results.json');
  const out = runLayout(config.runDir).report('report-lowdata');
  await report(config, { evaluation, lowData: evaluation, out, title: `${STUDENT_NAMES[arch]} with fewer training subjects` });
  return { evaluation, report: out, models };
}
