import { describe, expect, it } from 'vitest';
import { LinearRegex, LinearRegexError } from './linear-regex.ts';

const re = (source: string, flags?: string) => new LinearRegex(source, flags);

describe('LinearRegex (RE2 semantics)', () => {
  it('applies a mid-pattern (?i) to the rest of its group only', () => {
    const r = re('ABC(?:x(?i)key[a-c]\\d)Z');
    expect(r.test('ABCxKEYB1Z')).toBe(true);
    expect(r.test('ABCXkeyb1Z')).toBe(false);
    expect(r.test('ABCxkeyb1z')).toBe(false);
    expect(r.test('abcxkeyb1Z')).toBe(false);
  });

  it('supports scoped flag groups and (?s), and reports dot-all for multi-line windows', () => {
    expect(re('a(?i:bc)d').test('aBCd')).toBe(true);
    expect(re('a(?i:bc)d').test('aBCD')).toBe(false);
    expect(re('(?s)a.b').test('a\nb')).toBe(true);
    expect(re('(?s)a.b').flags).toContain('s');
    expect(re('a.b').test('a\nb')).toBe(false);
    expect(re('a.b').flags).toBe('g');
  });

  it('reads \\A, \\z, POSIX and Unicode classes, (?P<name>), \\x{..} and \\Q..\\E as RE2 does', () => {
    const r = re('\\A(?P<tok>[[:alnum:]_]{4})\\x{2d}\\Q.*\\E\\z');
    expect(r.exec('ab_1-.*')?.[1]).toBe('ab_1');
    // \z is the very end: a trailing line break does not match, unlike $ in some engines.
    expect(r.test('ab_1-.*\n')).toBe(false);
    expect(r.test('ab_1-xx')).toBe(false);
    expect(re('[[:^alpha:]]+').exec('abc123')?.[0]).toBe('123');
    expect(re('\\pL+').exec('--Grüße--')?.[0]).toBe('Grüße');
    expect(r.groupCount).toBe(1);
  });

  it('runs a gitleaks-style generic rule as written', () => {
    const r = re(
      `(?i)[\\w.-]{0,50}?(?:access|auth|api|credential|secret|token)(?:[ \\t\\w.-]{0,20})[\\s'"]{0,3}(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)[\\x60'"\\s=]{0,5}([\\w.=-]{10,150})(?:[\\x60'"\\s;]|\\\\[nr]|$)`,
    );
    expect(r.exec('API_TOKEN = "abcdef123456XYZ"')?.[1]).toBe('abcdef123456XYZ');
  });

  it('iterates matches like a global RegExp: index, lastIndex, unmatched groups undefined', () => {
    const r = re('k(\\d)|x');
    const text = 'ak1 x é k2';
    const seen: [number, string, string | undefined][] = [];
    for (let m = r.exec(text); m; m = r.exec(text)) seen.push([m.index, m[0], m[1]]);
    expect(seen).toEqual([
      [1, 'k1', '1'],
      [4, 'x', undefined],
      [8, 'k2', '2'],
    ]);
    expect(r.lastIndex).toBe(0);
  });

  it('takes the JavaScript-style flags of .gatehouse.yml rules', () => {
    expect(re('^key$', 'im').test('x\nKEY\ny')).toBe(true);
    expect(() => re('x', 'y')).toThrow(LinearRegexError);
  });

  it('refuses what needs backtracking, with the reason', () => {
    expect(() => re('a(?=b)')).toThrow(/unsupported Perl syntax/);
    expect(() => re('(a)\\1')).toThrow(/invalid escape/);
    expect(() => re('(a')).toThrow(/missing closing \)/);
  });
});
