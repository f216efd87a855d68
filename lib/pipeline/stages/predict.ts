// predict: a trained student on the user's own NIfTI slices. Each input gives
// <name>_seg.nii.gz: class ids as uint8 on the input's own voxel grid, with its header
// geometry, so it opens aligned over the input in any viewer. Every axial slice of a
// multi-slice input is segmented.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { orientationOf } from '../../data/geometry.js';
import { CLASSES, NUM_CLASSES } from '../../data/labels.js';
import * as nifti from '../../data/nifti.js';
import { dicomInputsIn } from '../../data/dicom-inputs.js';
import { imageStem, isDicom, readImage } from '../../data/image-io.js';
import { nonAxialSliceProblem } from '../../data/slice-plane.js';
import { SamplePipeline, type SampleRef } from '../../data/sample-pipeline.js';
import type { ScriptModule } from '../../module/script-module.js';
import type { Device } from '../../tensor/dtype.js';
import { ConfigError } from '../config-schema.js';
import { defaultLog } from '../context.js';
import { loadModel } from '../models.js';
import { organStats, type OrganSliceStats } from '../../eval/organ-stats.js';
import { writePredictionExtras } from '../prediction-outputs.js';
import { prepareSlices, segmentSlices } from '../../infer/slices.js';
import { recordedSliceInput, sameWindow } from '../recorded-input.js';
import { DEFAULT_HU_WINDOW, type SliceInput } from '../../data/transforms.js';

export interface PredictOptions {
  /** A training checkpoint (.ckpt) or a TorchScript student (.pt). */
  checkpoint: string;
  /** NIfTI files (2D, one-slice 3D or volumes) or folders of them. */
  inputs: string[];
  /** Output folder (created). */
  out: string;
  /** Model input size (default: the model's metadata inputSize). */
  size?: number;
  /** HU window (default: the one a .ckpt records, else [-175, 250]). */
  window?: [number, number];
  /** Model grid's field of view in mm (default: the one a .ckpt records, else none: slices stretched to the grid). */
  fieldOfViewMm?: number;
  device?: Device;
  /** Slices per forward pass (default 16). */
  batchSize?: number;
  /** Also measure every organ per slice (area, HU): stats.csv and stats.json beside the labels. */
  stats?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface Prediction {
  input: string;
  output: string;
  slices: number;
  /** Labelled pixels per class id. */
  counts: number[];
  /** With options.stats: per slice and organ (lib/eval/organ-stats.ts). */
  stats?: OrganSliceStats[];
}

const NIFTI = /\.nii(\.gz)?$/i;
const SEG = /_seg\.nii(\.gz)?$/i;

/** The NIfTI files named or inside the named folders (not recursive), and every problem found. */
function expandInputs(inputs: readonly string[]): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  if (inputs.length === 0) problems.push('no inputs given');
  for (const input of inputs) {
    if (!existsSync(input)) problems.push(`${input}: no such file or folder`);
    else if (statSync(input).isDirectory()) {
      // label files named as this stage names its outputs are not images to segment
      const found = readdirSync(input)
        .filter((f) => NIFTI.test(f) && !SEG.test(f))
        .sort()
        .map((f) => path.join(input, f));
      // DICOM: single-slice files, or the folder itself when it holds one series
      try {
        found.push(...dicomInputsIn(input));
      } catch (e) {
        problems.push((e as Error).message);
      }
      if (found.length === 0) problems.push(`${input}: no .nii, .nii.gz or DICOM files in this folder`);
      files.push(...found);
    } else if (!NIFTI.test(input) && !isDicom(input)) problems.push(`${input}: not a .nii, .nii.gz or DICOM file`);
    else files.push(input);
  }
  return { files: [...new Set(files.map((f) => path.resolve(f)))], problems };
}

const DESCRIP = 'slice-distill segmentation';

async function ownOutput(file: string): Promise<boolean> {
  try {
    return (await nifti.readHeader(file, { orientation: 'native' })).header?.descrip === DESCRIP;
  } catch {
    return false;
  }
}

export function outputName(input: string): string {
  return `${imageStem(input)}_seg.nii.gz`;
}

function inputSize(module: ScriptModule, given: number | undefined, checkpoint: string): number {
  const meta = module.metadata;
  if (meta?.spatialDims === 3) throw new ConfigError([`${checkpoint}: a 3D model (${meta.arch ?? 'unknown'}); predict needs a 2D student`], 'predict');
  if (given !== undefined) return given;
  const size = meta?.inputSize;
  if (Array.isArray(size) && size.length === 2 && size[0] === size[1] && Number.isInteger(size[0])) return size[0]!;
  throw new ConfigError([`${checkpoint}: the model does not record its input size; give it (--size N, the student.size it was trained with)`], 'predict');
}

/** Class ids of every axial slice, as one volume in RAS order (x fastest). */
async function segmentVolume(
  module: ScriptModule,
  file: string,
  shape: readonly number[],
  input: SliceInput,
  batchSize: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const [nx, ny, nz] = shape as [number, number, number];
  // one pipeline per input, caching the whole decoded file while its slices are read
  const pipeline = new SamplePipeline({ spatialDims: 2, labelMap: [], unmapped: 'background', transforms: [], cacheBytes: Number.MAX_SAFE_INTEGER });
  const labels = new Uint8Array(nx * ny * nz);
  for (let z0 = 0; z0 < nz; z0 += batchSize) {
    signal?.throwIfAborted();
    const refs: SampleRef[] = [];
    for (let z = z0; z < Math.min(nz, z0 + batchSize); z++) refs.push({ image: file, subject: path.basename(file), z });
    const maps = await segmentSlices(module, prepareSlices(pipeline, refs, input), input, batchSize, signal);
    maps.forEach((m, i) => labels.set(m, (z0 + i) * nx * ny));
  }
  return labels;
}

