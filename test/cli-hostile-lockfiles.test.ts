import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoundedLockfileParser } from '../src/cli/lockfiles/bounded-parser.ts';
import { PACKAGE_LOCK, tempDir, writeTree } from './fixtures/cli/harness.ts';

// A YAML lockfile of one 500 kB line can keep the YAML library busy for minutes or exhaust
// the heap. `gatehouse scan` and `gatehouse sbom` used to parse it in the main thread and
// hung on it; now each dependency file is parsed in a thread within a time and heap budget,
// like the server's scan pool, and the rest of the scan goes on.

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
/** 250,000 empty flow mappings on one line: the YAML library did not finish it in minutes. */
const HOSTILE_PNPM = `lockfileVersion: 5.4\npackages: ${'{}'.repeat(250_000)}\n`;
/** 500 kB of one flow sequence: ~200 MB of heap in the YAML library. */
const HOSTILE_PUBSPEC = `packages: [${'a, '.repeat(170_000)}]\n`;
const PUBSPEC = 'packages:\n  http:\n    dependency: "direct main"\n    description:\n      name: http\n      url: "https://pub.dev"\n    source: hosted\n    version: "1.2.1"\nsdks:\n  dart: ">=3.3.0 <4.0.0"\n';

let root: string;
beforeAll(() => {
  root = tempDir();
  writeTree(root, { 'app/pnpm-lock.yaml': HOSTILE_PNPM, 'app/package-lock.json': PACKAGE_LOCK, 'app/src/index.js': 'export {};\n' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function gatehouse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: { PATH: process.env.PATH, DATA_DIR: '/nonexistent-gatehouse-data' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hostile YAML lockfiles in the CLI', () => {
  it('scan: the hostile pnpm-lock.yaml costs its time or memory budget and a notice; the package-lock beside it is still read', { timeout: 180_000 }, async () => {
    const result = await gatehouse(['scan', 'app', '--format', 'json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { notices: string[] };
    // Which bound stops it first depends on the machine's speed: a quiet one fills 256 MB first.
    expect(report.notices.join('\n')).toMatch(/pnpm-lock\.yaml: parsing it exceeded its (time budget of 30 s|memory budget of 256 MB) and was stopped; its packages were not checked\./);
    // package-lock.json's three packages were read; the hostile file contributed none.
    expect(report.notices).toContain('No vulnerability database: 3 packages from 2 dependency files not checked for known vulnerabilities.');
  });

  it('sbom: the same file is left out with a notice, the other packages are listed', { timeout: 180_000 }, async () => {
    const result = await gatehouse(['sbom', 'app']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/pnpm-lock\.yaml: parsing it exceeded its (time budget of 30 s|memory budget of 256 MB) and was stopped; its packages are not in the SBOM\./);
    const sbom = JSON.parse(result.stdout) as { components: { name: string }[] };
    expect(sbom.components.map((c) => c.name).sort()).toEqual(['debug', 'express', 'lodash']);
  });

  it('a file over the heap budget stops its thread only; the next file gets a fresh one', { timeout: 120_000 }, async () => {
    const parser = new BoundedLockfileParser({ baseTimeMs: 60_000, baseHeapMb: 32, heapMbPerMb: 0 });
    try {
      expect(await parser.parse('pubspec.lock', HOSTILE_PUBSPEC)).toEqual({ reason: 'parsing it exceeded its memory budget of 32 MB and was stopped' });
      const parsed = await parser.parse('pubspec.lock', PUBSPEC);
      expect('packages' in parsed && parsed.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['http@1.2.1']);
    } finally {
      await parser.close();
    }
  });

  it('a file over the time budget is stopped when the budget runs out', { timeout: 60_000 }, async () => {
    const parser = new BoundedLockfileParser({ baseTimeMs: 2_000, baseHeapMb: 256, heapMbPerMb: 0 });
    try {
      const started = Date.now();
      expect(await parser.parse('pnpm-lock.yaml', HOSTILE_PNPM)).toEqual({ reason: 'parsing it exceeded its time budget of 2 s and was stopped' });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await parser.parse('bad/pnpm-lock.yaml', 'lockfileVersion: [')).toHaveProperty('reason');
    } finally {
      await parser.close();
    }
  });
});
