import type { Rng } from './random.ts';

/**
 * Hostile values for every place a client controls: strings, JSON values, JSON text and raw
 * bytes. Structure-aware mutation of a valid input (`mutateJson`) gets past the first schema
 * check and exercises what lies behind it; the rest tries the parsers themselves.
 */

const STRINGS: readonly string[] = [
  '',
  ' ',
  '0',
  '-1',
  '1e999',
  '-0',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '\u0000',
  '\u0000\u0001\u001f',
  '\r\n\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '<%= 7*7 %>',
  '${7*7}',
  "'; DROP TABLE installs; --",
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066evil',
  '\ufeff',
  '😀'.repeat(20),
  'ｆｕｌｌｗｉｄｔｈ',
  '{ba44938d-74fb-41e2-8f0e-fbbee86358e8}',
  '{}}',
  'acme/repo',
  'a/b/c',
  '/',
  'main',
  'refs/heads/main',
  'deadbeef',
  '0'.repeat(40),
  'critical',
  'ignored',
  'false_positive',
  'secrets',
  'JWT',
  'http://127.0.0.1:1/x',
  'javascript:alert(1)',
  'file:///etc/passwd',
];

export function garbageString(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => rng.pick(STRINGS)],
    [2, () => rng.pick(STRINGS).repeat(rng.int(2, 50))],
    [1, () => 'a'.repeat(rng.pick([255, 256, 257, 1000, 1001, 4096, 65_536, 200_000]))],
    [2, () => randomText(rng, rng.int(1, 64))],
  ])();
}

/** Text from every corner of Unicode, lone surrogates included. */
export function randomText(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out += String.fromCharCode(
      rng.weighted([
        [6, rng.int(0x20, 0x7e)],
        [1, rng.int(0, 0x1f)],
        [1, rng.int(0x80, 0x7ff)],
        [1, rng.int(0xd800, 0xdfff)],
        [1, rng.int(0x800, 0xffff)],
      ]),
    );
  }
  return out;
}

const NUMBERS: readonly number[] = [0, -1, 1, 2, 0.5, -0.5, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, Number.MIN_VALUE, Number.EPSILON];

/** Number literals JSON allows but JavaScript numbers cannot hold, for JSON text only. */
export const NUMBER_LITERALS: readonly string[] = ['1e999', '-1e999', '1e-999', '123456789012345678901234567890', '0.' + '0'.repeat(400) + '1', '9'.repeat(5_000), '-0', '1E+2', '1.0e0'];

export function garbageValue(rng: Rng, depth = 0): unknown {
  const leafOnly = depth >= 4;
  return rng.weighted<() => unknown>([
    [2, () => null],
    [2, () => rng.chance(0.5)],
    [3, () => rng.pick(NUMBERS)],
    [5, () => garbageString(rng)],
    [leafOnly ? 0 : 2, () => Array.from({ length: rng.int(0, 4) }, () => garbageValue(rng, depth + 1))],
    [leafOnly ? 0 : 2, () => Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.chance(0.3) ? rng.pick(STRINGS) : randomText(rng, rng.int(0, 8)), garbageValue(rng, depth + 1)]))],
  ])();
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a node in a JSON value (for choosing one to mutate). */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/**
 * A few structural changes to a copy of a valid value: a node replaced by a hostile value
 * (a wrong type, usually), removed, or wrapped; or a key added. Keeps the rest valid, so
 * validation has to look at the changed part.
 */
