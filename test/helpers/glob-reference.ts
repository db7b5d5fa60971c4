/**
 * The reference meaning of a glob, for tests only: glob-matcher.ts must agree with it. It is
 * not used to match anything in the product, because the RegExp it builds backtracks
 * polynomially in the number of wildcards (`*a*a*a…b`).
 *
 * Compiles a path glob to a RegExp: `**` spans directories, `*` and `?` stay within one
 * path segment, `{a,b}` alternates, `[...]` is a character class. A pattern without a
 * slash matches at any depth (as in .gitignore), and a pattern ending in `/` matches
 * everything under that directory.
 */
export function globToRegExp(glob: string): RegExp {
  let pattern = glob.trim().replace(/^\.\//, '');
  let prefix = '^';
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  else if (!pattern.slice(0, -1).includes('/')) prefix = '^(?:.*/)?';
  if (pattern.endsWith('/')) pattern += '**';

  let out = '';
  let braceDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slashAfter = pattern[i + 2] === '/';
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
      } else {
        const body = pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else if (c === '{') {
      braceDepth++;
      out += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
    } else if (c === ',' && braceDepth > 0) {
      out += '|';
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  if (braceDepth > 0) throw new Error(`unbalanced "{" in glob "${glob}"`);
  return new RegExp(`${prefix}${out}(?:/.*)?$`);
}
