import { describe, expect, it } from 'vitest';
import { isMultiline } from './compile.ts';

describe('isMultiline', () => {
  it('is true only for regexes that can match a line break', () => {
    expect(isMultiline('-----BEGIN[\\s\\S]{64,4096}?-----END', '')).toBe(true);
    expect(isMultiline('[A-Za-z0-9+/=\\s]{64,}', '')).toBe(true);
    expect(isMultiline('line1\\nline2', '')).toBe(true);
    expect(isMultiline('a[^]b', '')).toBe(true);
    expect(isMultiline('BEGIN.{10,100}END', 's')).toBe(true);
    expect(isMultiline('password\\s*=\\s*([^\\s"\']{8,64})', 'i')).toBe(false);
    expect(isMultiline('Password=([^;\'"`\\n]{1,128})', '')).toBe(false);
    expect(isMultiline('a\\.b', 's')).toBe(false);
    expect(isMultiline('[.]x', 's')).toBe(false);
    expect(isMultiline('\\[\\s\\]', '')).toBe(false);
    expect(isMultiline('\\[x\\][\\s\\S]', '')).toBe(true);
  });
});
