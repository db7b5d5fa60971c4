/**
 * JSON with comments and trailing commas (bun.lock is written this way) turned into JSON
 * that JSON.parse reads: comments are blanked out and a comma followed only by whitespace
 * or comments before `}` or `]` is dropped. Newlines are kept, so lines stay where they
 * were. One pass over the text, no backtracking.
 */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  // Where the last comma was written into `out`, while only whitespace or comments followed it.
  let pendingComma = -1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      pendingComma = -1;
    } else if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const comment = text.slice(i, end === -1 ? text.length : end + 2);
      out += comment.replace(/[^\n]/g, '');
      i += comment.length;
    } else if ((ch === '}' || ch === ']') && pendingComma !== -1) {
      out = `${out.slice(0, pendingComma)} ${out.slice(pendingComma + 1)}${ch}`;
      pendingComma = -1;
      i++;
    } else {
      if (ch === ',') pendingComma = out.length;
      else if (!/\s/.test(ch)) pendingComma = -1;
      out += ch;
      i++;
    }
  }
  return out;
}
