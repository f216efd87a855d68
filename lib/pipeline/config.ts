// The pipeline's configuration: one JSON file for all stages (each stage reads its section),
// defaults from docs/design.md's recipes, validated in full before any work starts.
import { PRESETS, STUDENT_ARCHS, TEACHER_ARCHS, type StudentArch } from '../models/archs.js';
import { WEIGHTS_FORMATS, type WeightsFormat } from '../models/export.js';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_HU_WINDOW, type SliceInput, type StudentAugment } from '../data/transforms.js';
import type { Device } from '../tensor/dtype.js';
import { ConfigError, validateConfig, type Schema } from './config-schema.js';
import { defaultsOf, schemaOf, type Declaration } from './config-fields.js';
import { DIST_DEFAULTS } from '../ops/dist-options.js';
import { BASELINE, CONTROL_VARIANT } from './results-file.js';
import { STUDENT_INPUT, TEACHER_INPUT, type Preset } from '../models/archs.js';
import { presetSizeProblems } from './preset-sizes.js';

export type Arch2d = StudentArch;
export type { Preset };
/**
 * Student augmentation: 'anatomy' (default) rotates in [-20, 20) degrees, scales 0.9..1.1 and
 * jitters intensity, never mirrors (a flipped right kidney would keep the label "right");
 * 'rot-flip' is the Synapse recipe (random rot90 + flip, or a rotation); 'none' resizes only.
 * true / false are read as 'anatomy' / 'none'.
 */
export type AugmentRecipe = StudentAugment;
/** L_intra over the channels of the present classes (default) or over all C channels (the first definition). */
export type DistChannels = 'present' | 'all';
/**
 * How an organ is scored per subject: 'present' (default) pools the slices whose truth holds the
 * organ and reports predictions elsewhere apart as false positives; 'union' pools every slice
 * (an organ predicted where the truth lacks it everywhere scores 0).
 */
export type EvaluationPolicy = 'present' | 'union';

/** The papers' base learning rate per student (SGD): 0.01 DeepLabv3, 0.05 Swin-Unet and MISSFormer. */
export const STUDENT_LR: Readonly<Record<Arch2d, number>> = { deeplabv3: 0.01, swin_unet: 0.05, missformer: 0.05 };

export interface TeacherConfig {
  /** Names the teacher's folders in the run and its column in the tables (default 'unest'). */
  name: string;
  /** A TorchScript teacher trained elsewhere (e.g. in Python; or a checkpoint); skips train-teacher. */
  model?: string;
  /** Initial weights (a state_dict) that train-teacher fine-tunes instead of a random start. */
  init?: InitWeights;
  /** Train on the volumes of these contrast phases only (default: all volumes). */
  phases?: string[];
  /** Fraction of the volume subjects held out to pick the best teacher checkpoint (default 0.2). */
  valFraction: number;
  arch: 'unest';
  preset: Preset;
  epochs: number;
  batchSize: number;
  /** Random crops per volume and epoch. */
  samplesPerVolume: number;
  lr: number;
  weightDecay: number;
  warmupEpochs: number;
  /** Crop / window size of the teacher, [D, H, W] voxels. */
  roi: number[];
  /** Target spacing [z, y, x] in mm. */
  spacing: number[];
  /** Positive : negative crop centres. */
  posNeg: number[];
  overlap: number;
  /** Clip the gradients' joint norm to this (0: off). */
  clipGradNorm: number;
}

/** A state_dict to start from: this zoo's names, or a published checkpoint's (see WEIGHTS_FORMATS). */
export interface InitWeights {
  path: string;
  format?: WeightsFormat;
}

export interface StudentConfig {
  /** Initial TorchScript weights (default: a fresh export of arch / preset). */
  model?: string;
  /** Initial weights as a state_dict (e.g. ImageNet's ResNet-50), exported into arch / preset. */
  init?: InitWeights;
  arch: Arch2d;
  preset: Preset;
  epochs: number;
  batchSize: number;
  /** 'sgd' (the papers' recipe, default) or 'adamw' (converges in far fewer steps: the tiny CPU runs). */
  optimizer: 'sgd' | 'adamw';
  /** Base learning rate (default: STUDENT_LR of the architecture). */
  lr?: number;
  momentum: number;
  weightDecay: number;
  /** Slices resampled to size x size. */
  size: number;
  /**
   * Spacing-aware input: the size x size grid covers this many mm (centred, padded with air or
   * cropped), so a kidney keeps its size in pixels across scanners whose fields of view differ.
   * Unset (default): each slice is stretched to size x size whatever its pixel spacing.
   */
  fieldOfViewMm?: number;
  augment: AugmentRecipe | boolean;
}

