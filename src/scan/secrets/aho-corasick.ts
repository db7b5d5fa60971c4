/**
 * Case-insensitive multi-pattern search (Aho–Corasick) compiled to a dense DFA.
 *
 * The scanner feeds every byte of every file through this automaton, so the hot loop
 * is kept to one typed-array lookup per character: characters are first mapped to a
 * small alphabet (the distinct characters of the patterns, upper and lower case folded
 * together, everything else class 0), and transitions are stored pre-multiplied by the
 * alphabet width. A transition into a state that ends a pattern is stored bit-inverted,
 * so "did anything match here?" is a sign test rather than a second lookup.
 */
export class AhoCorasick {
  readonly patterns: readonly string[];
  readonly #classOf = new Uint16Array(65536);
  readonly #width: number;
  readonly #delta: Int32Array;
  /** Pattern indexes ending in each state (own and via suffix links), by state number. */
  readonly #outputs: (readonly number[])[];

  constructor(patterns: readonly string[]) {
    const lowered = patterns.map((p) => p.toLowerCase());
    if (lowered.some((p) => p.length === 0)) throw new Error('Aho-Corasick: empty patterns are not allowed');
    this.patterns = lowered;

    let width = 1;
    for (const p of lowered) {
      for (const ch of p) {
        for (const variant of new Set([ch, ch.toUpperCase(), ch.toLowerCase()])) {
          // Case variants that change length (e.g. 'ß' -> 'SS') cannot be folded char by char.
          if (variant.length !== 1) continue;
          const code = variant.charCodeAt(0);
          if (this.#classOf[code] === 0) {
            const existing = this.#classOf[ch.charCodeAt(0)];
            this.#classOf[code] = existing !== undefined && existing !== 0 ? existing : width++;
          }
        }
      }
    }
    this.#width = width;

    // Trie over alphabet classes.
    const goto: Int32Array[] = [new Int32Array(width).fill(-1)];
    const outputs: number[][] = [[]];
    lowered.forEach((p, index) => {
      let state = 0;
      for (let i = 0; i < p.length; i++) {
        const cls = this.#classOf[p.charCodeAt(i)] ?? 0;
        const row = goto[state]!;
        if (row[cls] === -1) {
          row[cls] = goto.length;
          goto.push(new Int32Array(width).fill(-1));
          outputs.push([]);
        }
        state = row[cls]!;
      }
      outputs[state]!.push(index);
    });

    // Breadth-first: fill failure transitions so the trie becomes a complete DFA.
    const fail = new Int32Array(goto.length);
    const queue: number[] = [];
    const root = goto[0]!;
    for (let c = 0; c < width; c++) {
      if (root[c] === -1) root[c] = 0;
      else queue.push(root[c]!);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      const row = goto[state]!;
      const failRow = goto[fail[state]!]!;
      for (let c = 0; c < width; c++) {
        const next = row[c]!;
        if (next === -1) {
          row[c] = failRow[c]!;
        } else {
          fail[next] = failRow[c]!;
          outputs[next]!.push(...outputs[fail[next]!]!);
          queue.push(next);
        }
      }
    }

    this.#outputs = outputs;
    this.#delta = new Int32Array(goto.length * width);
    for (let s = 0; s < goto.length; s++) {
      const row = goto[s]!;
      for (let c = 0; c < width; c++) {
        const target = row[c]!;
        const premultiplied = target * width;
        this.#delta[s * width + c] = outputs[target]!.length > 0 ? ~premultiplied : premultiplied;
      }
    }
  }

  /**
   * Calls `onMatch(patternIndex, end)` for every occurrence, `end` exclusive, in order of
   * `end`. Overlapping occurrences are all reported.
   */
  search(text: string, onMatch: (pattern: number, end: number) => void): void {
    const classOf = this.#classOf;
    const delta = this.#delta;
    const width = this.#width;
    const n = text.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = delta[s + classOf[text.charCodeAt(i)]!]!;
      if (t < 0) {
        s = ~t;
        for (const pattern of this.#outputs[s / width]!) onMatch(pattern, i + 1);
      } else {
        s = t;
      }
    }
  }

  /** True when any pattern occurs in `text`; stops at the first occurrence. */
  test(text: string): boolean {
    const classOf = this.#classOf;
    const delta = this.#delta;
    const n = text.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = delta[s + classOf[text.charCodeAt(i)]!]!;
      if (t < 0) return true;
      s = t;
    }
    return false;
  }
}
