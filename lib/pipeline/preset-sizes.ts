// Input sizes of the model presets (python/slice_distill_models/models/registry.py): the
// defaults of teacher.roi and student.size, and the check that a config's sizes fit them
// before any work (a mismatch otherwise dies at the first forward inside TorchScript).
import type { Arch2d, PipelineConfig, Preset } from './config.js';

export const TEACHER_INPUT: Readonly<Record<Preset, number>> = { tiny: 64, base: 96 };
export const STUDENT_INPUT: Readonly<Record<Preset, number>> = { tiny: 64, base: 224 };
/** Students whose patch embedding fixes the input size (DeepLabv3 takes any). */
const FIXED_SIZE: readonly Arch2d[] = ['swin_unet', 'missformer'];

/** The problems with teacher.roi / student.size against their presets, each naming its key. */
export function presetSizeProblems(config: PipelineConfig, explicitStudents: readonly Arch2d[]): string[] {
  const problems: string[] = [];
  const t = config.teacher;
  const side = TEACHER_INPUT[t.preset];
  if (!t.model && !(t.roi.length === 3 && t.roi.every((v) => v === side))) {
    problems.push(`teacher.roi: [${t.roi.join(', ')}] does not fit teacher.preset '${t.preset}' (its UNesT takes ${side} x ${side} x ${side} crops); leave teacher.roi out to take the preset's`);
  }
  const s = config.student;
  const size = STUDENT_INPUT[s.preset];
  if (!s.model) {
    for (const arch of new Set([s.arch, ...explicitStudents])) {
      if (FIXED_SIZE.includes(arch) && s.size !== size) problems.push(`student.size: ${s.size} does not fit ${arch} at student.preset '${s.preset}' (input ${size} x ${size}); leave student.size out to take the preset's`);
    }
  }
  return problems;
}
