// The model zoo: its architectures and presets, and the TorchScript exporter (Python).
export {
  TEACHER_ARCHS,
  STUDENT_ARCHS,
  MODEL_ARCHS,
  PRESETS,
  TEACHER_INPUT,
  STUDENT_INPUT,
  FIXED_SIZE_STUDENTS,
  type ModelArch,
  type TeacherArch,
  type StudentArch,
  type Preset,
} from './archs.js';
export {
  exportModel,
  ExportError,
  MODEL_FORMAT,
  WEIGHTS_FORMATS,
  type WeightsFormat,
  type WeightsReport,
  type ExportModelOptions,
  type ExportedModel,
  type ExportedModelMetadata,
} from './export.js';