/** Every problem with the options, at once, before any work; the inputs' headers as stored. */
async function checkInputs(o: PredictOptions): Promise<Map<string, nifti.NiftiImage>> {
  const { files, problems } = expandInputs(o.inputs);
  if (!existsSync(o.checkpoint)) problems.push(`${o.checkpoint}: checkpoint not found`);
  if (o.size !== undefined && !(Number.isInteger(o.size) && o.size >= 8)) problems.push(`size: expected an integer >= 8, got ${o.size}`);
  if (o.window && !(o.window.length === 2 && o.window.every(Number.isFinite) && o.window[1] > o.window[0]))
    problems.push(`window: expected [low, high] HU with low < high, got ${JSON.stringify(o.window)}`);
  if (o.fieldOfViewMm !== undefined && !(o.fieldOfViewMm > 0 && Number.isFinite(o.fieldOfViewMm)))
    problems.push(`fieldOfViewMm: expected a positive number of mm, got ${o.fieldOfViewMm}`);
  const byName = new Map<string, string>();
  const headers = new Map<string, nifti.NiftiImage>();
  for (const f of files) {
    const name = outputName(f);
    const other = byName.get(name);
    if (other) problems.push(`${f} and ${other} would both write ${name}`);
    byName.set(name, f);
    // earlier predictions are replaced; anything else (an input, a ground-truth label) never is
    const target = path.join(o.out, name);
    if (existsSync(target) && !(await ownOutput(target)))
      problems.push(`${target}: exists and was not written by predict (an input or a label?); choose another output folder`);
    try {
      const header = await readImage(f, { headerOnly: true, orientation: 'native' }); // NIfTI or DICOM
      const plane = nonAxialSliceProblem(header.shape, header.affine);
      if (plane) problems.push(`${f}: ${plane}`);
      headers.set(f, header);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length) throw new ConfigError(problems, 'predict');
  return headers;
}

/** The slice input: given options, else what the checkpoint was trained with, else the defaults; a given value that differs from the recorded one is said. */
async function predictInput(o: PredictOptions, size: number, log: (line: string) => void): Promise<SliceInput> {
  const recorded = await recordedSliceInput(o.checkpoint);
  const window = o.window ?? recorded?.window ?? DEFAULT_HU_WINDOW;
  const fieldOfViewMm = o.fieldOfViewMm ?? recorded?.fieldOfViewMm;
  if (recorded && o.window && !sameWindow(o.window, recorded.window!))
    log(`predict: warning: window [${o.window.join(', ')}] differs from the [${recorded.window!.join(', ')}] ${o.checkpoint} was trained with`);
  if (recorded && o.fieldOfViewMm !== undefined && o.fieldOfViewMm !== recorded.fieldOfViewMm)
    log(
      `predict: warning: field of view ${o.fieldOfViewMm} mm differs from the ${recorded.fieldOfViewMm ?? 'none (stretched)'} ${o.checkpoint} was trained with`,
    );
  return fieldOfViewMm === undefined ? { size, window } : { size, window, fieldOfViewMm };
}

export async function predict(o: PredictOptions): Promise<Prediction[]> {
  const log = o.log ?? defaultLog;
  // the output keeps the input's own voxel order and geometry
  const headers = await checkInputs(o);
  using module = (await loadModel(o.checkpoint, o.device ?? 'cpu')).eval();
  const input = await predictInput(o, inputSize(module, o.size, o.checkpoint), log);
  await mkdir(o.out, { recursive: true });
  const out: Prediction[] = [];
  for (const [f, native] of headers) {
    const ras = nifti.reorient(native, 'RAS');
    const rasLabels = await segmentVolume(module, f, ras.shape, input, o.batchSize ?? 16, o.signal);
    const back = nifti.reorient({ ...ras, data: rasLabels }, orientationOf(native.affine));
    const header = native.header && { ...native.header, intentCode: 1002, intentName: 'labels', calMin: 0, calMax: NUM_CLASSES - 1 }; // NIFTI_INTENT_LABEL
    const output = path.join(o.out, outputName(f));
    await nifti.write(
      output,
      { data: back.data, shape: native.shape, spacing: native.spacing, affine: native.affine, header },
      { datatype: 'uint8', descrip: DESCRIP },
    );
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    for (const v of rasLabels) counts[v]!++;
    const found = counts.flatMap((c, k) => (k > 0 && c > 0 ? [CLASSES[k]] : []));
    log(`predict: ${output} (${ras.shape[2]} slice${ras.shape[2] === 1 ? '' : 's'}; ${found.length ? found.join(', ') : 'no organs found'})`);
    const done: Prediction = { input: f, output, slices: ras.shape[2], counts };
    // the HU of the original image in RAS order, as the labels were made
    if (o.stats) done.stats = organStats(await readImage(f), rasLabels, output);
    out.push(done);
  }
  // label names and colours for viewers; the measurements where asked for
  await writePredictionExtras(o.out, o.stats ? out.map((p) => ({ input: p.input, output: p.output, stats: p.stats ?? [] })) : null);
  return out;
}