export function mutateJson(rng: Rng, valid: unknown): unknown {
  let root = structuredClone(valid) as Json;
  const times = rng.weighted([
    [6, 1],
    [3, 2],
    [1, 5],
  ]);
  for (let n = 0; n < times; n++) {
    const paths = pathsOf(root);
    const path = rng.pick(paths);
    const replacement = rng.weighted<() => Json | undefined>([
      [5, () => garbageValue(rng) as Json],
      [2, () => undefined],
      [1, () => [nodeAt(root, path)] as Json],
      [1, () => ({ value: nodeAt(root, path) }) as Json],
    ])();
    if (path.length === 0) {
      root = (replacement ?? null) as Json;
      continue;
    }
    const parent = nodeAt(root, path.slice(0, -1)) as Record<string | number, Json> | Json[];
    const key = path[path.length - 1] as string | number;
    if (replacement === undefined) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, Json>)[key];
    } else if (!Array.isArray(parent) && rng.chance(0.2)) {
      // An extra key beside the existing ones (strict schemas must refuse or ignore it).
      (parent as Record<string, Json>)[rng.pick(STRINGS)] = replacement;
    } else {
      (parent as Record<string | number, Json>)[key] = replacement;
    }
  }
  return root;
}

function nodeAt(root: Json, path: (string | number)[]): Json {
  let node: Json = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key] as Json;
  return node;
}

/** Invalid UTF-8: stray continuation bytes, overlong forms, encoded surrogates, bytes never used. */
const BAD_UTF8: readonly number[][] = [[0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xfe], [0xff], [0xc3], [0xe2, 0x82]];

export function withBadUtf8(rng: Rng, text: Buffer): Buffer {
  const at = rng.int(0, text.length);
  return Buffer.concat([text.subarray(0, at), Buffer.from(rng.pick(BAD_UTF8)), text.subarray(at)]);
}

/** JSON text that breaks a parser or what comes after it. */
export function hostileJsonText(rng: Rng, valid: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(valid) ?? 'null');
  return rng.weighted<() => Buffer>([
    [3, () => text.subarray(0, rng.int(0, Math.max(0, text.length - 1)))],
    [2, () => withBadUtf8(rng, text)],
    [2, () => Buffer.from(deepNesting(rng))],
    [1, () => Buffer.from(`{"value":${rng.pick(NUMBER_LITERALS)}}`)],
    [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text])],
    [1, () => Buffer.concat([text, Buffer.from(rng.pick([' x', '}', ',', '\u0000', '{}', '\n\n']))])],
    [1, () => Buffer.from(text.toString('utf8').replace(/"/, "'"))],
    [1, () => Buffer.from(JSON.stringify(valid, null, 1).replace(/\n/g, '\r\n\t'))],
    [1, () => Buffer.from(duplicateKeys(rng, valid))],
    [1, () => Buffer.from(rng.pick(['null', 'true', '0', '""', '[]', '"x"', '1e999', '[null]', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']))],
    [1, () => rng.bytes(rng.int(1, 512))],
  ])();
}

/** `[[[[...` or `{"a":{"a":...` thousands of levels deep, closed or not. */
export function deepNesting(rng: Rng): string {
  const depth = rng.pick([100, 1_000, 10_000, 100_000]);
  const closed = rng.chance(0.7);
  if (rng.chance(0.5)) return '['.repeat(depth) + (closed ? ']'.repeat(depth) : '');
  return '{"a":'.repeat(depth) + '1' + (closed ? '}'.repeat(depth) : '');
}

function duplicateKeys(rng: Rng, valid: unknown): string {
  if (valid === null || typeof valid !== 'object' || Array.isArray(valid)) return JSON.stringify(valid) ?? 'null';
  const keys = Object.keys(valid);
  if (keys.length === 0) return '{}';
  const key = rng.pick(keys);
  return `{${JSON.stringify(key)}:${JSON.stringify(garbageValue(rng))},${JSON.stringify(valid).slice(1)}`;
}

/** A body for a route that takes JSON: valid, mutated, hostile text, or no JSON at all. */
export function jsonBody(rng: Rng, valid: unknown): Buffer {
  return rng.weighted<() => Buffer>([
    [2, () => Buffer.from(JSON.stringify(valid))],
    [6, () => Buffer.from(JSON.stringify(mutateJson(rng, valid)) ?? 'null')],
    [4, () => hostileJsonText(rng, valid)],
    [1, () => Buffer.alloc(0)],
    [1, () => Buffer.from(JSON.stringify(garbageValue(rng)) ?? '')],
  ])();
}
