/**
 * A reader for the literal Elixir terms mix.lock is written in: strings, atoms (`:hex`,
 * `:"quoted"`), numbers, `true`/`false`/`nil`, lists (with `key: value` keyword items),
 * tuples and `%{}` maps. It evaluates nothing and reads no other syntax; nesting is capped,
 * so hostile input ends in a TermError rather than deep recursion.
 */
export type Term = string | number | boolean | null | Atom | Term[] | Tuple | Keyword | TermMap;
export interface Atom {
  atom: string;
}
export interface Tuple {
  tuple: Term[];
}
export interface Keyword {
  key: string;
  value: Term;
}
export interface TermMap {
  map: [Term, Term][];
}
/** `key => value` inside a map, before the map collects it. */
interface Arrow {
  arrow: [Term, Term];
}

export class TermError extends Error {}

const MAX_DEPTH = 32;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_@]*[?!]?/y;
const NUMBER = /-?\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][-+]?\d+)?/y;

export function isAtom(term: Term | undefined): term is Atom {
  return typeof term === 'object' && term !== null && !Array.isArray(term) && 'atom' in term;
}

export function isTuple(term: Term | undefined): term is Tuple {
  return typeof term === 'object' && term !== null && !Array.isArray(term) && 'tuple' in term;
}

/** Reads one term at the start of `text` (whitespace around it allowed) and returns it with the offset after it. */
export function readTerm(text: string, start = 0): { term: Term; end: number } {
  let i = start;

  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new TermError(`${what} at column ${i + 1}`);
  };
  const readString = (): string => {
    let out = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const next = text[i + 1];
        out += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
        i += 2;
      } else {
        if (text[i] === '#' && text[i + 1] === '{') fail('string interpolation');
        out += text[i];
        i++;
      }
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  };
  const readIdentifier = (): string => {
    IDENTIFIER.lastIndex = i;
    const m = IDENTIFIER.exec(text);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  /** Items up to `close`, each a term or (in lists and maps) a `key: value` keyword. */
  const readItems = (close: string, depth: number): (Term | Arrow)[] => {
    const items: (Term | Arrow)[] = [];
    for (;;) {
      skipSpace();
      if (text[i] === close) {
        i++;
        return items;
      }
      items.push(readItem(depth));
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`expected "," or "${close}"`);
    }
  };
  const readItem = (depth: number): Term | Arrow => {
    // `key: value` and `"key": value` are keywords; a `:` right after the key marks them.
    const save = i;
    if (/[A-Za-z_"]/.test(text[i] ?? '')) {
      const key = text[i] === '"' ? readString() : readIdentifier();
      if (text[i] === ':' && /\s/.test(text[i + 1] ?? '')) {
        i++;
        skipSpace();
        return { key, value: read(depth + 1) };
      }
      i = save;
    }
    const term = read(depth + 1);
    skipSpace();
    if (text.startsWith('=>', i)) {
      i += 2;
      skipSpace();
      return { arrow: [term, read(depth + 1)] };
    }
    return term;
  };
  const read = (depth: number): Term => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skipSpace();
    const ch = text[i];
    if (ch === undefined) return fail('unexpected end');
    if (ch === '"') return readString();
    if (ch === ':') {
      i++;
      return { atom: text[i] === '"' ? readString() : readIdentifier() };
    }
    if (ch === '[') {
      i++;
      return termsOnly(readItems(']', depth));
    }
    if (ch === '{') {
      i++;
      return { tuple: termsOnly(readItems('}', depth)) };
    }
    if (ch === '%' && text[i + 1] === '{') {
      i += 2;
      const map: [Term, Term][] = [];
      for (const item of readItems('}', depth)) {
        if (isArrow(item)) map.push(item.arrow);
        else if (isKeyword(item)) map.push([item.key, item.value]);
        else fail('expected "key: value" or "key => value" in a map');
      }
      return { map };
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (number) {
      i += number[0].length;
      return Number(number[0].replaceAll('_', ''));
    }
    const word = readIdentifier();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'nil') return null;
    // Bare aliases (module names such as `Mix.SCM.Git`) are kept as atoms; nothing is resolved.
    while (text[i] === '.' && /[A-Z]/.test(text[i + 1] ?? '')) {
      i++;
      readIdentifier();
    }
    return { atom: word };
  };

  const termsOnly = (items: (Term | Arrow)[]): Term[] => items.map((item) => (isArrow(item) ? fail('"=>" outside a map') : item));

  const term = read(0);
  skipSpace();
  return { term, end: i };
}

function isArrow(item: Term | Arrow): item is Arrow {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && 'arrow' in item;
}

function isKeyword(item: Term | Arrow): item is Keyword {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && 'key' in item;
}
