import { describe, expect, it } from 'vitest';
import { scanDiff } from '../src/core/diff-scan.ts';
import { parseUnifiedDiff } from '../src/scan/diff.ts';
import { SecretScanner } from '../src/scan/secrets/engine.ts';

const scanner = new SecretScanner();
const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const all = () => true;

function added(path: string, lines: string[]): string {
  return [`diff --git a/${path} b/${path}`, 'new file mode 100644', 'index 0000000..1111111', '--- /dev/null', `+++ b/${path}`, `@@ -0,0 +1,${lines.length} @@`, ...lines.map((l) => `+${l}`)].join('\n');
}

function* chunks(text: string, size: number): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function* stream(text: string, size = 7): AsyncGenerator<string> {
  yield* chunks(text, size);
}

describe('scanDiff', () => {
  it('finds a secret on an added line with its new-file line number, whatever the chunking', async () => {
    const diff = `${added('a.js', ['one', `const k = "${KEY}";`])}\n`;
    for (const size of [1, 5, 4096]) {
      const result = await scanDiff(stream(diff, size), { scanner, includePath: all });
      expect(result.findings.map((f) => [f.path, f.line])).toEqual([['a.js', 2]]);
      expect(JSON.stringify(result)).not.toContain(KEY);
    }
  });

  it('says what it skipped: binaries, LFS pointers, deletions, ignored paths', async () => {
    const diff = [
      'diff --git a/logo.png b/logo.png',
      'new file mode 100644',
      'index 0000000..2222222',
      'Binary files /dev/null and b/logo.png differ',
      added('video.mp4', ['version https://git-lfs.github.com/spec/v1', 'oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393', 'size 1']),
      'diff --git a/old.txt b/old.txt',
      'deleted file mode 100644',
      'index 3333333..0000000',
      '--- a/old.txt',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      added('vendor/lib.js', [`k = "${KEY}"`]),
      '',
    ].join('\n');
    const result = await scanDiff(diff, { scanner, includePath: (p) => !p.startsWith('vendor/') });
    expect(result.findings).toEqual([]);
    expect(result.filesChanged).toBe(4);
    expect(result.skipped).toEqual([
      '1 binary files (only their names were checked): logo.png',
      '1 Git LFS pointers (the stored objects were not fetched): video.mp4',
      '1 deleted files (nothing added to scan): old.txt',
      '1 files ignored by the installation policy: vendor/lib.js',
    ]);
  });

  it('scans a file up to its byte cap, keeps later line numbers right, and says it was cut', async () => {
    const filler = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const diff = `${added('big.js', [`a = "${KEY}"`, ...filler, `b = "${KEY}"`])}\n${added('small.js', ['x', `c = "${KEY}"`])}\n`;
    const result = await scanDiff(diff, { scanner, includePath: all, limits: { maxFileBytes: 600, maxDiffBytes: 1e9 } });
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['big.js', 1], ['small.js', 2]]);
    expect(result.skipped).toEqual(['1 files with more than 1 KB added (scanned up to that size): big.js']);
  });

  it('stops reading at the diff cap wherever it falls, even inside one file, and scans what came before', async () => {
    const lines = [`k = "${KEY}"`, ...Array.from({ length: 100 }, (_, i) => `filler ${i} ${'y'.repeat(40)}`), `j = "${KEY}"`];
    const diff = `${added('one.js', ['x'])}\n${added('big.js', lines)}\n${added('after.js', [`m = "${KEY}"`])}\n`;
    const result = await scanDiff(stream(diff, 64), { scanner, includePath: all, limits: { maxFileBytes: 1e9, maxDiffBytes: 1_000 } });
    expect(result.bytesRead).toBe(1_000);
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['big.js', 1]]);
    expect(result.skipped).toEqual(['1 the rest of the diff after 1 KB, from this file on: big.js']);
  });

  it('keeps nothing of a file past its limits: lines are counted for their numbers, never held', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `row ${i}`);
    const diff = `${added('data.csv', [...lines, `k = "${KEY}"`])}\n${added('small.js', [`c = "${KEY}"`])}\n`;
    const files = [];
    for await (const file of parseUnifiedDiff(stream(diff, 100), { maxAddedLinesPerFile: 100, maxAddedPerFile: 1e9 })) files.push(file);
    expect(files.map((f) => [f.newPath, f.addedLines.length, f.droppedLines])).toEqual([
      ['data.csv', 100, 4_901],
      ['small.js', 1, undefined],
    ]);
    const result = await scanDiff(diff, { scanner, includePath: all, limits: { maxFileBytes: 1e9, maxDiffBytes: 1e9, maxFileLines: 100 } });
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['small.js', 1]]);
    expect(result.skipped).toEqual(['1 files with more than 100 lines added (scanned up to that size): data.csv']);
  });

  it('scans a 32 MB single line in linear time, up to the line limit, and says so', { timeout: 30_000 }, async () => {
    // The old splitter joined and searched the unfinished line again for every chunk: 45 s for this.
    const line = `k = "${KEY}" ${'z'.repeat(32 * 1024 * 1024)}`;
    const diff = `${added('bundle.js', [line, `j = "${KEY}"`])}\n`;
    const bytes = new TextEncoder().encode(diff);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const result = await scanDiff(body, { scanner, includePath: all });
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['bundle.js', 1], ['bundle.js', 2]]);
    expect(result.skipped).toEqual(['1 files with lines longer than 1 MB (those lines scanned up to that length): bundle.js']);
  });

  it('lists changed dependency files with their old path, even when secrets are off', async () => {
    const diff = [
      'diff --git a/app/package-lock.json b/web/package-lock.json',
      'similarity index 90%',
      'rename from app/package-lock.json',
      'rename to web/package-lock.json',
      'index 1111111..2222222 100644',
      '--- a/app/package-lock.json',
      '+++ b/web/package-lock.json',
      '@@ -1,2 +1,3 @@',
      ' {',
      '+  "name": "web",',
      '   "lockfileVersion": 3',
      added('yarn.lock', ['# yarn lockfile v1']),
      '',
    ].join('\n');
    const result = await scanDiff(diff, { scanner: null, includePath: all });
    expect(result.dependencyFiles).toEqual([
      { path: 'web/package-lock.json', oldPath: 'app/package-lock.json' },
      { path: 'yarn.lock', oldPath: null },
    ]);
    expect(result.filesScanned).toBe(0);
  });

  it('reads a byte stream split inside multi-byte characters', async () => {
    const diff = `${added('ü.js', ['// größe ✓', `k = "${KEY}"`])}\n`;
    const bytes = new TextEncoder().encode(diff);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const result = await scanDiff(body, { scanner, includePath: all });
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([['ü.js', 2]]);
  });
});
