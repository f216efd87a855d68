// Process-wide LibTorch settings and facts.
import { addonPath, native } from './native/addon.js';

/** Seeds LibTorch's generators (CPU and CUDA). */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

/** Intra-op threads LibTorch uses for CPU work. */
export function setNumThreads(threads: number): void {
  native.setNumThreads(threads);
}

export function getNumThreads(): number {
  return native.getNumThreads();
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
  addonPath: string;
}

/** How the loaded addon was built. */
export function buildInfo(): BuildInfo {
  return { ...native.buildInfo(), addonPath };
}
