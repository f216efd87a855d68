// The pipeline: stages as functions of one config, the experiments, and what they share.
export {
  loadConfig,
  resolveConfig,
  DEFAULTS,
  ARCHS_2D,
  type PipelineConfig,
  type PartialConfig,
  type TeacherConfig,
  type StudentConfig,
  type DistillConfig,
  type CropConfig,
  type TeacherVariant,
  type ExperimentConfig,
  type Arch2d,
  type Preset,
} from './config.js';
export { ConfigError } from './config-schema.js';
export { openDataset, sliceSplit, volumeSplit, type StageOptions, type SliceSplit } from './context.js';
export { runLayout, studentName, PROTOTYPE_FILE, BEST_CHECKPOINT, type RunLayout } from './layout.js';
export { runStage, finishedStage, fileStamp, type Manifest } from './manifest.js';
export { loadModel } from './models.js';
export { StageAbortedError, type TrainingOutcome } from './training.js';
export { trainTeacher, teacherConfig, teacherModelFile, type TeacherOptions } from './stages/train-teacher.js';
export { extractPrototype, cropFromConfig, type PrototypeOutcome, type PrototypeOptions } from './stages/prototype.js';
export { pretrain, type PretrainOptions } from './stages/pretrain.js';
export { distill, distillLoss, type DistillOptions } from './stages/distill.js';
export { evaluate, type ModelToEvaluate } from './stages/evaluate.js';
export { predict } from './stages/predict.js';
export { report } from './stages/report.js';
export { runTable1, runLowData, runAblations, experimentTeachers, STUDENT_NAMES, type ExperimentOutcome, type Ablation } from './experiments.js';
export { readEvaluation, type EvaluationFile } from './results-file.js';
export { evaluateFolders, matchKey, type ExternalEvaluateOptions, type ExternalEvaluation } from './external-evaluate.js';
