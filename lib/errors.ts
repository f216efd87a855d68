/** A failure inside LibTorch (a c10::Error or std::exception), without the C++ backtrace. */
export class TorchError extends Error {
  /** LibTorch's error class: 'Error', 'IndexError', 'ValueError', 'TypeError', 'LinAlgError', ... */
  kind = 'Error';

  constructor(message: string) {
    super(message);
    this.name = 'TorchError';
  }
}

/** Thrown when a tensor is used after dispose() (or after its scope ended). */
export class TensorDisposedError extends Error {
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

/** True for a TorchError of the given LibTorch / slice-distill kind. */
export function isTorchErrorOf(e: unknown, kind: string): e is TorchError {
  return e instanceof TorchError && e.kind === kind;
}
