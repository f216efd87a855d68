// Statistics used by the evaluation: the Wilcoxon signed-rank test and the normal distribution.
export { wilcoxon, type WilcoxonOptions, type WilcoxonResult, type ZeroMethod, type Alternative, type WilcoxonMethod } from './wilcoxon.js';
export { erf, erfc, normalCdf, normalSf } from './normal.js';
