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
const NO_OUTPUTS: readonly number[] = Object.freeze([]);

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
        for (const variant of [ch, ch.toUpperCase(), ch.toLowerCase()]) {
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

    // Built straight into the flat transition table, with children kept as linked lists
    // (no per-state arrays), and each state's failure row copied natively: the CLI pays
    // for this construction on every start, before the loop below could be optimised.
    const maxStates = 1 + lowered.reduce((sum, p) => sum + p.length, 0);
    const delta = new Int32Array(maxStates * width);
    const firstChild = new Int32Array(maxStates).fill(-1);
    const nextSibling = new Int32Array(maxStates).fill(-1);
    const classOfState = new Int32Array(maxStates);
    const own: number[][] = [];
    let states = 1;
    // Trie: while it is built, delta holds raw child numbers; 0 (the root) means "no child".
    lowered.forEach((p, index) => {
      let state = 0;
      for (let i = 0; i < p.length; i++) {
        const cls = this.#classOf[p.charCodeAt(i)]!;
        let child = delta[state * width + cls]!;
        if (child === 0) {
          child = states++;
          delta[state * width + cls] = child;
          classOfState[child] = cls;
          nextSibling[child] = firstChild[state]!;
          firstChild[state] = child;
        }
        state = child;
      }
      (own[state] ??= []).push(index);
    });

    // Breadth-first: a state's row is its failure state's row (complete, being shallower)
    // with its own children written over it. Entries are final as written: pre-multiplied,
    // and bit-inverted when the target ends a pattern.
    const outputs: (readonly number[])[] = new Array<readonly number[]>(states).fill(NO_OUTPUTS);
    const fail = new Int32Array(states);
    const encode = (target: number) => (outputs[target]!.length > 0 ? ~(target * width) : target * width);
    const queue: number[] = [];
    for (let child = firstChild[0]!; child !== -1; child = nextSibling[child]!) {
      outputs[child] = own[child] ?? NO_OUTPUTS;
      delta[classOfState[child]!] = encode(child);
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      const base = state * width;
      const failBase = fail[state]! * width;
      delta.copyWithin(base, failBase, failBase + width);
      for (let child = firstChild[state]!; child !== -1; child = nextSibling[child]!) {
        const viaFailure = delta[failBase + classOfState[child]!]!;
        const failState = (viaFailure < 0 ? ~viaFailure : viaFailure) / width;
        fail[child] = failState;
        const inherited = outputs[failState]!;
        const mine = own[child];
        outputs[child] = mine ? (inherited.length > 0 ? [...mine, ...inherited] : mine) : inherited;
        delta[base + classOfState[child]!] = encode(child);
        queue.push(child);
      }
    }
    this.#outputs = outputs;
    this.#delta = delta.subarray(0, states * width);
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
