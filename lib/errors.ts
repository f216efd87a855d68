/** A failure inside LibTorch (a c10::Error or std::exception), without the C++ backtrace. */
export class TorchError extends Error {
  /** LibTorch's error class: 'Error', 'IndexError', 'ValueError', 'TypeError', 'LinAlgError', ... */
  kind = 'Error';

  constructor(message: string) {
    super(message);
    this.name = 'TorchError';
  }
}

/** Thrown when a tensor, module or optimizer is used after dispose(). */
export class DisposedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DisposedError';
  }
}

/** Thrown when a tensor is used after dispose() (or after its scope ended). */
export class TensorDisposedError extends DisposedError {
  constructor(message = 'the tensor was disposed and cannot be used') {
    super(message);
    this.name = 'TensorDisposedError';
  }
}

/** A TorchScript module that cannot be loaded: a missing, truncated or foreign file. */
export class ModuleLoadError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ModuleLoadError';
  }
}

/** A checkpoint that cannot be read or does not fit what it is loaded into. */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** A file system failure (no space, read-only, no permission), naming the file and the operation. */
export class FileSystemError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'FileSystemError';
  }
}

/** Wraps a Node file system error so that it names the file the user asked for. */
export function fileSystemError(e: unknown, operation: string, file: string): unknown {
  if (e instanceof FileSystemError) return e;
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string' || err.syscall === undefined) return e;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is exhausted',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'its folder does not exist',
    ENOTDIR: 'a part of its path is not a folder',
    EISDIR: 'it is a folder',
    EMFILE: 'too many open files',
  };
  return new FileSystemError(`${file}: cannot ${operation} (${err.code}: ${why[err.code] ?? err.message})`, file, err.code);
}

/** A stage folder another live process is working in. */
export class LockedError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly owner: { pid: number; host: string; startedAt?: string },
  ) {
    super(message);
    this.name = 'LockedError';
  }
}

/** True for a TorchError of the given LibTorch / slice-distill kind. */
export function isTorchErrorOf(e: unknown, kind: string): e is TorchError {
  return e instanceof TorchError && e.kind === kind;
}
