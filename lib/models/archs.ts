// The architectures of the model zoo (python/slice_distill_models/models/registry.py): the one
// list the CLI, the config and the exporter read.
export const TEACHER_ARCHS = ['unest'] as const;
export const STUDENT_ARCHS = ['deeplabv3', 'swin_unet', 'missformer'] as const;
export const MODEL_ARCHS = [...TEACHER_ARCHS, ...STUDENT_ARCHS] as const;

export type TeacherArch = (typeof TEACHER_ARCHS)[number];
export type StudentArch = (typeof STUDENT_ARCHS)[number];
export type ModelArch = (typeof MODEL_ARCHS)[number];
