/**
 * Splits text that arrives in chunks into lines, in time linear in the text however it is
 * chunked and however long a line is: the unfinished line is kept as a list of pieces and
 * joined once, never re-concatenated and searched again for every chunk. At most `maxLength`
 * characters of a line are kept; the rest of a longer line is skipped without being held, and
 * the line is reported as cut.
 */
export class LineSplitter {
  readonly #maxLength: number;
  readonly #onLine: (line: string, cut: boolean) => void;
  #pieces: string[] = [];
  #kept = 0;
  #cut = false;
  /** Whether text has arrived since the last newline (a last line without one is still a line). */
  #open = false;

  constructor(onLine: (line: string, cut: boolean) => void, maxLength = Infinity) {
    this.#onLine = onLine;
    this.#maxLength = maxLength;
  }

  push(chunk: string): void {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      this.#keep(chunk, start, end);
      this.#emit();
      start = end + 1;
    }
    if (start < chunk.length) {
      this.#keep(chunk, start, chunk.length);
      this.#open = true;
    }
  }

  /** Emits the last line when the text did not end with a newline. */
  end(): void {
    if (this.#open) this.#emit();
  }

  #keep(chunk: string, start: number, end: number): void {
    const room = this.#maxLength - this.#kept;
    if (end - start > room) {
      this.#cut = true;
      end = start + room;
    }
    if (end > start) {
      this.#pieces.push(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end));
      this.#kept += end - start;
    }
  }

  #emit(): void {
    const line = this.#pieces.length === 1 ? this.#pieces[0]! : this.#pieces.join('');
    const cut = this.#cut;
    this.#pieces = [];
    this.#kept = 0;
    this.#cut = false;
    this.#open = false;
    this.#onLine(line, cut);
  }
}
