// Typed errors of the data layer. Each names the file it is about, so a failure deep in a
// worker or in a dataset of thousands of entries can be traced back to one file.

/** A NIfTI file that cannot be read or written: wrong magic, truncated, unsupported type... */
export class NiftiError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'NiftiError';
  }
}

/** A DICOM file or series that cannot be read: not DICOM, compressed, incomplete geometry... */
export class DicomError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'DicomError';
  }
}

/** One thing wrong with a dataset description. */
export interface DatasetProblem {
  /** The file the problem is about (the dataset.json itself for structural problems). */
  file: string;
  /** Where in dataset.json: 'volumes[3].label', 'labelMap', ... */
  where?: string;
  message: string;
}

/** A dataset.json that does not describe a usable dataset; lists every problem found. */
export class DatasetError extends Error {
  readonly problems: readonly DatasetProblem[];

  constructor(
    readonly file: string,
    problems: readonly DatasetProblem[],
  ) {
    const lines = problems.slice(0, 50).map((p) => `  - ${p.where ? `${p.where}: ` : ''}${p.message}${p.file !== file ? ` (${p.file})` : ''}`);
    if (problems.length > 50) lines.push(`  ... and ${problems.length - 50} more`);
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`);
    this.name = 'DatasetError';
    this.problems = problems;
  }
}

/** A sample that failed to load or transform in the data loader (the epoch fails with it). */
export class DataLoadError extends Error {
  constructor(
    message: string,
    /** The file being read when it failed, or null when it was not about one file. */
    readonly file: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DataLoadError';
  }
}
