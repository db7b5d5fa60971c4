/**
 * JSON.parse forgets where things were, and lockfile findings need a line to annotate.
 * This walks the raw text once, tracking the path of keys and array indices, and records
 * the line of every object key whose path the caller accepts. It assumes the text is
 * valid JSON (JSON.parse runs first), so it only needs to be right on valid input.
 */
export type JsonPath = readonly (string | number)[];

export function pathKey(path: JsonPath): string {
  return path.join('\u0000');
}

interface Frame {
  kind: 'object' | 'array';
  expectKey: boolean;
}

export function locateJsonKeys(text: string, accept: (path: JsonPath) => boolean): Map<string, number> {
  const found = new Map<string, number>();
  const stack: Frame[] = [];
  // path[i] is the key or index being read in stack[i]; kept in step with the stack so no
  // array is built per key.
  const path: (string | number)[] = [];
  let line = 1;

  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 /* \n */) {
      line++;
      continue;
    }
    if (ch === 34 /* " */) {
      // JSON strings cannot hold a raw newline, so skipping to the closing quote loses no line.
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j === -1) {
          j = text.length;
          break;
        }
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 92 /* \ */) backslashes++;
        if (backslashes % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        const body = text.slice(i + 1, j);
        path[path.length - 1] = body.includes('\\') ? (JSON.parse(text.slice(i, j + 1)) as string) : body;
        top.expectKey = false;
        if (accept(path)) {
          const k = pathKey(path);
          if (!found.has(k)) found.set(k, line);
        }
      }
      i = j;
      continue;
    }
    switch (ch) {
      case 123 /* { */:
        stack.push({ kind: 'object', expectKey: true });
        path.push('');
        break;
      case 91 /* [ */:
        stack.push({ kind: 'array', expectKey: false });
        path.push(0);
        break;
      case 125 /* } */:
      case 93 /* ] */:
        stack.pop();
        path.pop();
        break;
      case 44 /* , */: {
        const top = stack[stack.length - 1];
        if (top?.kind === 'object') top.expectKey = true;
        else if (top?.kind === 'array') path[path.length - 1] = (path[path.length - 1] as number) + 1;
        break;
      }
      default:
        break;
    }
  }
  return found;
}

/** JSON.parse with a readable reason instead of an exception escaping. */
export function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return { ok: false, reason: `invalid JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'expected a JSON object at the top level' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
