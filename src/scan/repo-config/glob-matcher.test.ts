import { describe, expect, it } from 'vitest';
import { globMatcher } from './glob-matcher.ts';

const m = (glob: string, path: string) => globMatcher(glob).test(path);

describe('globMatcher', () => {
  it('matches slash-less patterns at any depth and anchored ones from the root', () => {
    expect(m('*.pem', 'a/b/key.pem')).toBe(true);
    expect(m('*.pem', 'key.pem.txt')).toBe(false);
    expect(m('/docs/*.md', 'docs/a.md')).toBe(true);
    expect(m('/docs/*.md', 'x/docs/a.md')).toBe(false);
  });

  it('supports **, ?, {a,b}, classes and directory patterns', () => {
    expect(m('test/**/fixtures/**', 'test/a/b/fixtures/x.json')).toBe(true);
    expect(m('test/**/fixtures/**', 'test/fixtures/x.json')).toBe(true);
    expect(m('src/*.ts', 'src/a/b.ts')).toBe(false);
    expect(m('file?.txt', 'file1.txt')).toBe(true);
    expect(m('*.{yml,yaml}', 'ci/x.yaml')).toBe(true);
    expect(m('[ab].txt', 'b.txt')).toBe(true);
    expect(m('fixtures/', 'fixtures/deep/file')).toBe(true);
    expect(m('a.b', 'axb')).toBe(false);
  });

  it('reports an unbalanced brace', () => {
    expect(() => globMatcher('*.{a,b')).toThrow(/unbalanced/);
  });
});
