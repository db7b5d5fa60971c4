/**
 * Translation of Go RE2 patterns (as written in `.gitleaks.toml`) to JavaScript, and a
 * guard against patterns that would backtrack catastrophically.
 *
 * The guard matters because repository configuration is untrusted input: RE2 runs in
 * linear time whatever the pattern, JavaScript does not, so a rule such as `(a+)+$`
 * committed to a repository could stall the scanner. A group that repeats without
 * bound and contains a variable-length repetition itself is refused.
 */

export class RegexTranslationError extends Error {}

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: ' \\t',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '\\x21-\\x7E',
  lower: 'a-z',
  print: '\\x20-\\x7E',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '\\w',
  xdigit: '0-9A-Fa-f',
};

interface Frame {
  /** Letters match either case (a mid-pattern `(?i)` that JS has no syntax for). */
  fold: boolean;
  /** `.` matches line breaks (a mid-pattern `(?s)`). */
  dotAll: boolean;
  /** The group contains a repetition whose length varies. */
  variable: boolean;
}

/** Translates a Go RE2 pattern to a JavaScript regex source and flags, or throws RegexTranslationError. */
export function translateRe2(pattern: string, opts: { inlineFlags?: boolean } = {}): { source: string; flags: string } {
  return walk(pattern, 're2', opts.inlineFlags ?? false);
}

/** Checks a JavaScript regex source for nested unbounded repetition; throws RegexTranslationError. */
export function assertSafeJsRegex(source: string, flags = ''): void {
  try {
    new RegExp(source, flags);
  } catch (error) {
    throw new RegexTranslationError((error as Error).message);
  }
  walk(source, 'js', false);
}

/**
 * `inlineFlags`: express leading (?i)/(?s) in the source itself (case folded by hand),
 * for regexes that are stored as a bare source without flags.
 */
