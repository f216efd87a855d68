// The architectures of the model zoo (python/slice_distill_models/models/registry.py): the one
// list the CLI, the config and the exporter read.
export const TEACHER_ARCHS = ['unest'] as const;
export const STUDENT_ARCHS = ['deeplabv3', 'swin_unet', 'missformer'] as const;
export const MODEL_ARCHS = [...TEACHER_ARCHS, ...STUDENT_ARCHS] as const;

export type TeacherArch = (typeof TEACHER_ARCHS)[number];
export type StudentArch = (typeof STUDENT_ARCHS)[number];
export type ModelArch = (typeof MODEL_ARCHS)[number];

/** Model sizes: 'base' (the paper's) and 'tiny' (a few channels, small input; for tests). */
export const PRESETS = ['tiny', 'base'] as const;
export type Preset = (typeof PRESETS)[number];

/** Input side of each preset: the teacher's cubic crop, the students' square slice. */
export const TEACHER_INPUT: Readonly<Record<Preset, number>> = { tiny: 64, base: 96 };
export const STUDENT_INPUT: Readonly<Record<Preset, number>> = { tiny: 64, base: 224 };
/** Students whose patch embedding fixes the input size (DeepLabv3 takes any). */
export const FIXED_SIZE_STUDENTS: readonly StudentArch[] = ['swin_unet', 'missformer'];
