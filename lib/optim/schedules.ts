// Learning-rate schedules: pure functions of the iteration (0-based), built from options.
// Assign the result to optimizer.lr before each step.

export type Schedule = (iteration: number) => number;

function check(name: string, value: number, ok: boolean): void {
  if (!ok || !Number.isFinite(value)) throw new RangeError(`${name}: invalid value ${value}`);
}

/** Polynomial decay: baseLr * (1 - it / total)^power (power 0.9, as the students' recipes). */
export function poly(options: { baseLr: number; total: number; power?: number; minLr?: number }): Schedule {
  const { baseLr, total, power = 0.9, minLr = 0 } = options;
  check('total', total, total > 0);
  check('baseLr', baseLr, baseLr >= 0);
  return (it) => {
    const progress = Math.min(Math.max(it, 0), total) / total;
    return minLr + (baseLr - minLr) * Math.pow(1 - progress, power);
  };
}

/**
 * Linear warmup from warmupStartLr to baseLr over `warmup` iterations, then a half cosine
 * down to minLr at `total` (as the teacher's recipe).
 */
export function cosineWithWarmup(options: { baseLr: number; total: number; warmup: number; warmupStartLr?: number; minLr?: number }): Schedule {
  const { baseLr, total, warmup, warmupStartLr = 0, minLr = 0 } = options;
  check('total', total, total > 0);
  check('warmup', warmup, warmup >= 0 && warmup < total);
  return (it) => {
    if (it < warmup) return warmupStartLr + ((baseLr - warmupStartLr) * it) / warmup;
    const progress = Math.min((it - warmup) / (total - warmup), 1);
    return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

/** Step decay: baseLr * gamma^floor(it / stepSize). */
export function step(options: { baseLr: number; stepSize: number; gamma?: number }): Schedule {
  const { baseLr, stepSize, gamma = 0.1 } = options;
  check('stepSize', stepSize, stepSize > 0);
  return (it) => baseLr * Math.pow(gamma, Math.floor(Math.max(it, 0) / stepSize));
}
