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
