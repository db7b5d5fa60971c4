import { describe, expect, it } from 'vitest';
import { assertSafeJsRegex, RegexTranslationError, translateRe2 } from './regex-dialect.ts';

const compile = (pattern: string) => {
  const { source, flags } = translateRe2(pattern);
  return new RegExp(source, flags);
};

describe('translateRe2', () => {
  it('turns a leading (?i) into the i flag', () => {
    expect(translateRe2('(?i)token_[a-z]{4}')).toEqual({ source: 'token_[a-z]{4}', flags: 'i' });
  });

  it('folds case by hand after a mid-pattern (?i), to the end of its group', () => {
    const re = compile('ABC(?:x(?i)key[a-c]\\d)Z');
    expect(re.test('ABCxKEYB1Z')).toBe(true);
    expect(re.test('ABCXkeyb1Z')).toBe(false);
    expect(re.test('ABCxkeyb1z')).toBe(false);
    expect(re.test('abcxkeyb1Z')).toBe(false);
  });

  it('supports scoped flag groups and (?s)', () => {
    const re = compile('a(?i:bc)d');
    expect(re.test('aBCd')).toBe(true);
    expect(re.test('aBCD')).toBe(false);
    expect(compile('(?s)a.b').test('a\nb')).toBe(true);
    expect(compile('x(?s:a.b)').test('xa\nb')).toBe(true);
    expect(compile('a.b').test('a\nb')).toBe(false);
  });

  it('translates POSIX classes, \\z, \\A, named groups, \\x{..} and \\Q..\\E', () => {
    const re = compile('\\A(?P<tok>[[:alnum:]_]{4})\\x{2d}\\Q.*\\E\\z');
    expect(re.exec('ab_1-.*')?.groups?.tok).toBe('ab_1');
    expect(re.test('ab_1-.*\n')).toBe(false);
    expect(re.test('ab_1-xx')).toBe(false);
    expect(compile('[[:xdigit:]]{4}').test('0aF9')).toBe(true);
  });

  it('keeps a gitleaks-style generic rule working', () => {
    const re = compile(
      `(?i)[\\w.-]{0,50}?(?:access|auth|api|credential|secret|token)(?:[ \\t\\w.-]{0,20})[\\s'"]{0,3}(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)[\\x60'"\\s=]{0,5}([\\w.=-]{10,150})(?:[\\x60'"\\s;]|\\\\[nr]|$)`,
    );
    expect(re.exec('API_TOKEN = "abcdef123456XYZ"')?.[1]).toBe('abcdef123456XYZ');
  });

  it('refuses what it cannot translate, naming the reason', () => {
    expect(() => translateRe2('\\pL+')).toThrow(/Unicode classes/);
    expect(() => translateRe2('(?U)a+')).toThrow(/flag/);
    expect(() => translateRe2('[[:^alpha:]]')).toThrow(/POSIX/);
    expect(() => translateRe2('(a')).toThrow(/unbalanced/);
    expect(() => translateRe2('[abc')).toThrow(/unterminated/);
    expect(() => translateRe2('(a)\\1')).toThrow(RegexTranslationError);
  });

  it('refuses nested unbounded repetition', () => {
    expect(() => translateRe2('(a+)+$')).toThrow(/catastrophically/);
    expect(() => translateRe2('(?:[a-z]{1,5})*x')).toThrow(/catastrophically/);
    expect(() => translateRe2('(?:ab)+([a-z]{4})*')).not.toThrow();
  });
});

describe('assertSafeJsRegex', () => {
  it('accepts ordinary rules and rejects invalid or explosive ones', () => {
    expect(() => assertSafeJsRegex('\\b(acme_[a-f0-9]{32})\\b')).not.toThrow();
    expect(() => assertSafeJsRegex('(?<k>x)\\k<k>')).not.toThrow();
    expect(() => assertSafeJsRegex('(')).toThrow(RegexTranslationError);
    expect(() => assertSafeJsRegex('(x+x+)+y')).toThrow(/catastrophically/);
  });
});
