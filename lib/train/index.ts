// Training: the one-call step, the Trainer (schedules, validation, best checkpoint, exact
// resume), checkpoints, data sources and progress.
export { trainStep, trainStepSync, type TrainStepOptions, type TrainStepResult, type LossSpec } from './train-step.js';
export {
  train,
  type TrainerOptions,
  type TrainResult,
  type TrainBatch,
  type TrainData,
  type BatchLogs,
  type EpochLogs,
  type TrainerCallbacks,
} from './trainer.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointInfo,
  CHECKPOINT_FORMAT,
  type CheckpointContent,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type Metrics,
} from './checkpoint.js';
export { fromLoader, fromFunction } from './data-source.js';
export { type ProgressEvent, type ProgressMode } from './progress.js';