export interface DistillConfig {
  epochs: number;
  beta: number;
  tau: number;
  interWeight: number;
  intraWeight: number;
  channels: DistChannels;
  /** Default: the student's lr. */
  lr?: number;
}

export interface CropConfig {
  kind: 'kidneys' | 'z-range' | 'regressor' | 'none';
  /** kidneys: mm added above and below the kidneys' z-range (default 10). */
  margin?: number;
  /** z-range: RAS slice indices [from, to). */
  from?: number;
  to?: number;
  /** regressor: the TorchScript slice-score model, and the scores of L5 (lower) and Th12/L1 (upper). */
  model?: string;
  lower?: number;
  upper?: number;
}

/** A teacher column of Table 1: its name and what differs from `teacher`. */
export interface TeacherVariant {
  name: string;
  phases?: string[];
  model?: string;
}

export interface ExperimentConfig {
  /** Students of Table 1 (default: all three). */
  students: Arch2d[];
  /** Teachers of Table 1 (default: one, `teacher`). */
  teachers: TeacherVariant[];
  /** The low-data curve: training-subject counts (all subjects is always added), student and teacher. */
  lowData: { subjects: number[]; student: Arch2d; teacher?: string };
  /** Each student is also trained on for distill.epochs with L_seg alone (variant 'continued'; default true). */
  control: boolean;
  /** Training seeds: every student arm (pretrain, control, distill) is repeated per seed (default [seed]). */
  seeds?: number[];
}

export interface PipelineConfig {
  dataset: string;
  runDir: string;
  seed: number;
  /** 'cpu', 'cuda' or 'cuda:N'. */
  device: Device;
  threads: number;
  workers: number;
  split: { train: number; val: number; test: number };
  /** Train on this many training subjects only (the low-data experiment). */
  trainSubjects?: number;
  teacher: TeacherConfig;
  /**
   * teacherInput: 'volume' (default) runs the teacher on the whole resampled volume and
   * accumulates only the crop's slices; 'crop' feeds it the crop alone (the first version, for ablations).
   */
  prototype: { mode: 'slice-mean' | 'voxel-weighted'; crop: CropConfig; teacherInput: 'volume' | 'crop' };
  student: StudentConfig;
  distill: DistillConfig;
  /** Early stop after this many epochs without a better validation Dice (0: off). */
  patience: number;
  /** Batches in a row with a NaN / infinite loss (each skipped) before a training stops, naming their files. */
  maxNonFinite: number;
  /** Mixed precision (autocast + gradient scaling) when training on CUDA; ignored on the CPU. */
  amp: boolean;
  evaluation: { policy: EvaluationPolicy };
  /**
   * The intensity window [low, high] in HU mapped to [0, 1] for the teacher and every student
   * (default [-175, 250], soft tissue). It is recorded with the prototype and the students'
   * checkpoints, so a prototype made under another window is refused by distill.
   */
  hu: { window: [number, number] };
  experiment: ExperimentConfig;
  /**
   * The seed of the student arms' training (initial weights, shuffling, augmentation) where it
   * differs from `seed`, which keeps fixing the splits; set by the experiments per entry of
   * experiment.seeds, not read from a file.
   */
  trainingSeed?: number;
}

// The parts of the configuration that helpers below the stages read: each stage resolves its
// section once and hands these (or plain values) down, not the whole file.
/** Threads and seeds. */
export type RuntimeConfig = Pick<PipelineConfig, 'threads' | 'seed' | 'trainingSeed'>;
/** What splits the single-slice subjects. */
export type SliceSplitConfig = Pick<PipelineConfig, 'split' | 'seed' | 'trainSubjects'>;
/** What splits the teacher's volume subjects. */
export type VolumeSplitConfig = Pick<PipelineConfig, 'seed'> & { teacher: Pick<TeacherConfig, 'phases' | 'valFraction'> };
/** What the student's data, loader and validation read. */
export type StudentDataConfig = SliceSplitConfig & Pick<PipelineConfig, 'student' | 'hu' | 'workers' | 'device' | 'evaluation' | 'trainingSeed'>;

