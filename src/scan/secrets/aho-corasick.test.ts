import { describe, expect, it } from 'vitest';
import { AhoCorasick } from './aho-corasick.ts';

function naive(patterns: string[], text: string): string[] {
  const lower = text.toLowerCase();
  const hits: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    patterns.forEach((p, i) => {
      if (end >= p.length && lower.slice(end - p.length, end) === p.toLowerCase()) hits.push(`${i}@${end}`);
    });
  }
  return hits;
}

function collect(ac: AhoCorasick, text: string): string[] {
  const hits: string[] = [];
  ac.search(text, (p, end) => hits.push(`${p}@${end}`));
  return hits;
}

describe('AhoCorasick', () => {
  it('reports every occurrence, overlapping and nested, case-insensitively', () => {
    const patterns = ['he', 'she', 'his', 'hers', 'akia', 'ghp_', 'password'];
    const text = 'uSHErs his AKIAakia ghp_GHP_ PassWORD';
    expect(collect(new AhoCorasick(patterns), text).sort()).toEqual(naive(patterns, text).sort());
  });

  it('agrees with a naive search on random text', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = 'abAB_-x';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    const patterns = Array.from({ length: 20 }, () => word(1 + Math.floor(rand() * 4)).toLowerCase());
    const unique = [...new Set(patterns)];
    const text = word(2000);
    expect(collect(new AhoCorasick(unique), text).sort()).toEqual(naive(unique, text).sort());
  });

  it('ignores characters outside the patterns, including non-ASCII and surrogates', () => {
    const ac = new AhoCorasick(['key']);
    expect(collect(ac, 'ключ 🔑 KEY é')).toEqual(['0@11']);
    expect(ac.test('no match here 🔑')).toBe(false);
    expect(ac.test('a Key')).toBe(true);
  });

  it('rejects an empty pattern', () => {
    expect(() => new AhoCorasick(['ok', ''])).toThrow(/empty/);
  });
});
