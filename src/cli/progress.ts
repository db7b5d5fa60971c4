/** The bits of a stream the progress line needs; process.stderr satisfies it. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const REDRAW_EVERY_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * "Scanning: 1,234 files, 45.6 MB" on one self-overwriting line of stderr, only when
 * stderr is a terminal (a CI log or a redirected stream gets nothing), redrawn at most
 * ten times a second, and erased when the scan ends so it never mixes with results.
 */
export class Progress {
  readonly #stream: ProgressStream | undefined;
  readonly #now: () => number;
  #files = 0;
  #bytes = 0;
  #lastDraw = 0;
  #drawn = false;

  constructor(stream: ProgressStream, now: () => number = Date.now) {
    this.#stream = stream.isTTY ? stream : undefined;
    this.#now = now;
  }

  fileScanned(bytes: number): void {
    this.filesScanned(1, bytes);
  }

  filesScanned(count: number, bytes: number): void {
    this.#files += count;
    this.#bytes += bytes;
    if (!this.#stream) return;
    const now = this.#now();
    if (now - this.#lastDraw < REDRAW_EVERY_MS) return;
    this.#lastDraw = now;
    this.#drawn = true;
    const megabytes = (this.#bytes / 1024 / 1024).toFixed(1);
    const files = `${this.#files.toLocaleString('en-US')} ${this.#files === 1 ? 'file' : 'files'}`;
    this.#stream.write(`${CLEAR_LINE}Scanning: ${files}, ${megabytes} MB`);
  }

  get files(): number {
    return this.#files;
  }

  get bytes(): number {
    return this.#bytes;
  }

  done(): void {
    if (this.#drawn) this.#stream?.write(CLEAR_LINE);
    this.#drawn = false;
  }
}
