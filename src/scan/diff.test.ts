import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffParseError, parseUnifiedDiff, parseUnifiedDiffSync, type DiffFile } from './diff.ts';

const byPath = (files: DiffFile[]) => new Map(files.map((f) => [f.newPath ?? f.oldPath!, f]));

describe('parseUnifiedDiff on real git output', () => {
  let repo: string;
  let diff: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'core.quotePath=true', ...args], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
    });

  beforeAll(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'gatehouse-diff-'));
    git('init', '-q');
    const base = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    writeFileSync(path.join(repo, 'multi.txt'), base.join('\n') + '\n');
    writeFileSync(path.join(repo, 'gone.txt'), 'bye\n');
    writeFileSync(path.join(repo, 'old-name.ts'), Array.from({ length: 20 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n');
    writeFileSync(path.join(repo, 'mode.sh'), 'echo hi\n');
    writeFileSync(path.join(repo, 'nonl.txt'), 'a\nb');
    writeFileSync(path.join(repo, 'crlf.ini'), 'a=1\r\nb=2\r\n');
    git('add', '.');
    git('commit', '-q', '-m', 'base');

    const changed = [...base];
    changed.splice(2, 0, 'added at 3');
    changed[29] = 'changed line';
    changed.push('added at end');
    writeFileSync(path.join(repo, 'multi.txt'), changed.join('\n') + '\n');
    rmSync(path.join(repo, 'gone.txt'));
    git('mv', 'old-name.ts', 'new-name.ts');
    writeFileSync(path.join(repo, 'new-name.ts'), Array.from({ length: 20 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\nexport const token = "x";\n');
    chmodSync(path.join(repo, 'mode.sh'), 0o755);
    writeFileSync(path.join(repo, 'nonl.txt'), 'a\nb\nc');
    writeFileSync(path.join(repo, 'crlf.ini'), 'a=1\r\nb=2\r\nsecret=s3cr3t\r\n');
    mkdirSync(path.join(repo, 'dir with space'));
    writeFileSync(path.join(repo, 'dir with space', 'né.env'), 'KEY=value\n');
    writeFileSync(path.join(repo, 'logo.bin'), Buffer.from([0, 1, 2, 3, 0, 255]));
    git('add', '-A');
    diff = git('diff', '--cached', '-M');
  });

  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('reads added lines with new-file line numbers across several hunks', () => {
    const f = byPath([...parseUnifiedDiffSync(diff)]).get('multi.txt')!;
    expect(f.status).toBe('modified');
    expect(f.addedLines).toEqual([
      { line: 3, text: 'added at 3' },
      { line: 30, text: 'changed line' },
      { line: 42, text: 'added at end' },
    ]);
  });

  it('reports deletions, renames, mode changes and binary files', () => {
    const files = byPath([...parseUnifiedDiffSync(diff)]);
    expect(files.get('gone.txt')).toMatchObject({ status: 'deleted', oldPath: 'gone.txt', newPath: null, addedLines: [] });
    expect(files.get('new-name.ts')).toMatchObject({ status: 'renamed', oldPath: 'old-name.ts', addedLines: [{ line: 21, text: 'export const token = "x";' }] });
    expect(files.get('mode.sh')).toMatchObject({ status: 'modified', addedLines: [] });
    expect(files.get('logo.bin')).toMatchObject({ status: 'added', binary: true, oldPath: null, addedLines: [] });
  });

  it('handles a missing final newline, CRLF content and quoted paths with escapes', () => {
    const files = byPath([...parseUnifiedDiffSync(diff)]);
    expect(files.get('nonl.txt')!.addedLines).toEqual([
      { line: 2, text: 'b' },
      { line: 3, text: 'c' },
    ]);
    expect(files.get('crlf.ini')!.addedLines).toEqual([{ line: 3, text: 'secret=s3cr3t' }]);
    expect(files.get('dir with space/né.env')).toMatchObject({ status: 'added', addedLines: [{ line: 1, text: 'KEY=value' }] });
  });

  it('gives the same result when the diff is streamed in awkward chunks', async () => {
    async function* chunks() {
      for (let i = 0; i < diff.length; i += 7) yield diff.slice(i, i + 7);
    }
    const streamed: DiffFile[] = [];
    for await (const f of parseUnifiedDiff(chunks())) streamed.push(f);
    expect(streamed).toEqual([...parseUnifiedDiffSync(diff)]);
    const fromString: DiffFile[] = [];
    for await (const f of parseUnifiedDiff(diff)) fromString.push(f);
    expect(fromString).toEqual(streamed);
  });

  it('reads a git binary patch', () => {
    const binary = git('diff', '--cached', '--binary', '--', 'logo.bin');
    expect(binary).toContain('GIT binary patch');
    expect([...parseUnifiedDiffSync(binary)]).toMatchObject([{ newPath: 'logo.bin', binary: true, addedLines: [] }]);
  });
});

describe('parseUnifiedDiff edge cases', () => {
  it('reads Bitbucket Data Center src:// and dst:// prefixes', () => {
    const diff = ['diff --git src://app/a.ts dst://app/a.ts', 'index 1..2 100644', '--- src://app/a.ts', '+++ dst://app/a.ts', '@@ -1 +1,2 @@', ' x', '+y'].join('\n');
    expect([...parseUnifiedDiffSync(diff)]).toEqual([{ oldPath: 'app/a.ts', newPath: 'app/a.ts', status: 'modified', binary: false, addedLines: [{ line: 2, text: 'y' }] }]);
  });

  it('reads plain diff -u output with timestamps and several files', () => {
    const diff = [
      '--- a.txt\t2024-01-01 00:00:00.000000000 +0000',
      '+++ a.txt\t2024-01-02 00:00:00.000000000 +0000',
      '@@ -1,2 +1,2 @@',
      ' keep',
      '-old',
      '+new',
      '--- /dev/null\t1970-01-01 00:00:00.000000000 +0000',
      '+++ b.txt\t2024-01-02 00:00:00.000000000 +0000',
      '@@ -0,0 +1 @@',
      '+--- not a header',
    ].join('\n');
    expect([...parseUnifiedDiffSync(diff)]).toEqual([
      { oldPath: 'a.txt', newPath: 'a.txt', status: 'modified', binary: false, addedLines: [{ line: 2, text: 'new' }] },
      { oldPath: null, newPath: 'b.txt', status: 'added', binary: false, addedLines: [{ line: 1, text: '--- not a header' }] },
    ]);
  });

  it('takes hunk content that looks like a header as content', () => {
    const diff = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1,2 +1,3 @@', '--- a/y', '+diff --git a/z b/z', '++++ b/q', ' @@ -9 +9 @@', '+last'].join('\n');
    const files = [...parseUnifiedDiffSync(diff.replace(/\n\+last$/, ''))];
    expect(files).toHaveLength(1);
    expect(files[0]!.addedLines.map((l) => l.text)).toEqual(['diff --git a/z b/z', '+++ b/q']);
  });

  it('reads quoted paths on the diff --git line and rename lines', () => {
    const diff = ['diff --git "a/sp ace\\t\\"q\\".txt" "b/new \\303\\251.txt"', 'similarity index 100%', 'rename from "sp ace\\t\\"q\\".txt"', 'rename to "new \\303\\251.txt"'].join('\r\n');
    expect([...parseUnifiedDiffSync(diff)]).toEqual([{ oldPath: 'sp ace\t"q".txt', newPath: 'new é.txt', status: 'renamed', binary: false, addedLines: [] }]);
  });

  it('reads an unquoted path with spaces from the diff --git line alone', () => {
    const diff = ['diff --git a/my file.txt b/my file.txt', 'old mode 100644', 'new mode 100755'].join('\n');
    expect([...parseUnifiedDiffSync(diff)]).toMatchObject([{ oldPath: 'my file.txt', newPath: 'my file.txt', status: 'modified' }]);
  });

  it('reads copies', () => {
    const diff = ['diff --git a/x.ts b/y.ts', 'similarity index 90%', 'copy from x.ts', 'copy to y.ts', '--- a/x.ts', '+++ b/y.ts', '@@ -1 +1 @@', '-a', '+b'].join('\n');
    expect([...parseUnifiedDiffSync(diff)]).toEqual([{ oldPath: 'x.ts', newPath: 'y.ts', status: 'copied', binary: false, addedLines: [{ line: 1, text: 'b' }] }]);
  });

  it('rejects malformed and truncated hunks with the line number', () => {
    const bad = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1,2 +1,2 nonsense'].join('\n');
    expect(() => [...parseUnifiedDiffSync(bad)]).toThrow(DiffParseError);
    expect(() => [...parseUnifiedDiffSync(bad)]).toThrow(/line 4: malformed hunk header/);
    const truncated = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1,2 +1,3 @@', '+a'].join('\n');
    expect(() => [...parseUnifiedDiffSync(truncated)]).toThrow(/ends inside a hunk/);
    const stray = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1,2 +1,2 @@', '?x'].join('\n');
    expect(() => [...parseUnifiedDiffSync(stray)]).toThrow(/line 5: unexpected line/);
  });

  it('yields nothing for empty input', () => {
    expect([...parseUnifiedDiffSync('')]).toEqual([]);
  });
});
