// The teacher's dataset-level prototype (eq. 1 of the paper): class means of the frozen
// teacher's logits per axial slice, averaged over the slices where the class is present
// ('slice-mean', default) or over all its voxels ('voxel-weighted'). Sums in float64.
import { readFile } from 'node:fs/promises';
import { native } from '../native/addon.js';
import { tensor } from '../tensor/factories.js';
import type { Tensor } from '../tensor/tensor.js';
import { wrap } from '../tensor/tensor.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { resolveDistOptions } from './dist-options.js';

export type PrototypeMode = 'slice-mean' | 'voxel-weighted';

export const PROTOTYPE_FORMAT = 'slice-distill-prototype/1';

export interface PrototypeResult {
  /** [C, CH] float64: row k is class k's prototype (zeros where the class was never seen). */
  prototype: Tensor;
  mode: PrototypeMode;
  /** Per class, the count behind its row: slices for 'slice-mean', voxels for 'voxel-weighted'. */
  counts: number[];
  sliceCounts: number[];
  voxelCounts: number[];
  /** Slices fed in (a 2D input counts one per sample). */
  slices: number;
  /** Classes never seen (their rows are zeros). */
  missing: number[];
}

/** Where a prototype came from: teacher model, dataset, crop, anything JSON. */
export type Provenance = Record<string, unknown>;

export interface PrototypeFile extends PrototypeResult {
  provenance: Provenance;
  createdAt: string;
}

export class PrototypeError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'PrototypeError';
  }
}

export class PrototypeAccumulator {
  readonly numClasses: number;
  readonly mode: PrototypeMode;
  readonly ignoreIndex: number | undefined;
  #channels = -1;
  #sliceSum: Float64Array = new Float64Array(0);
  #sliceCount: Float64Array;
  #voxelSum: Float64Array = new Float64Array(0);
  #voxelCount: Float64Array;
  #slices = 0;

  constructor(options: { numClasses: number; mode?: PrototypeMode; ignoreIndex?: number }) {
    if (!Number.isInteger(options.numClasses) || options.numClasses < 1) throw new RangeError('numClasses: expected an integer >= 1');
    const mode = options.mode ?? 'slice-mean';
    if (mode !== 'slice-mean' && mode !== 'voxel-weighted') throw new RangeError(`mode: expected 'slice-mean' or 'voxel-weighted', got '${String(mode)}'`);
    this.numClasses = options.numClasses;
    this.mode = mode;
    this.ignoreIndex = options.ignoreIndex;
    this.#sliceCount = new Float64Array(options.numClasses);
    this.#voxelCount = new Float64Array(options.numClasses);
  }

  /**
   * Adds teacher logits with their ground-truth labels: 2D slices [B, CH, H, W] with labels
   * [B, H, W], or 3D volumes [B, CH, D, H, W] with labels [B, D, H, W], split into D axial slices.
   */
  add(logits: Tensor, labels: Tensor): void {
    const [sumsH, countsH] = native.samplePrototypeSums(
      logits.handle,
      labels.handle,
      this.numClasses,
      resolveDistOptions({
        ignoreIndex: this.ignoreIndex,
      }),
    );
    const sumsT = wrap(sumsH);
    const countsT = wrap(countsH);
    try {
      const [S, K, CH] = sumsT.shape as [number, number, number];
      if (this.#channels < 0) {
        this.#channels = CH;
        this.#sliceSum = new Float64Array(K * CH);
        this.#voxelSum = new Float64Array(K * CH);
      } else if (CH !== this.#channels) {
        throw new RangeError(`logits: ${CH} channels, but earlier inputs had ${this.#channels}`);
      }
      const sums = sumsT.toArray() as Float64Array;
      const counts = countsT.toArray() as BigInt64Array;
      for (let s = 0; s < S; s++) {
        for (let k = 0; k < K; k++) {
          const n = Number(counts[s * K + k]);
          if (n === 0) continue;
          this.#sliceCount[k]! += 1;
          this.#voxelCount[k]! += n;
          for (let c = 0; c < CH; c++) {
            const sum = sums[(s * K + k) * CH + c]!;
            this.#sliceSum[k * CH + c]! += sum / n;
            this.#voxelSum[k * CH + c]! += sum;
          }
        }
      }
      this.#slices += S;
    } finally {
      sumsT.dispose();
      countsT.dispose();
    }
  }

  /** The prototype so far. */
  result(): PrototypeResult {
    if (this.#channels < 0) throw new RangeError('PrototypeAccumulator: nothing was added');
    const K = this.numClasses,
      CH = this.#channels;
    const sum = this.mode === 'slice-mean' ? this.#sliceSum : this.#voxelSum;
    const count = this.mode === 'slice-mean' ? this.#sliceCount : this.#voxelCount;
    const matrix = new Float64Array(K * CH);
    const missing: number[] = [];
    for (let k = 0; k < K; k++) {
      if (count[k] === 0) missing.push(k);
      for (let c = 0; c < CH; c++) matrix[k * CH + c] = count[k]! > 0 ? sum[k * CH + c]! / count[k]! : 0;
    }
    return {
      prototype: tensor(matrix, [K, CH]),
      mode: this.mode,
      counts: [...count],
      sliceCounts: [...this.#sliceCount],
      voxelCounts: [...this.#voxelCount],
      slices: this.#slices,
      missing,
    };
  }

  /** Writes the result as JSON (matrix, counts, provenance), atomically. */
  async save(file: string, provenance: Provenance = {}): Promise<PrototypeResult> {
    const result = this.result();
    await savePrototype(file, result, provenance);
    return result;
  }

  /** Reads a prototype file written by save(). */
  static load(file: string): Promise<PrototypeFile> {
    return loadPrototype(file);
  }
}

export async function savePrototype(file: string, result: PrototypeResult, provenance: Provenance = {}): Promise<void> {
  const [K, CH] = result.prototype.shape as [number, number];
  const flat = result.prototype.to('float64').toArray() as Float64Array;
  const matrix = Array.from({ length: K }, (_, k) => Array.from(flat.subarray(k * CH, (k + 1) * CH)));
  const { prototype: _omit, ...rest } = result;
  const json = { format: PROTOTYPE_FORMAT, ...rest, matrix, provenance, createdAt: new Date().toISOString() };
  await writeFileAtomic(file, JSON.stringify(json, null, 1) + '\n');
}

export async function loadPrototype(file: string): Promise<PrototypeFile> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PrototypeError(`${file}: not a readable prototype file (${(e as Error).message})`, file);
  }
  if (json.format !== PROTOTYPE_FORMAT) throw new PrototypeError(`${file}: format is not ${PROTOTYPE_FORMAT}`, file);
  const matrix = json.matrix as unknown;
  const rowsOk =
    Array.isArray(matrix) &&
    matrix.length > 0 &&
    matrix.every((r) => Array.isArray(r) && r.length === (matrix[0] as unknown[]).length && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!rowsOk) throw new PrototypeError(`${file}: 'matrix' must be a non-empty rectangular array of finite numbers`, file);
  const rows = matrix as number[][];
  return {
    prototype: tensor(Float64Array.from(rows.flat()), [rows.length, rows[0]!.length]),
    mode: json.mode as PrototypeMode,
    counts: json.counts as number[],
    sliceCounts: json.sliceCounts as number[],
    voxelCounts: json.voxelCounts as number[],
    slices: json.slices as number,
    missing: json.missing as number[],
    provenance: (json.provenance ?? {}) as Provenance,
    createdAt: String(json.createdAt ?? ''),
  };
}
