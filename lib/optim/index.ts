export { Optimizer, SGD, Adam, AdamW, type SGDOptions, type AdamOptions, type OptimizerState, type ParamState, type OptimizerKind } from './optimizer.js';
export * as schedules from './schedules.js';
export type { Schedule } from './schedules.js';
export { clipGradNorm } from './clip-grad.js';
export { SGD_DEFAULTS, ADAM_DEFAULTS, ADAMW_DEFAULTS } from './options.js';
