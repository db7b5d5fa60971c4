import { compareDigits } from './natural.ts';

/**
 * Maven's ComparableVersion ordering, written from its documented rules:
 * - `.` and `-` separate items, and so does a switch between digits and letters;
 *   `-` (and a digit/letter switch) opens a nested list, which sorts below a number.
 * - trailing zeros and release qualifiers are dropped, so `1.0` = `1` = `1.0.0-ga`;
 * - qualifiers: alpha < beta < milestone < rc = cr < snapshot < "" (release) = ga = final < sp,
 *   and unknown qualifiers after all of them, alphabetically;
 * - a number beats a qualifier (`1.1` > `1-sp`), missing parts count as 0 or release.
 */
type Item = { kind: 'int'; value: string } | { kind: 'str'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = QUALIFIERS.indexOf('');

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1) v = v === 'a' ? 'alpha' : v === 'b' ? 'beta' : v === 'm' ? 'milestone' : v;
  return { kind: 'str', value: Object.hasOwn(ALIASES, v) ? (ALIASES[v] ?? v) : v };
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return /^0+$/.test(item.value);
  if (item.kind === 'str') return item.value === '';
  return item.items.length === 0;
}

/** Drops trailing "null" items (zeros, release qualifiers, empty lists) before each nested list. */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i];
    if (item && isNull(item)) list.splice(i, 1);
    else if (!item || item.kind !== 'list') break;
  }
}

function parse(version: string): Item[] {
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  const v = version.toLowerCase();
  let start = 0;
  let digit = false;
  const push = (end: number, nextIsDigit: boolean): void => {
    const token = v.slice(start, end);
    if (token === '') list.push({ kind: 'int', value: '0' });
    else list.push(digit ? { kind: 'int', value: token } : stringItem(token, nextIsDigit));
  };
  const openList = (): void => {
    const sub: Item[] = [];
    list.push({ kind: 'list', items: sub });
    list = sub;
    stack.push(sub);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i] ?? '';
    if (c === '.') {
      push(i, false);
      start = i + 1;
    } else if (c === '-') {
      push(i, false);
      start = i + 1;
      openList();
    } else if (c >= '0' && c <= '9') {
      if (!digit && i > start) {
        push(i, true);
        start = i;
        openList();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        push(i, false);
        start = i;
        openList();
      }
      digit = false;
    }
  }
  if (v.length > start) push(v.length, false);
  for (let i = stack.length - 1; i >= 0; i--) normalize(stack[i] ?? []);
  return root;
}

function qualifierRank(q: string): [number, string] {
  const index = QUALIFIERS.indexOf(q);
  return index === -1 ? [QUALIFIERS.length, q] : [index, ''];
}

function compareQualifiers(a: string, b: string): number {
  const [ia, sa] = qualifierRank(a);
  const [ib, sb] = qualifierRank(b);
  if (ia !== ib) return ia < ib ? -1 : 1;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Compares an item with a missing one (`undefined`), as when `1.0` meets `1.0.1`. */
function compareItem(a: Item, b: Item | undefined): number {
  if (a.kind === 'int') {
    if (!b) return /^0+$/.test(a.value) ? 0 : 1;
    if (b.kind === 'int') return compareDigits(a.value, b.value);
    return 1;
  }
  if (a.kind === 'str') {
    if (!b) return Math.sign(qualifierRank(a.value)[0] - RELEASE_INDEX) || (a.value === '' ? 0 : 1);
    if (b.kind === 'str') return compareQualifiers(a.value, b.value);
    return -1;
  }
  if (!b) return a.items.length === 0 ? 0 : compareItem(a.items[0] as Item, undefined);
  if (b.kind === 'int') return -1;
  if (b.kind === 'str') return 1;
  return compareLists(a.items, b.items);
}

function compareLists(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const c = x ? compareItem(x, y) : y ? -compareItem(y, undefined) : 0;
    if (c !== 0) return c;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number {
  return compareLists(parse(a), parse(b));
}
