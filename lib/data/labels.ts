// The seven classes and label maps from a source dataset's ids to them.

/** Class names by id (C = 7). */
export const CLASSES = ['background', 'spleen', 'right kidney', 'left kidney', 'liver', 'stomach', 'aorta'] as const;
export const NUM_CLASSES = CLASSES.length;

/** Class ids by short name: the one place code refers to a class by its id. */
export const CLASS_ID = { background: 0, spleen: 1, kidneyR: 2, kidneyL: 3, liver: 4, stomach: 5, aorta: 6 } as const;

/** Source label ids of common datasets, mapped to CLASSES. */
export const LABEL_MAPS = {
  /** BTCV (Synapse multi-organ). */
  btcv: { 1: 1, 2: 2, 3: 3, 6: 4, 7: 5, 8: 6 },
  /** TotalSegmentator v2. */
  totalsegmentatorV2: { 1: 1, 2: 2, 3: 3, 5: 4, 6: 5, 52: 6 },
  /** TotalSegmentator v1 (104 classes) and MONAI's wholeBody_ct_segmentation bundle, which uses its ids: the aorta is 7. */
  totalsegmentatorV1: { 1: 1, 2: 2, 3: 3, 5: 4, 6: 5, 7: 6 },
  /** AMOS 2022 (15 abdominal organs). */
  amos: { 1: 1, 2: 2, 3: 3, 6: 4, 7: 5, 8: 6 },
  /** Files already in these ids. */
  identity: { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6 },
} as const satisfies Record<string, Record<number, number>>;

/** What happens to a source id that the map does not list: an error (default) or background. */
export type UnmappedPolicy = 'error' | 'background';

/** A label map ready to apply: source id -> class id (0 -> 0 unless the map says otherwise). */
export class LabelMapper {
  readonly #table: Map<number, number>;
  readonly #lut: Int16Array; // -1 = unmapped, for source ids 0..65535
  readonly unmapped: UnmappedPolicy;

  constructor(map: Iterable<[number, number]> | Record<number | string, number>, unmapped: UnmappedPolicy = 'error') {
    const entries: [number, number][] =
      Symbol.iterator in Object(map) ? [...(map as Iterable<[number, number]>)] : Object.entries(map as Record<string, number>).map(([k, v]) => [Number(k), v]);
    this.#table = new Map(entries);
    if (!this.#table.has(0)) this.#table.set(0, 0);
    this.unmapped = unmapped;
    this.#lut = new Int16Array(65536).fill(-1);
    for (const [k, v] of this.#table) if (Number.isInteger(k) && k >= 0 && k < 65536) this.#lut[k] = v;
  }

  /** [source, class] pairs (a plain form for postMessage / JSON). */
  entries(): [number, number][] {
    return [...this.#table];
  }

  /** The class of one source id, or null when unmapped. */
  classOf(source: number): number | null {
    if (Number.isInteger(source) && source >= 0 && source < 65536) {
      const v = this.#lut[source];
      return v < 0 ? null : v;
    }
    return this.#table.get(source) ?? null;
  }

  /**
   * Maps a label array to class ids. Unmapped values become 0 under 'background'; under
   * 'error' they are reported in `unknown` (value -> voxel count) and also set to 0.
   */
  apply(data: ArrayLike<number>): { labels: Uint8Array; unknown: Map<number, number> } {
    const out = new Uint8Array(data.length);
    const unknown = new Map<number, number>();
    const lut = this.#lut;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      let c: number;
      if (v >= 0 && v < 65536 && v === (v | 0)) c = lut[v];
      else c = this.#table.get(v) ?? -1;
      if (c < 0) {
        unknown.set(v, (unknown.get(v) ?? 0) + 1);
        c = 0;
      }
      out[i] = c;
    }
    if (this.unmapped === 'background') unknown.clear();
    return { labels: out, unknown };
  }
}

/** Voxel counts per class id (length NUM_CLASSES, or more when larger ids occur). */
export function classCounts(labels: ArrayLike<number>, numClasses = NUM_CLASSES): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v >= counts.length) for (let k = counts.length; k <= v; k++) counts.push(0);
    counts[v]++;
  }
  return counts;
}

/** Names for the classes as other datasets spell them (lower case, words joined by '_'). */
const CLASS_NAMES: Record<string, number> = {
  background: 0,
  spleen: 1,
  kidney_right: 2,
  right_kidney: 2,
  kidney_r: 2,
  rkid: 2,
  kidney_left: 3,
  left_kidney: 3,
  kidney_l: 3,
  lkid: 3,
  liver: 4,
  stomach: 5,
  aorta: 6,
};

/** The class id of a structure name ('Kidney (right)', 'kidney_right', 'RightKidney'...), or null. */
export function classOfName(name: string): number | null {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const key = words.join('_');
  if (key in CLASS_NAMES) return CLASS_NAMES[key]!;
  const sorted = [...words].sort().join('_'); // 'kidney_right' and 'right_kidney' alike
  for (const [k, v] of Object.entries(CLASS_NAMES)) if (k.split('_').sort().join('_') === sorted) return v;
  return null;
}