/** The student's base learning rate: student.lr, else the architecture's recipe. */
export function studentLr(config: Pick<PipelineConfig, 'student'>, arch: Arch2d = config.student.arch): number {
  return config.student.lr ?? STUDENT_LR[arch];
}

/** How the students see a slice: student.size, hu.window and student.fieldOfViewMm. */
export function studentInput(config: Pick<PipelineConfig, 'student' | 'hu'>): SliceInput {
  const { size, fieldOfViewMm } = config.student;
  return fieldOfViewMm === undefined ? { size, window: config.hu.window } : { size, window: config.hu.window, fieldOfViewMm };
}

/** The augmentation recipe of student.augment (true / false read as 'anatomy' / 'none'). */
export function augmentRecipe(augment: AugmentRecipe | boolean): AugmentRecipe {
  return augment === true ? 'anatomy' : augment === false ? 'none' : augment;
}

/** The seed of the student arms' training: trainingSeed where the experiments set one, else seed. */
export function trainingSeed(config: Pick<PipelineConfig, 'seed' | 'trainingSeed'>): number {
  return config.trainingSeed ?? config.seed;
}

/** The seeds every student arm is repeated over (experiment.seeds, default [seed]). */
export function experimentSeeds(config: Pick<PipelineConfig, 'seed' | 'experiment'>): number[] {
  return config.experiment.seeds?.length ? [...new Set(config.experiment.seeds)] : [config.seed];
}

export const ARCHS_2D: readonly Arch2d[] = STUDENT_ARCHS;

type NumberCheck = { min?: number; max?: number; integer?: boolean };
/** A number with a default / an optional number without one. */
const num = (value: number, o: NumberCheck = {}) => ({ type: 'number' as const, ...o, default: value });
const optNum = (o: NumberCheck = {}) => ({ type: 'number' as const, ...o });
const str = (oneOf?: readonly string[]) => ({ type: 'string' as const, oneOf });
const initWeights = { type: 'object' as const, fields: { path: { type: 'string' as const, optional: false }, format: str(Object.keys(WEIGHTS_FORMATS)) } };

/** What a configuration file holds: the file-only keys ($schema, dataset, runDir) and the declaration's. */
type FileConfig = Omit<PipelineConfig, 'dataset' | 'runDir' | 'trainingSeed'>;

/**
 * Every key of the configuration with its check and default (docs/design.md's recipes at the
 * papers' sizes); docs/config.md documents each, which a test checks.
 */
