// The lumbar crop from a body-part regressor given by the user: a TorchScript module that
// scores axial slices (one number per slice, increasing from feet to head, as body-part
// regression does). Slices whose score lies between the scores of L5 and Th12/L1 are kept.
import { ScriptModule } from '../module/script-module.js';
import { tensor } from '../tensor/factories.js';
import { Tensor } from '../tensor/tensor.js';
import type { BodyPartCrop, CropVolume, ZRange } from '../data/body-part.js';
import { resampleArray } from '../data/transforms.js';

export interface SliceScoreOptions {
  /** The module, or the path of a TorchScript file to load. */
  module: ScriptModule | string;
  /** The score at L5 (the lower end kept) and at Th12/L1 (the upper end). */
  lower: number;
  upper: number;
  /** Slices are resized to inputSize x inputSize (default 128). */
  inputSize?: number;
  /** HU window mapped linearly onto `range` (default [-1000, 1500] -> [-1, 1], as body-part regression). */
  window?: [number, number];
  range?: [number, number];
  /** Slices per forward call (default 32). */
  batchSize?: number;
  /**
   * How raw scores become the per-slice score used: 'linear' (default) fits score = a + b z by
   * least squares, robust to single noisy slices; 'median' a 5-slice running median; 'none'.
   */
  smoothing?: 'linear' | 'median' | 'none';
  /** Show the slice as radiologists do (patient right on the left, anterior up; default true). */
  radiological?: boolean;
}

/** Runs a slice-score regressor over every axial slice and keeps the lumbar ones. */
export class SliceScoreCrop implements BodyPartCrop {
  readonly name = 'slice-score';
  readonly module: ScriptModule;
  readonly options: Required<Omit<SliceScoreOptions, 'module'>>;
  readonly #source: string;

  constructor(options: SliceScoreOptions) {
    this.module = typeof options.module === 'string' ? ScriptModule.loadSync(options.module) : options.module;
    this.#source = typeof options.module === 'string' ? options.module : (options.module.file ?? '<module>');
    if (!(Number.isFinite(options.lower) && Number.isFinite(options.upper) && options.upper > options.lower)) {
      throw new RangeError(`lower, upper: expected finite scores with upper > lower, got ${options.lower}, ${options.upper}`);
    }
    this.options = {
      lower: options.lower,
      upper: options.upper,
      inputSize: options.inputSize ?? 128,
      window: options.window ?? [-1000, 1500],
      range: options.range ?? [-1, 1],
      batchSize: options.batchSize ?? 32,
      smoothing: options.smoothing ?? 'linear',
      radiological: options.radiological ?? true,
    };
    this.module.eval();
  }

  /** The regressor's raw score of every axial slice (RAS z order); forward runs off the JS thread. */
  async scores(volume: CropVolume): Promise<number[]> {
    if (!volume.image) throw new TypeError(`${volume.file ?? 'volume'}: the slice-score crop needs the image`);
    const [nx, ny, nz] = volume.shape;
    const {
      inputSize: s,
      window: [lo, hi],
      range: [r0, r1],
      batchSize,
    } = this.options;
    const plane = nx * ny;
    const out: number[] = [];
    for (let k0 = 0; k0 < nz; k0 += batchSize) {
      const n = Math.min(batchSize, nz - k0);
      const batch = new Float32Array(n * s * s);
      for (let b = 0; b < n; b++) {
        const slice = new Float32Array(plane);
        const base = (k0 + b) * plane;
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) {
            const v = volume.image[base + j * nx + i];
            const w = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
            // rows = y, columns = x; radiological: anterior (high y) up, right (high x) left
            const row = this.options.radiological ? ny - 1 - j : j;
            const col = this.options.radiological ? nx - 1 - i : i;
            slice[row * nx + col] = r0 + w * (r1 - r0);
          }
        }
        batch.set(resampleArray(slice, [ny, nx], [s, s], 'linear'), b * s * s);
      }
      const scores = await this.#score(batch, [n, 1, s, s]);
      if (scores.length !== n) throw new RangeError(`${this.#source}: expected one score per slice (${n}), got ${scores.length} values`);
      out.push(...scores);
    }
    return out;
  }

  async zRange(volume: CropVolume): Promise<ZRange | null> {
    const raw = await this.scores(volume);
    const smooth = smoothScores(raw, this.options.smoothing);
    const { lower, upper } = this.options;
    let start = -1;
    let end = -1;
    smooth.forEach((v, k) => {
      if (v >= lower && v <= upper) {
        if (start < 0) start = k;
        end = k + 1;
      }
    });
    return start < 0 ? null : { start, end };
  }

  async #score(batch: Float32Array, shape: number[]): Promise<number[]> {
    const x = tensor(batch, shape, { device: this.module.device });
    try {
      const y = await this.module.forwardAsync(x);
      if (!(y instanceof Tensor)) throw new TypeError(`${this.#source}: expected the regressor to return a tensor of scores`);
      const values = Array.from(y.toArray() as Float32Array, Number);
      y.dispose();
      return values;
    } finally {
      x.dispose();
    }
  }

  describe(): Record<string, unknown> {
    return { crop: this.name, module: this.#source, ...this.options };
  }
}

/** Smooths per-slice scores: a least-squares line, a 5-slice running median, or nothing. */
export function smoothScores(scores: readonly number[], how: 'linear' | 'median' | 'none'): number[] {
  const n = scores.length;
  if (how === 'none' || n < 3) return [...scores];
  if (how === 'median') {
    return scores.map((_, k) => {
      const w = scores.slice(Math.max(0, k - 2), Math.min(n, k + 3)).sort((a, b) => a - b);
      return w[Math.floor(w.length / 2)];
    });
  }
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  scores.forEach((y, x) => {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  });
  const b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const a = (sy - b * sx) / n;
  return scores.map((_, x) => a + b * x);
}
