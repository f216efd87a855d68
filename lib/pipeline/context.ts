// What every stage does first: threads and seed from the config, the dataset loaded and
// validated (every problem at once, before any work), and the subject splits.
import { loadDataset, assertValidDataset, subjectsOf, type Dataset, type ValidationReport } from '../data/dataset.js';
import { nestedSubsets, splitSubjects, type Split } from '../data/splits.js';
import { manualSeed, setNumThreads } from '../runtime.js';
import type { ProgressMode } from '../train/progress.js';
import type { RuntimeConfig, SliceSplitConfig, VolumeSplitConfig } from './config.js';

/** Options every stage takes besides its config. */
export interface StageOptions {
  signal?: AbortSignal;
  progress?: ProgressMode;
  /** Redo the stage even where a finished run with the same inputs and config is there. */
  force?: boolean;
  /** Continue an interrupted training from its last checkpoint (default true). */
  resume?: boolean;
  /** Lines for the user (default: stderr). */
  log?: (line: string) => void;
}

export const defaultLog = (line: string): void => void process.stderr.write(line + '\n');

const validated = new Map<string, Promise<Dataset>>();
const reports = new Map<string, ValidationReport>();

/** The validation report of a dataset opened by openDataset (shapes, class counts per entry). */
export function datasetReport(location: string): ValidationReport | undefined {
  return reports.get(location);
}

/** Loads dataset.json and checks every file once per process. */
export function openDataset(location: string): Promise<Dataset> {
  let p = validated.get(location);
  if (!p) {
    p = (async () => {
      const dataset = await loadDataset(location);
      reports.set(location, await assertValidDataset(dataset));
      return dataset;
    })();
    validated.set(location, p);
    p.catch(() => validated.delete(location));
  }
  return p;
}

/** Applies the config's thread count and seed (the training seed where the experiments set one). */
export function applyRuntime(config: RuntimeConfig): void {
  if (config.threads > 0) setNumThreads(config.threads);
  manualSeed(config.trainingSeed ?? config.seed);
}

export interface SliceSplit extends Split {
  /** The training subjects actually used (all of train, or the nested low-data subset). */
  used: string[];
}

/** The single-slice subjects split by the config (seeded), with the low-data subset applied. */
export function sliceSplit(config: SliceSplitConfig, dataset: Dataset, trainSubjects = config.trainSubjects): SliceSplit {
  const split = splitSubjects(subjectsOf(dataset, 'slices'), config.split, config.seed);
  if (split.train.length === 0) throw new RangeError(`${dataset.file}: no single slices for training (split ${JSON.stringify(config.split)})`);
  if (trainSubjects !== undefined && !(Number.isInteger(trainSubjects) && trainSubjects >= 1)) {
    throw new RangeError(`trainSubjects: expected an integer >= 1, got ${trainSubjects}`);
  }
  // more than there are would still name the folder -n<N> while training on fewer
  if (trainSubjects !== undefined && trainSubjects > split.train.length) {
    throw new RangeError(
      `trainSubjects: ${trainSubjects} is more than the ${split.train.length} training subjects of ${dataset.file} (split ${JSON.stringify(config.split)})`,
    );
  }
  if (trainSubjects === undefined || trainSubjects === split.train.length) return { ...split, used: split.train };
  return { ...split, used: nestedSubsets(split.train, [trainSubjects], config.seed).get(trainSubjects)! };
}

/** The volume subjects of the teacher (those with labels, of the configured phases) split into train / val. */
export function volumeSplit(config: VolumeSplitConfig, dataset: Dataset, phases = config.teacher.phases): { train: string[]; val: string[] } {
  const volumes = dataset.volumes.filter((v) => v.label && (!phases?.length || (v.phase !== undefined && phases.includes(v.phase))));
  const subjects = [...new Set(volumes.map((v) => v.subject))];
  if (subjects.length === 0)
    throw new RangeError(`${dataset.file}: no labelled volumes${phases?.length ? ` of phase ${phases.join(' / ')}` : ''} for the teacher`);
  const nVal = subjects.length > 1 ? Math.max(config.teacher.valFraction > 0 ? 1 : 0, Math.round(config.teacher.valFraction * subjects.length)) : 0;
  const s = splitSubjects(subjects, { train: subjects.length - nVal, val: nVal, test: 0 }, config.seed);
  return { train: s.train, val: s.val };
}
