// The check that a config's input sizes fit the model presets (lib/models/archs.ts) before any
// work: a mismatch otherwise dies at the first forward inside TorchScript.
import { FIXED_SIZE_STUDENTS, STUDENT_INPUT, TEACHER_INPUT, type Preset, type StudentArch } from '../models/archs.js';

/** The parts of the config the check reads. */
export interface SizedTeacher {
  model?: string;
  preset: Preset;
  roi: readonly number[];
}
export interface SizedStudent {
  model?: string;
  preset: Preset;
  arch: StudentArch;
  size: number;
}

/** The problems with teacher.roi / student.size against their presets, each naming its key. */
export function presetSizeProblems(t: SizedTeacher, s: SizedStudent, explicitStudents: readonly StudentArch[]): string[] {
  const problems: string[] = [];
  const side = TEACHER_INPUT[t.preset];
  if (!t.model && !(t.roi.length === 3 && t.roi.every((v) => v === side))) {
    problems.push(
      `teacher.roi: [${t.roi.join(', ')}] does not fit teacher.preset '${t.preset}' (its UNesT takes ${side} x ${side} x ${side} crops); leave teacher.roi out to take the preset's`,
    );
  }
  const size = STUDENT_INPUT[s.preset];
  if (!s.model) {
    for (const arch of new Set([s.arch, ...explicitStudents])) {
      if (FIXED_SIZE_STUDENTS.includes(arch) && s.size !== size)
        problems.push(
          `student.size: ${s.size} does not fit ${arch} at student.preset '${s.preset}' (input ${size} x ${size}); leave student.size out to take the preset's`,
        );
    }
  }
  return problems;
}
