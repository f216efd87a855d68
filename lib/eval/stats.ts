// Statistics used by the evaluation: the Wilcoxon signed-rank test, the normal distribution,
// the paired bootstrap CI of a mean difference and Holm's adjustment.
export { wilcoxon, type WilcoxonOptions, type WilcoxonResult, type ZeroMethod, type Alternative, type WilcoxonMethod } from './wilcoxon.js';
export { erf, erfc, normalCdf, normalSf } from './normal.js';
export { bootstrapMeanDiffCi, type BootstrapOptions } from './bootstrap.js';
export { holm, minAttainableP, significanceReachable } from './holm.js';
