/** A dependency file that cannot be read as the format its name promises. */
export class ParseError extends Error {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ParseError';
    this.file = file;
    this.reason = reason;
  }
}
