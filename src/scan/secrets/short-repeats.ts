/**
 * Rewrites every short bounded repeat of a regex source, `x{m,n}` with n <= 3, as
 * `x{m}(?:x|){0,n-m}`: the same matches, tried in the same order, but compiled by V8 as a
 * loop.
 *
 * Why: V8 unrolls a repeat of at most three into nested alternatives, and then generates
 * code for each way through consecutive alternatives. The rules spell optional spacing and
 * quotes this way many times over (`[ \t]{0,3}` around an operator, `\\{0,2}` before a
 * quote), so a rule built from them took 5-50 ms to compile, more than scanning megabytes
 * with it; a scan compiles every rule whose keyword it meets, in every thread. A repeat
 * whose body can match nothing is never unrolled, and an empty iteration past the minimum
 * is rejected by the regex semantics, so the added `|` changes nothing else.
 *
 * Only what is safe to repeat that way is rewritten: a single character, escape or class,
 * or a non-capturing group without captures inside. Lazy repeats, `?`, and sources with
 * the `u` or `v` flag (whose syntax differs) are left as they are.
 */
const SHORT = 3;

/** Escapes whose extent is more than one character, or that refer to a group: never rewritten. */
const OPAQUE_ESCAPE = /\\(?:[1-9]\d*|0|x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|c[A-Za-z]|k<[^>]*>|[pP]\{[^}]*\})/y;
const OPAQUE_START = new Set('0123456789xuckpP');
const GROUP_OPENER = /\((?:\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>))?/y;
const BOUNDED_REPEAT = /\{(\d+),(\d+)\}(\??)/y;

/** The match of sticky `regex` at `at` in `text`, if any. */
function matchAt(regex: RegExp, text: string, at: number): RegExpExecArray | null {
  regex.lastIndex = at;
  return regex.exec(text);
}

export function loopShortRepeats(source: string, flags = ''): string {
  if (/[uv]/.test(flags) || !/\{\d+,[0-3]\}/.test(source)) return source;
  let pos = 0;

  /** A class from its `[` to its `]`; a `]` right after `[` or `[^` closes it (an empty class). */
  const readClass = (): string => {
    const start = pos;
    pos++;
    if (source[pos] === '^') pos++;
    while (pos < source.length && source[pos] !== ']') pos += source[pos] === '\\' ? 2 : 1;
    pos++;
    return source.slice(start, pos);
  };

  /** A sequence of alternatives up to a closing `)` or the end, rewritten; `captures` says whether it holds a capturing group. */
  const readSequence = (): { text: string; captures: boolean } => {
    let text = '';
    let captures = false;
    while (pos < source.length && source[pos] !== ')') {
      const c = source[pos]!;
      let atom: string;
      let repeatable = true;
      if (c === '|' || c === '^' || c === '$') {
        text += c;
        pos++;
        continue;
      } else if (c === '\\') {
        const opaque = OPAQUE_START.has(source[pos + 1]!) ? matchAt(OPAQUE_ESCAPE, source, pos)?.[0] : undefined;
        atom = opaque ?? source.slice(pos, pos + 2);
        repeatable = opaque === undefined;
        pos += atom.length;
      } else if (c === '[') {
        atom = readClass();
      } else if (c === '(') {
        const opener = matchAt(GROUP_OPENER, source, pos)![0];
        pos += opener.length;
        const inner = readSequence();
        pos++; // the `)`
        const capturing = opener === '(' || (opener.startsWith('(?<') && opener !== '(?<=' && opener !== '(?<!');
        captures ||= capturing || inner.captures;
        atom = `${opener}${inner.text})`;
        repeatable = opener === '(?:' && !inner.captures;
      } else {
        atom = c;
        pos++;
      }
      const repeat = source[pos] === '{' ? matchAt(BOUNDED_REPEAT, source, pos) : null;
      if (repeat && repeatable && repeat[3] === '') {
        const min = Number(repeat[1]);
        const max = Number(repeat[2]);
        if (max <= SHORT && max > min) {
          pos += repeat[0].length;
          text += `${min === 0 ? '' : min === 1 ? atom : `${atom}{${min}}`}(?:${atom}|){0,${max - min}}`;
          continue;
        }
      }
      text += atom;
    }
    return { text, captures };
  };

  let text = '';
  // A stray `)` is a syntax error that RegExp reports; it is copied so that it still does.
  while (pos < source.length) {
    text += readSequence().text;
    if (pos < source.length) text += source[pos++];
  }
  return text;
}
