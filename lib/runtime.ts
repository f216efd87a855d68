// Process-wide LibTorch settings and facts.
import { addonPath, native } from './native/addon.js';

/** Seeds LibTorch's generators (CPU and CUDA). */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

/**
 * Intra-op threads LibTorch uses for CPU work: for sync calls on this thread and for the
 * async work (forwardAsync, trainStep, ...) from its next call on.
 */
export function setNumThreads(threads: number): void {
  native.setNumThreads(threads);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/**
 * The intra-op thread counts in use on the JS thread (sync calls) and on the compute thread
 * that runs async CPU work. Waits for async work in flight; a diagnostic.
 */
export function threadCounts(): { jsThread: number; computeThread: number } {
  return { jsThread: native.getNumThreads(), computeThread: native.getComputeThreads() };
}

export const cuda = {
  /** True where LibTorch was built with CUDA and a device is visible. */
  isAvailable: (): boolean => native.cudaIsAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  /** Waits for all queued work on a device (default: the current one). */
  synchronize: (device?: number): void => native.cudaSynchronize(device),
};

export interface BuildInfo {
  torchVersion: string;
  cudaBuild: boolean;
  napiVersion: number;
  parallelInfo: string;
  /**
   * Threads the addon's own kernels reach now (1 where it was built without LibTorch's OpenMP);
   * measured when read, by a parallel region on the calling thread.
   */
  kernelThreads: number;
  addonPath: string;
}

/** How the loaded addon was built. */
export function buildInfo(): BuildInfo {
  return {
    ...native.buildInfo(),
    addonPath,
    get kernelThreads() {
      return native.kernelThreads();
    },
  };
}