export const CONFIG: Declaration<FileConfig> = {
  seed: num(0, { integer: true }),
  device: { type: 'string', default: 'cpu' },
  // upper bounds: beyond them thread creation fails (libgomp aborts) or memory runs out
  threads: num(0, { integer: true, min: 0, max: 256 }),
  workers: num(2, { integer: true, min: 0, max: 64 }),
  maxNonFinite: num(5, { integer: true, min: 1 }),
  split: { type: 'object', fields: { train: num(0.6, { min: 0 }), val: num(0.2, { min: 0 }), test: num(0.2, { min: 0 }) } },
  trainSubjects: optNum({ integer: true, min: 1 }),
  teacher: {
    type: 'object',
    fields: {
      name: { type: 'string', default: 'unest' },
      model: str(),
      init: initWeights,
      phases: { type: 'strings' },
      valFraction: num(0.2, { min: 0, max: 0.9 }),
      arch: { type: 'string', oneOf: TEACHER_ARCHS, default: 'unest' },
      preset: { type: 'string', oneOf: PRESETS, default: 'base' },
      epochs: num(100, { integer: true, min: 0 }),
      batchSize: num(2, { integer: true, min: 1 }),
      samplesPerVolume: num(2, { integer: true, min: 1 }),
      lr: num(1e-4, { min: 0 }),
      weightDecay: num(1e-5, { min: 0 }),
      warmupEpochs: num(5, { min: 0 }),
      // the default follows teacher.preset (resolveConfig)
      roi: { type: 'numbers', length: 3, default: [TEACHER_INPUT.base, TEACHER_INPUT.base, TEACHER_INPUT.base] },
      spacing: { type: 'numbers', length: 3, default: [2, 1.5, 1.5] },
      posNeg: { type: 'numbers', length: 2, default: [1, 1] },
      overlap: num(0.5, { min: 0 }),
      clipGradNorm: num(0, { min: 0 }),
    },
  },
  prototype: {
    type: 'object',
    fields: {
      mode: { type: 'string', oneOf: ['slice-mean', 'voxel-weighted'], default: 'slice-mean' },
      teacherInput: { type: 'string', oneOf: ['volume', 'crop'], default: 'volume' },
      crop: {
        type: 'object',
        fields: {
          kind: { type: 'string', oneOf: ['kidneys', 'z-range', 'regressor', 'none'], default: 'kidneys' },
          margin: num(10, { min: 0 }),
          from: optNum({ integer: true }),
          to: optNum({ integer: true }),
          model: str(),
          lower: optNum(),
          upper: optNum(),
        },
      },
    },
  },
  student: {
    type: 'object',
    fields: {
      model: str(),
      init: initWeights,
      arch: { type: 'string', oneOf: STUDENT_ARCHS, default: 'deeplabv3' },
      preset: { type: 'string', oneOf: PRESETS, default: 'base' },
      epochs: num(100, { integer: true, min: 0 }),
      batchSize: num(24, { integer: true, min: 1 }),
      optimizer: { type: 'string', oneOf: ['sgd', 'adamw'], default: 'sgd' },
      lr: optNum({ min: 0 }),
      momentum: num(0.9, { min: 0 }),
      weightDecay: num(1e-4, { min: 0 }),
      // the default follows student.preset (resolveConfig)
      size: num(STUDENT_INPUT.base, { integer: true, min: 8 }),
      fieldOfViewMm: optNum({ min: 1, max: 2000 }),
      augment: { type: 'any', default: 'anatomy' },
    },
  },
  distill: {
    type: 'object',
    fields: {
      epochs: num(100, { integer: true, min: 0 }),
      beta: num(DIST_DEFAULTS.weight, { min: 0 }),
      tau: num(DIST_DEFAULTS.tau, { min: 0 }),
      interWeight: num(DIST_DEFAULTS.interWeight, { min: 0 }),
      intraWeight: num(DIST_DEFAULTS.intraWeight, { min: 0 }),
      channels: { type: 'string', oneOf: ['present', 'all'], default: DIST_DEFAULTS.channels },
      lr: optNum({ min: 0 }),
    },
  },
  patience: num(0, { integer: true, min: 0 }),
  amp: { type: 'boolean', default: false },
  evaluation: { type: 'object', fields: { policy: { type: 'string', oneOf: ['present', 'union'], default: 'present' } } },
  hu: { type: 'object', fields: { window: { type: 'numbers', length: 2, default: [...DEFAULT_HU_WINDOW] } } },
  experiment: {
    type: 'object',
    fields: {
      students: { type: 'strings', oneOf: STUDENT_ARCHS, default: [...STUDENT_ARCHS] },
      teachers: {
        type: 'objects',
        fields: { name: { type: 'string' }, phases: { type: 'strings', optional: true }, model: { type: 'string', optional: true } },
        default: [],
      },
      lowData: {
        type: 'object',
        fields: {
          subjects: { type: 'numbers', default: [100, 150, 200, 250] },
          student: { type: 'string', oneOf: STUDENT_ARCHS, default: 'deeplabv3' },
          teacher: str(),
        },
      },
      control: { type: 'boolean', default: true },
      seeds: { type: 'numbers' },
    },
  },
};

/** The defaults of every key. */
export const DEFAULTS = defaultsOf(CONFIG) as unknown as FileConfig;

/** What a configuration file may hold. */
export const SCHEMA: Schema = {
  $schema: { type: 'any', optional: true },
  dataset: { type: 'string', optional: true },
  runDir: { type: 'string', optional: true },
  ...schemaOf(CONFIG),
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };
export type PartialConfig = DeepPartial<PipelineConfig>;

function merge<T>(base: T, over: unknown): T {
  if (over === undefined || over === null) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge((base as Record<string, unknown>)[k], v);
  return out as T;
}

