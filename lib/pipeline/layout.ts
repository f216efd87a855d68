// Where each stage writes inside a run folder. One place, so the stages, the experiments and
// the report agree:
//
//   runDir/teachers/<teacher>/                 train-teacher: best.ckpt, last.ckpt, train-log.jsonl
//   runDir/prototypes/<teacher>/               prototype: teacher-prototype.json
//   runDir/students/<arch>[-n<N>][-s<S>]/pretrain/    pretrain: best.ckpt, last.ckpt, train-log.jsonl
//   runDir/students/<arch>[-n<N>]/distill-<teacher>/   distill: the same
//   runDir/evaluate/                           evaluate: results.json, dice.csv, comparisons.csv
//   runDir/report/                             report: index.html and its figures
// Every stage folder also holds manifest.json (see manifest.ts).
import path from 'node:path';

/** Display names of the students in tables and figures. */
export const STUDENT_NAMES = { deeplabv3: 'DeepLabv3', swin_unet: 'Swin-Unet', missformer: 'MISSFormer' } as const;

export const PROTOTYPE_FILE = 'teacher-prototype.json';
export const BEST_CHECKPOINT = 'best.ckpt';

/**
 * The student's folder name: the architecture, with -n<N> when trained on N subjects only and
 * -s<S> when its training seed S differs from the run's seed (experiment.seeds).
 */
export function studentName(arch: string, trainSubjects?: number, seed?: { seed: number; trainingSeed?: number }): string {
  const base = trainSubjects === undefined ? arch : `${arch}-n${trainSubjects}`;
  const s = seed?.trainingSeed;
  return s === undefined || s === seed?.seed ? base : `${base}-s${s}`;
}

export function runLayout(runDir: string) {
  return {
    runDir,
    teacher: (name: string) => path.join(runDir, 'teachers', name),
    prototypeDir: (teacher: string) => path.join(runDir, 'prototypes', teacher),
    prototype: (teacher: string) => path.join(runDir, 'prototypes', teacher, PROTOTYPE_FILE),
    pretrain: (student: string) => path.join(runDir, 'students', student, 'pretrain'),
    distill: (student: string, teacher: string) => path.join(runDir, 'students', student, `distill-${teacher}`),
    evaluate: (name = 'evaluate') => path.join(runDir, name),
    report: (name = 'report') => path.join(runDir, name),
  };
}

export type RunLayout = ReturnType<typeof runLayout>;