function walk(pattern: string, dialect: 're2' | 'js', inlineFlags: boolean): { source: string; flags: string } {
  let i = 0;
  let flags = '';
  let fold = false;
  let dotAll = false;

  if (dialect === 're2') {
    // Leading flag groups apply to the whole pattern and map onto JS flags, unless the
    // pattern toggles the same flag again later (then it is folded by hand).
    for (let m = /^\(\?([a-zA-Z]+)\)/.exec(pattern); m; m = /^\(\?([a-zA-Z]+)\)/.exec(pattern.slice(i))) {
      const rest = pattern.slice(i + m[0].length);
      for (const f of m[1]!) {
        const toggledLater = inlineFlags || new RegExp(`\\(\\?[a-zA-Z]*-[a-zA-Z]*${f}`).test(rest);
        if (f === 'i') {
          if (toggledLater) fold = true;
          else flags += 'i';
        } else if (f === 's') {
          if (toggledLater) dotAll = true;
          else flags += 's';
        } else if (f === 'm' && !inlineFlags) flags += 'm';
        else if (f === 'm') throw new RegexTranslationError('(?m) is not supported in a path or allow-list regex');
        else throw new RegexTranslationError(`flag (?${f}) is not supported`);
      }
      i += m[0].length;
    }
  }

  const stack: Frame[] = [{ fold, dotAll, variable: false }];
  let out = '';
  const top = () => stack[stack.length - 1]!;

  const literal = (ch: string) => {
    if (top().fold && /[a-zA-Z]/.test(ch)) return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    return ch;
  };

  /** Copies a quantifier after an atom; returns [min, max] or undefined. */
  const quantifier = (): [number, number] | undefined => {
    const m = /^(?:([*+?])|\{(\d+)(?:(,)(\d*))?\})\??/.exec(pattern.slice(i));
    if (!m) return undefined;
    out += m[0];
    i += m[0].length;
    if (m[1] === '*') return [0, Infinity];
    if (m[1] === '+') return [1, Infinity];
    if (m[1] === '?') return [0, 1];
    const min = Number(m[2]);
    const max = m[3] === undefined ? min : m[4] === '' ? Infinity : Number(m[4]);
    return [min, max];
  };
  const atomQuantified = () => {
    const q = quantifier();
    if (q && q[0] !== q[1]) top().variable = true;
  };

  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += escape();
      atomQuantified();
    } else if (c === '[') {
      out += charClass();
      atomQuantified();
    } else if (c === '(') {
      openGroup();
    } else if (c === ')') {
      if (stack.length === 1) throw new RegexTranslationError('unbalanced ")"');
      const inner = stack.pop()!;
      out += ')';
      i++;
      const q = quantifier();
      if (q && q[1] === Infinity && inner.variable) {
        throw new RegexTranslationError('nested repetition such as (a+)+ can backtrack catastrophically');
      }
      if (inner.variable || (q && q[0] !== q[1])) top().variable = true;
    } else if (c === '.') {
      out += top().dotAll ? '[\\s\\S]' : '.';
      i++;
      atomQuantified();
    } else if (c === '|' || c === '^' || c === '$') {
      out += c;
      i++;
    } else {
      out += literal(c);
      i++;
      atomQuantified();
    }
  }
  if (stack.length !== 1) throw new RegexTranslationError('unbalanced "("');
  return { source: out, flags };

  function openGroup(): void {
    const rest = pattern.slice(i);
    const parent = top();
    if (dialect === 're2') {
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length;
        stack.push({ ...parent, variable: false });
        return;
      }
      const flagGroup = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
      if (flagGroup && (flagGroup[1] !== '' || flagGroup[2] !== undefined)) {
        const on = flagGroup[1]!;
        const off = flagGroup[2] ?? '';
        for (const f of on + off) {
          if (f !== 'i' && f !== 's') throw new RegexTranslationError(`flag (?${f}) inside a pattern is not supported`);
        }
        const apply = (frame: Frame): Frame => ({
          fold: on.includes('i') ? !flags.includes('i') : off.includes('i') ? false : frame.fold,
          dotAll: on.includes('s') ? !flags.includes('s') : off.includes('s') ? false : frame.dotAll,
          variable: frame.variable,
        });
        if ((off.includes('i') && flags.includes('i')) || (off.includes('s') && flags.includes('s'))) {
          throw new RegexTranslationError('turning off a flag that applies to the whole pattern is not supported');
        }
        i += flagGroup[0].length;
        if (flagGroup[3] === ')') {
          // (?i) in mid-pattern: applies to the rest of the enclosing group.
          Object.assign(parent, apply(parent));
        } else {
          out += '(?:';
          stack.push({ ...apply(parent), variable: false });
        }
        return;
      }
    }
    const opener = /^\((?:\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>))?/.exec(rest)![0];
    if (opener === '(' && rest.startsWith('(?')) throw new RegexTranslationError(`unsupported group "${rest.slice(0, 4)}"`);
    out += opener;
    i += opener.length;
    stack.push({ ...parent, variable: false });
  }

  function escape(): string {
    const next = pattern[i + 1];
    if (next === undefined) throw new RegexTranslationError('pattern ends with "\\"');
    i += 2;
    if (dialect === 'js') return `\\${next}`;
    switch (next) {
      case 'z':
        return '(?![\\s\\S])';
      case 'A':
        return '(?<![\\s\\S])';
      case 'Q': {
        const end = pattern.indexOf('\\E', i);
        const text = pattern.slice(i, end === -1 ? undefined : end);
        i = end === -1 ? pattern.length : end + 2;
        return [...text].map((ch) => literal(ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))).join('');
      }
      case 'x': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(i));
        if (!braced) return '\\x';
        i += braced[0].length;
        const code = parseInt(braced[1]!, 16);
        if (code > 0xffff) throw new RegexTranslationError('\\x{...} beyond U+FFFF is not supported');
        return `\\u${code.toString(16).padStart(4, '0')}`;
      }
      case 'p':
      case 'P':
      case 'C':
        throw new RegexTranslationError(`\\${next} (Unicode classes) is not supported`);
      default:
        if (/[1-9]/.test(next)) throw new RegexTranslationError('backreferences are not valid RE2');
        return `\\${next}`;
    }
  }

  function charClass(): string {
    let body = '';
    let j = i + 1;
    if (pattern[j] === '^') {
      body += '^';
      j++;
    }
    let first = true;
    for (; j < pattern.length; j++) {
      const ch = pattern[j]!;
      if (ch === ']' && !first) break;
      first = false;
      if (ch === '[' && pattern[j + 1] === ':' && dialect === 're2') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(j));
        if (!m) throw new RegexTranslationError('malformed POSIX class');
        const expansion = POSIX_CLASSES[m[2]!];
        if (!expansion || m[1]) throw new RegexTranslationError(`POSIX class [:${m[1]}${m[2]}:] is not supported`);
        body += expansion;
        j += m[0].length - 1;
      } else if (ch === '\\') {
        const esc = pattern[j + 1];
        if (esc === undefined) break;
        if (/[pPC]/.test(esc) && dialect === 're2') throw new RegexTranslationError(`\\${esc} (Unicode classes) is not supported`);
        body += `\\${esc}`;
        j++;
      } else if (ch === '[' && dialect === 'js') {
        body += '\\[';
      } else {
        body += ch;
        const range = /^(?:[a-z]-[a-z]|[A-Z]-[A-Z])/.exec(pattern.slice(j));
        if (top().fold && range) {
          body += pattern.slice(j + 1, j + 3);
          body += `${swapCase(range[0][0]!)}-${swapCase(range[0][2]!)}`;
          j += 2;
        } else if (top().fold && /[a-zA-Z]/.test(ch)) {
          body += swapCase(ch);
        }
      }
    }
    if (j >= pattern.length) throw new RegexTranslationError('unterminated character class');
    i = j + 1;
    return `[${body}]`;
  }
}

function swapCase(ch: string): string {
  return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
}
