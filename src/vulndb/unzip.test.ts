import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { forEachJsonEntry } from './unzip.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function zipFile(entries: Record<string, { text: string; level: 0 | 6 }>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-unzip-'));
  dirs.push(dir);
  const file = path.join(dir, 'all.zip');
  const input = Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, [new TextEncoder().encode(e.text), { level: e.level }] as const]));
  writeFileSync(file, zipSync(input as Parameters<typeof zipSync>[0]));
  return file;
}

describe('forEachJsonEntry', () => {
  it('skips and reports entries over the size bound, stored or deflated, and reads the rest of the archive', async () => {
    const big = JSON.stringify({ id: 'BIG', details: 'x'.repeat(10_000) });
    const file = zipFile({
      'stored-big.json': { text: big, level: 0 },
      'deflated-big.json': { text: big, level: 6 },
      'ok.json': { text: JSON.stringify({ id: 'OK' }), level: 6 },
    });
    const read: string[] = [];
    const bad: string[] = [];
    const count = await forEachJsonEntry(file, 'all.zip', (name) => read.push(name), (name, reason) => bad.push(`${name}: ${reason}`), 1024);
    expect(read).toEqual(['ok.json']);
    expect(bad).toEqual(['stored-big.json: larger than 1024 bytes; skipped', 'deflated-big.json: larger than 1024 bytes; skipped']);
    expect(count).toBe(3);
  });
});
