import { describe, expect, it } from 'vitest';
import { prefixed } from './build.ts';
import { RULES } from './index.ts';

const matches = (source: string, flags: string, text: string) => [...text.matchAll(new RegExp(source, `g${flags}`))].map((m) => `${m.index}:${JSON.stringify([...m])}`);

describe('prefixed', () => {
  it('matches a body of one fixed length plainly and any other inside an atomic lookahead', () => {
    expect(prefixed('abc_[a-f0-9]{32}\\.x', 'a-f0-9')).toBe('(?<![A-Za-z0-9_])(abc_[a-f0-9]{32}\\.x)(?![a-f0-9])');
    for (const body of ['abc_[a-f0-9]{20,40}', '(?:pat|sat)\\.[a-z]{4}', 'sl\\.(?:u\\.)?[a-z]{3}', 'ab?c', 'a.c', 'a[b-c]+']) {
      expect(prefixed(body, 'a-z')).toBe(`(?<![A-Za-z0-9_])(?=(${body}))\\1(?![a-z])`);
    }
  });

  it('finds in every rule matched plainly what the atomic form finds, on the rule examples', () => {
    const plain = /^\(\?<!\[A-Za-z0-9_\]\)\((?!\?)(.*)\)(\(\?!\[.*\]\))$/;
    let checked = 0;
    for (const rule of RULES) {
      const parts = plain.exec(rule.regex);
      if (!parts) continue;
      checked++;
      const atomic = `(?<![A-Za-z0-9_])(?=(${parts[1]}))\\1${parts[2]}`;
      for (const text of [...rule.examples.truePositives, ...rule.examples.falsePositives]) {
        expect(matches(rule.regex, rule.flags ?? '', text), rule.id).toEqual(matches(atomic, rule.flags ?? '', text));
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
