import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readForScan, walkDirectory, type ReadFile } from './walk.ts';

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'gatehouse-walk-'));
  const files: Record<string, string | Buffer> = {
    'b.txt': 'b\n',
    'a/z.txt': 'z\n',
    'a/b/deep.txt': 'deep\n',
    'node_modules/pkg/index.js': 'skipped\n',
    '.git/config': 'skipped\n',
    'vendor/lib.go': 'skipped\n',
    'big.txt': 'x'.repeat(2_000),
    'image.bin': Buffer.from([0x89, 0x50, 0x00, 0x47, ...Buffer.from('x'.repeat(3_000))]),
    'not-wanted.txt': 'never opened\n',
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  symlinkSync(path.join(root, 'a'), path.join(root, 'loop'));
  symlinkSync('/etc/hostname', path.join(root, 'outside.txt'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function walk(): Promise<{ files: ReadFile[]; notices: string[] }> {
  const notices: string[] = [];
  const files: ReadFile[] = [];
  const options = { maxBytes: () => 1_000, notice: (m: string) => notices.push(m), wants: (p: string) => p !== 'not-wanted.txt' };
  for await (const file of walkDirectory(root, options)) files.push(file);
  return { files, notices };
}

describe('walkDirectory', () => {
  it('yields files in name order with forward-slash relative paths, skipping vendored trees, symlinks and unwanted files', async () => {
    const { files } = await walk();
    expect(files.map((f) => f.path)).toEqual(['b.txt', 'image.bin', 'a/z.txt', 'a/b/deep.txt']);
    expect(files[0]).toEqual({ path: 'b.txt', bytes: 2, content: 'b\n' });
  });

  it('recognises binary content by a NUL byte and does not read it as text, whatever its size', async () => {
    const { files } = await walk();
    expect(files.find((f) => f.path === 'image.bin')).toEqual({ path: 'image.bin', bytes: 3_004, binary: true });
  });

  it('skips a text file over the size limit with a notice', async () => {
    const { files, notices } = await walk();
    expect(files.map((f) => f.path)).not.toContain('big.txt');
    expect(notices).toEqual(['big.txt was not scanned: 2.0 KB is over the 1000 bytes limit.']);
  });
});

describe('readForScan', () => {
  it('reports a file that cannot be read as a notice', async () => {
    const notices: string[] = [];
    const file = await readForScan(path.join(root, 'missing.txt'), 'missing.txt', { maxBytes: () => 1_000, notice: (m) => notices.push(m) });
    expect(file).toBeUndefined();
    expect(notices).toEqual(['missing.txt could not be read (ENOENT).']);
  });

  it('reads a file larger than the sniffed head whole', async () => {
    const file = await readForScan(path.join(root, 'big.txt'), 'big.txt', { maxBytes: () => 10_000, notice: () => undefined });
    expect(file).toEqual({ path: 'big.txt', bytes: 2_000, content: 'x'.repeat(2_000) });
  });
});
