export { classPrototypes, distLoss, protoDistLoss, reference, type DistOptions, type Prototypes } from './prototypes.js';
export { DIST_DEFAULTS } from './dist-options.js';
export {
  PrototypeAccumulator,
  PrototypeError,
  savePrototype,
  loadPrototype,
  PROTOTYPE_FORMAT,
  type PrototypeMode,
  type PrototypeResult,
  type PrototypeFile,
  type Provenance,
} from './prototype-accumulator.js';
