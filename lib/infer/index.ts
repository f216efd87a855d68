// Inference: whole-image and sliding-window segmentation, slice scoring, the body-part regressor.
export { segment, modelInputSize, type SegmentOptions, type Segmentation } from './segment.js';
export { slidingWindowInference, type SlidingWindowOptions } from './sliding-window.js';
export { prepareSlices, segmentSlices, sliceDice, subjectDice, slicePipeline, sliceRefs, type PreparedSlice } from './slices.js';
export { SliceScoreCrop, smoothScores, type SliceScoreOptions } from './body-part-regressor.js';
