import { createRequire } from 'node:module';
import type { Matcher, RE2JS } from 're2js';

/**
 * Patterns that a repository supplies (custom rules, allow-lists, path patterns) run on
 * re2js, a port of Go's RE2: matching takes time linear in the input whatever the pattern,
 * so `(a|a)+$` or `(a+){12}$` cannot stall the scanner as they do on JavaScript's
 * backtracking engine. Gitleaks patterns are RE2 syntax, so they run as written: `(?i)`
 * mid-pattern, `\z`, `(?P<name>...)`, POSIX and Unicode classes. What RE2 cannot run in
 * linear time (lookaround, backreferences) does not compile, and the pattern is refused.
 */

export class LinearRegexError extends Error {}

/**
 * re2js is loaded on first use (synchronously, from its CommonJS build): only repositories
 * with patterns of their own need it, and the CLI's start-up should not pay for it.
 */
let engine: typeof RE2JS | undefined;
function re2(): typeof RE2JS {
  engine ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  return engine;
}

/** JavaScript-style flags a `.gatehouse.yml` rule may carry; `u` changes nothing (RE2 reads Unicode anyway). */
function flagBit(flag: string): number | undefined {
  const RE2 = re2();
  return ({ i: RE2.CASE_INSENSITIVE, m: RE2.MULTILINE, s: RE2.DOTALL, u: 0, g: 0 } as Record<string, number>)[flag];
}

/**
 * The part of RegExp the secret engine uses (`exec` with `lastIndex`, `test`, `source` and
 * `flags`), with RE2 semantics behind it. `flags` reports `s` when the pattern turns dot-all
 * on anywhere, so that the engine runs it on multi-line windows.
 */
export class LinearRegex {
  readonly source: string;
  readonly flags: string;
  lastIndex = 0;
  readonly #pattern: RE2JS;
  #matcher: Matcher | undefined;
  #input: string | undefined;

  constructor(source: string, flags = '') {
    let bits = 0;
    for (const f of flags) {
      const bit = flagBit(f);
      if (bit === undefined) throw new LinearRegexError(`flag "${f}" is not supported`);
      bits |= bit;
    }
    try {
      this.#pattern = re2().compile(source, bits);
    } catch (error) {
      throw new LinearRegexError(firstLine((error as Error).message));
    }
    this.source = source;
    const dotAll = flags.includes('s') || /\(\?[a-zA-Z]*s[a-zA-Z]*[:)]/.test(source);
    this.flags = `g${flags.replace(/[gs]/g, '')}${dotAll ? 's' : ''}`;
  }

  /** Capturing groups in the pattern. */
  get groupCount(): number {
    return this.#pattern.groupCount();
  }

  /** The next match from `lastIndex`, as RegExp.prototype.exec with the `g` flag would return it. */
  exec(input: string): RegExpExecArray | null {
    if (this.lastIndex > input.length) {
      this.lastIndex = 0;
      return null;
    }
    if (this.#input !== input || !this.#matcher) {
      this.#matcher = this.#pattern.matcher(input);
      this.#input = input;
    }
    const m = this.#matcher;
    if (!m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined);
    this.lastIndex = m.end();
    return Object.assign(groups, { index: m.start(), input }) as RegExpExecArray;
  }

  test(input: string): boolean {
    return this.#pattern.test(input);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
