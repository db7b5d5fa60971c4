import { ParseError } from '../errors.ts';

const MAX_FLOW_DEPTH = 64;

/**
 * The YAML library needs time and memory far beyond the input's size on deeply nested flow
 * collections (`[[[[...`, 40,000 of them exhaust the heap), and lockfiles nest a few levels
 * at most. One linear pass outside quoted scalars and comments refuses such input first.
 */
export function refuseDeepYaml(file: string, text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      // Skip the quoted scalar: `\"` escapes in double quotes, `''` in single quotes.
      for (i++; i < text.length && text[i] !== ch; i++) if (ch === '"' && text[i] === '\\') i++;
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_FLOW_DEPTH) throw new ParseError(file, `YAML nested more than ${MAX_FLOW_DEPTH} levels deep`);
    } else if ((ch === ']' || ch === '}') && depth > 0) {
      depth--;
    }
  }
}
