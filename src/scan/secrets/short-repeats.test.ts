import { describe, expect, it } from 'vitest';
import { RULES } from './rules/index.ts';
import { loopShortRepeats } from './short-repeats.ts';

/** Every match of `source` on `text`: position and groups. */
function matches(source: string, flags: string, text: string): string[] {
  const regex = new RegExp(source, `g${flags}`);
  return [...text.matchAll(regex)].map((m) => `${m.index}:${JSON.stringify([...m])}`);
}

describe('loopShortRepeats', () => {
  it('rewrites repeats of at most three as loops', () => {
    expect(loopShortRepeats('a[ \\t]{0,3}=')).toBe('a(?:[ \\t]|){0,3}=');
    expect(loopShortRepeats(':{1,3}=')).toBe(':(?::|){0,2}=');
    expect(loopShortRepeats('\\\\{0,2}[\'"]')).toBe('(?:\\\\|){0,2}[\'"]');
    expect(loopShortRepeats('(?:-key|-token){2,3}x')).toBe('(?:-key|-token){2}(?:(?:-key|-token)|){0,1}x');
    expect(loopShortRepeats('(a(?:b){0,2})')).toBe('(a(?:(?:b)|){0,2})');
  });

  it('leaves alone what it must not or need not rewrite', () => {
    for (const source of [
      '(a){0,2}', // a capture: repeated through an alternative it would be reset differently
      '(?:(a)b){0,2}',
      '\\1{0,2}',
      '\\x41{0,3}', // the repeat is of the whole escape, not of its last digit
      'a{0,3}?', // lazy
      'a{0,4}',
      'a{2,2}',
      'a{3}',
      'a?b*c+',
      '(?=a){0,2}',
      '[\\]{]{0,4}x',
    ]) {
      expect(loopShortRepeats(source)).toBe(source);
    }
    expect(loopShortRepeats('a{0,3}', 'u')).toBe('a{0,3}');
  });

  it('reads classes and escapes whole', () => {
    expect(loopShortRepeats('[\\]{]{0,2}')).toBe('(?:[\\]{]|){0,2}');
    expect(loopShortRepeats('[]{0,2}')).toBe('(?:[]|){0,2}');
    expect(loopShortRepeats('\\{{0,2}')).toBe('(?:\\{|){0,2}');
  });

  it('finds the same matches, with the same groups, as every built-in rule as written', () => {
    const spacing = ['', ' ', '  ', '   ', '    ', '\t \t', '\\', '\\\\', '\\\\\\'];
    for (const rule of RULES) {
      if (rule.regex === '') continue;
      const flags = rule.flags ?? '';
      const rewritten = loopShortRepeats(rule.regex, flags);
      const texts = [...rule.examples.truePositives, ...rule.examples.falsePositives];
      // Each example again with its runs of spaces and backslashes resized: where short repeats decide.
      const variants = texts.flatMap((text) => spacing.map((s) => text.replace(/[ \t]+|\\+/g, (run) => (run.startsWith('\\') ? s.replace(/[ \t]/g, '') || '\\' : s || ' '))));
      for (const text of [...texts, ...variants]) {
        expect(matches(rewritten, flags, text), `${rule.id} on ${JSON.stringify(text)}`).toEqual(matches(rule.regex, flags, text));
      }
    }
  });
});
