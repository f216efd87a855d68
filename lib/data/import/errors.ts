/** A source folder that cannot be imported as it is; names the file or folder. */
export class ImportError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message.startsWith(file) ? message : `${file}: ${message}`);
    this.name = 'ImportError';
  }
}
