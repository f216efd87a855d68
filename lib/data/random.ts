// A small seeded pseudo-random generator for the data pipeline: xoshiro128** driven from a
// splitmix32 seeding step. Everything random in lib/data (splits, crops, augmentation, the
// phantom) draws from it, so a seed reproduces a run on any machine and in any worker.
// Pure JavaScript, 32-bit integer arithmetic only; no dependency on the native addon.

/** Mixes a 32-bit state step by step (splitmix32); used to seed and to hash seeds together. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * Combines integers (a seed, an epoch, an index...) into one 32-bit seed. Different tuples
 * give unrelated seeds, so per-sample streams do not overlap in any practical sense.
 */
export function hashSeed(...parts: readonly number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    // fold the (possibly > 32-bit) integer in two halves
    const lo = part >>> 0;
    const hi = Math.floor(part / 0x100000000) >>> 0;
    let [s, z] = splitmix32(h ^ lo);
    [s, z] = splitmix32(s ^ z ^ hi);
    h = (z ^ Math.imul(s, 0x27d4eb2d)) >>> 0;
  }
  return h >>> 0;
}

/** xoshiro128**: 128-bit state, 32-bit outputs, period 2^128 - 1. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;
  /** The seed it was made from. */
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${seed}`);
    this.seed = seed;
    let s = hashSeed(seed);
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, z] = splitmix32(s);
      s = next;
      out.push(z | 0);
    }
    [this.#a, this.#b, this.#c, this.#d] = out;
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1; // the all-zero state is a fixed point
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9);
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1), 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new RangeError(`n: expected an integer in [1, 2^32], got ${n}`);
    if (n === 1) return 0;
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const v = this.nextUint32();
      if (v < limit) return v % n;
    }
  }

  /** A uniform integer in [lo, hi] (both ends included). */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal deviate (Marsaglia's polar method). */
  normal(mean = 0, std = 1): number {
    if (this.#spareNormal !== null) {
      const v = this.#spareNormal;
      this.#spareNormal = null;
      return mean + std * v;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spareNormal = v * f;
    return mean + std * u * f;
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick: empty list');
    return items[this.int(items.length)];
  }

  /** Shuffles in place (Fisher-Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A new generator whose stream is derived from this seed and the given labels (not from this state). */
  derive(...labels: readonly number[]): Rng {
    return new Rng(hashSeed(this.seed, ...labels));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Turns a string (a subject id, a name) into a 32-bit number for hashSeed. */
export function stringSeed(text: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