/** Defaults, then the file's values, then overrides (e.g. from CLI flags); relative paths resolve against `baseDir`. */
export function resolveConfig(partial: PartialConfig, baseDir: string, source = 'config'): PipelineConfig {
  validateConfig(partial, SCHEMA, source);
  const merged = merge(DEFAULTS as PipelineConfig, partial);
  // sizes not given follow the presets (a tiny teacher takes 64^3 crops, a tiny student 64^2)
  // (new objects: merge shares the sections of DEFAULTS that the file leaves out)
  if (partial.teacher?.roi === undefined) merged.teacher = { ...merged.teacher, roi: Array<number>(3).fill(TEACHER_INPUT[merged.teacher.preset]) };
  if (partial.student?.size === undefined) merged.student = { ...merged.student, size: STUDENT_INPUT[merged.student.preset] };
  const problems: string[] = presetSizeProblems(merged.teacher, merged.student, partial.experiment?.students ?? []);
  if (!merged.dataset) problems.push('dataset: required (a folder with dataset.json)');
  if (!merged.runDir) problems.push('runDir: required (where the stages write)');
  const s = merged.split;
  if (s.train <= 0 || s.val < 0 || s.test < 0) problems.push('split: train must be > 0, val and test >= 0');
  const crop = merged.prototype.crop;
  if (crop.kind === 'z-range' && !(crop.from !== undefined && crop.to !== undefined && crop.to > crop.from))
    problems.push('prototype.crop: kind z-range needs from < to (RAS slice indices)');
  if (crop.kind === 'regressor' && !(crop.model && crop.lower !== undefined && crop.upper !== undefined))
    problems.push('prototype.crop: kind regressor needs model, lower and upper');
  const augment = merged.student.augment as unknown;
  if (!(typeof augment === 'boolean' || augment === 'anatomy' || augment === 'rot-flip' || augment === 'none')) {
    problems.push(`student.augment: expected 'anatomy', 'rot-flip', 'none' (or true / false), got ${JSON.stringify(augment)}`);
  }
  const [lo, hi] = merged.hu.window;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo))
    problems.push(`hu.window: expected [low, high] in HU with low < high, got ${JSON.stringify(merged.hu.window)}`);
  const seeds = merged.experiment.seeds ?? [];
  if (seeds.some((v) => !Number.isInteger(v))) problems.push(`experiment.seeds: expected integers, got ${JSON.stringify(seeds)}`);
  for (const [where, section, arch] of [
    ['teacher', merged.teacher, merged.teacher.arch],
    ['student', merged.student, merged.student.arch],
  ] as const) {
    if (section.init && section.model) problems.push(`${where}: give model (trained weights to use) or init (weights to start training from), not both`);
    const fits = section.init?.format && WEIGHTS_FORMATS[section.init.format];
    if (fits && fits !== arch) problems.push(`${where}.init.format: ${section.init!.format} maps to ${fits}, not ${arch}`);
  }
  if (!/^(cpu|cuda(:\d+)?)$/.test(merged.device)) problems.push(`device: expected 'cpu', 'cuda' or 'cuda:N', got '${merged.device}'`);
  if (problems.length) throw new ConfigError(problems, source);
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  merged.dataset = resolve(merged.dataset)!;
  merged.runDir = resolve(merged.runDir)!;
  merged.teacher.model = resolve(merged.teacher.model);
  merged.student.model = resolve(merged.student.model);
  for (const [where, section] of [
    ['teacher', merged.teacher],
    ['student', merged.student],
  ] as const) {
    if (!section.init) continue;
    section.init = { ...section.init, path: resolve(section.init.path)! };
    if (!existsSync(section.init.path)) throw new ConfigError([`${where}.init.path: ${section.init.path} does not exist`], source);
  }
  merged.prototype.crop.model = resolve(merged.prototype.crop.model);
  merged.experiment.teachers = merged.experiment.teachers.map((t) => ({ ...t, model: resolve(t.model) }));
  const names = merged.experiment.teachers.map((t) => t.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) throw new ConfigError([`experiment.teachers: the name '${twice[0]}' is used twice`], source);
  for (const n of [merged.teacher.name, ...names]) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n))
      throw new ConfigError([`teacher name '${n}': use letters, digits, '.', '_' and '-' (it names a folder)`], source);
    // variant names of Table 1 that are not teachers: the undistilled student and the control
    if (n === BASELINE || n === CONTROL_VARIANT)
      throw new ConfigError([`teacher name '${n}': reserved for the ${n === BASELINE ? 'undistilled students' : 'L_seg-only control'}`], source);
  }
  return merged;
}

export async function loadConfig(file: string, overrides: PartialConfig = {}): Promise<PipelineConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError([(e as Error).message], file);
  }
  validateConfig(json, SCHEMA, file);
  return resolveConfig(merge(json as PartialConfig, overrides), path.dirname(path.resolve(file)), file);
}
