// The data loader: batches from a dataset as tensors, decoded and augmented on worker threads
// (the worker file is not exported; DataLoader starts it).
export { DataLoader, type LoaderOptions, type Batch } from './loader.js';
