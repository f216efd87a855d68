// The data layer: NIfTI / DICOM I/O, dataset.json, transforms, splits, the lumbar crop and the
// phantom. Everything here is worker-safe: no module of lib/data loads the native addon (the
// loader's worker threads decode and augment with it; lib/loader makes the tensors).
export * as nifti from './nifti.js';
export type { NiftiImage, NiftiHeader, ReadOptions, WriteOptions, VoxelArray, NiftiTypeName } from './nifti.js';
export { NiftiError, DatasetError, DataLoadError, type DatasetProblem } from './errors.js';
export { orientationOf, reorientPlan, affineSpacing, affinesClose, invertAffine, applyAffine, type Affine, type OrientationCode } from './geometry.js';
export { CLASSES, NUM_CLASSES, LABEL_MAPS, LabelMapper, classCounts, type UnmappedPolicy } from './labels.js';
export {
  DATASET_FILE,
  loadDataset,
  parseDataset,
  validateDataset,
  assertValidDataset,
  subjectsOf,
  type Dataset,
  type DatasetJson,
  type VolumeEntry,
  type SliceEntry,
  type ValidateOptions,
  type ValidationReport,
} from './dataset.js';
export * as transforms from './transforms.js';
export type { Sample, TransformSpec } from './transforms.js';
export { splitSubjects, nestedSubsets, entriesOf, type Split, type SplitSizes } from './splits.js';
export { Rng, hashSeed, stringSeed } from './random.js';
export { SamplePipeline, type SampleRef, type SamplePipelineConfig, type BatchArrays } from './sample-pipeline.js';
export { KidneyRangeCrop, ExplicitZRange, type BodyPartCrop, type CropVolume, type ZRange } from './body-part.js';
export {
  generatePhantom,
  makeSubject,
  phantomVolume,
  phantomSlice,
  levelName,
  PHASES,
  type Phase,
  type PhantomOptions,
  type PhantomResult,
  type Subject,
} from './phantom.js';
export { renderPreview, CLASS_COLOURS, type Preview, type PreviewOptions } from './preview.js';
