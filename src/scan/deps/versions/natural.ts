/**
 * Last-resort ordering for version strings an ecosystem's own rules reject: runs of
 * digits compare as numbers, everything else as text. Deterministic, never throws.
 */
export function compareNatural(a: string, b: string): number {
  const ta = a.match(/\d+|[^\d.\-_+]+/g) ?? [];
  const tb = b.match(/\d+|[^\d.\-_+]+/g) ?? [];
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const c = compareDigits(x, y);
      if (c !== 0) return c;
    } else if (nx !== ny) {
      return nx ? 1 : -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** Compares unbounded digit strings without overflow. */
export function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
