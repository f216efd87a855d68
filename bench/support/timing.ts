// Timing and memory probes shared by the cases.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { cuda, type Device } from '../../lib/index.js';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** Milliseconds one call takes; on CUDA the queued kernels are waited for, as Python's side does. */
export async function timeMs(device: Device, fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  if (device.startsWith('cuda')) cuda.synchronize();
  return performance.now() - t0;
}

/** One competitor in an alternation: runs one repetition and says how long it took (ms). */
export interface Side {
  name: string;
  run(): Promise<number>;
}

/**
 * A pause before each side: libgomp's idle workers spin about 3 ms (up to 5x that, by CPU
 * speed) before they sleep, so without it one side's spinning threads would take cores from
 * the side that runs next.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Runs the sides in alternation, A B C, C B A, A B C ...: `warmup` rounds untimed, then `reps`
 * timed rounds, so that drift in the machine's load falls on every side alike. A turn is `burst`
 * runs back to back (as steps follow each other in training; the first of them starts on idle
 * threads). Returns each side's times, `reps * burst` of them.
 */
export async function alternate(sides: readonly Side[], o: { warmup: number; reps: number; burst?: number }): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = Object.fromEntries(sides.map((s) => [s.name, []]));
  for (let i = 0; i < o.warmup + o.reps; i++) {
    // every other round backwards, so that no side always follows the same one
    for (const s of i % 2 ? [...sides].reverse() : sides) {
      await settle();
      for (let j = 0; j < (o.burst ?? 1); j++) {
        const ms = await s.run();
        if (i >= o.warmup) times[s.name]!.push(ms);
      }
    }
  }
  return times;
}

/**
 * One side's times from `alternate` with `burst` > 1, apart: the first run of each turn (it
 * starts after the pause, on idle threads and an idle CPU) and the runs that follow it.
 */
export function splitBursts(times: readonly number[], burst: number): { first: number[]; following: number[] } {
  return { first: times.filter((_, i) => i % burst === 0), following: times.filter((_, i) => i % burst !== 0) };
}

/**
 * CPUs kept busy by everything on the machine over the next `ms` (from /proc/stat; null
 * elsewhere). The load average would also count this run's own setup work.
 */
export async function busyCpus(ms = 1000): Promise<number | null> {
  const sample = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = sample();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const b = sample();
    const cpus = os.availableParallelism();
    return cpus * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total));
  } catch {
    return null;
  }
}

// Peak RSS per case: Linux lets a process reset its high-water mark (clear_refs 5), so one
// long-lived process can report the peak of each case; elsewhere the lifetime peak is all there is.
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * GPU memory a process holds (CUDA context + what the caching allocator reserved, which it
 * keeps, so this is close to the peak), from nvidia-smi; null where that cannot be read. The
 * addon has no allocator statistics, so this is the one figure both sides can be measured by.
 */
export function gpuProcessMiB(pid: number): number | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 10_000 });
    for (const line of out.trim().split('\n')) {
      const [p, mib] = line.split(',').map((s) => Number(s.trim()));
      if (p === pid) return mib!;
    }
  } catch {
    // no nvidia-smi, or it failed
  }
  return null;
}
