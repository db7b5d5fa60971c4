import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, PACKAGE_LOCK, SLACK_WEBHOOK, run, tempDir, writeTree } from './fixtures/cli/harness.ts';

// A large scan is split into batches across worker threads. However the batches fall, the
// report must be the one a single thread writes: same findings, same notices, same order.

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const TRACE = fileURLToPath(new URL('./fixtures/cli/trace-modules.mjs', import.meta.url));
let root: string;
const env = { PATH: process.env.PATH, DATA_DIR: '/nonexistent-gatehouse-data' };

beforeAll(() => {
  root = tempDir();
  const files: Record<string, string> = {};
  // 300 files over 15 directories (more than a small scan, which stays in one thread),
  // secrets in some, two lockfiles, one file over the size limit.
  for (let d = 0; d < 15; d++) {
    for (let f = 0; f < 20; f++) {
      const name = `corpus/pkg${d}/file${f}.js`;
      files[name] = f % 7 === 3 ? `const id = "${AWS_KEY}";\n// ${d}/${f}\n` : f % 11 === 5 ? `hook: ${SLACK_WEBHOOK}\n` : `export const n${f} = ${d * f};\n`;
    }
  }
  files['corpus/pkg3/package-lock.json'] = PACKAGE_LOCK;
  files['corpus/pkg9/package-lock.json'] = '{ broken';
  files['corpus/pkg5/huge.js'] = 'x'.repeat(11 * 1024 * 1024);
  writeTree(root, files);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function gatehouse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('gatehouse scan on worker threads', { timeout: 120_000 }, () => {
  it('writes the same report with one thread, two, and the default', async () => {
    const one = await gatehouse(['scan', 'corpus', '--format', 'json', '--jobs', '1']);
    const findings = (JSON.parse(one.stdout) as { findings: { ruleId: string }[] }).findings;
    expect(findings.filter((f) => f.ruleId === 'aws-access-key-id')).toHaveLength(45);
    expect(findings.filter((f) => f.ruleId === 'slack-webhook-url')).toHaveLength(30);
    expect(one.stderr).toMatch(/pkg5\/huge.js was not scanned: 11.0 MB is over the 10.0 MB limit/);
    expect(one.stderr).toMatch(/pkg9\/package-lock.json/);
    expect(one.code).toBe(1);
    for (const jobs of [['--jobs', '2'], ['--jobs', '5'], []]) {
      const threaded = await gatehouse(['scan', 'corpus', '--format', 'json', ...jobs]);
      expect({ jobs, ...threaded }).toEqual({ jobs, ...one });
    }
  });

  it('runs threads from the TypeScript sources too (tests, npm run dev)', async () => {
    const single = await run(['scan', 'corpus', '--format', 'json', '--jobs', '1'], { cwd: root, env });
    const threaded = await run(['scan', 'corpus', '--format', 'json', '--jobs', '2'], { cwd: root, env });
    expect(threaded).toEqual(single);
    expect(threaded.code).toBe(1);
  });

  it('keys fingerprints alike in every thread with GATEHOUSE_FINGERPRINT_KEY, and honours a keyed .gitleaksignore entry there', async () => {
    const keyEnv = { ...env, GATEHOUSE_FINGERPRINT_KEY: 'team-private-text' };
    const scan = async (jobs: string) => {
      const result = await run(['scan', 'corpus', '--format', 'json', '--jobs', jobs], { cwd: root, env: keyEnv });
      return (JSON.parse(result.stdout) as { findings: { kind: string; path: string; fingerprint: string }[] }).findings.filter((f) => f.kind === 'secret');
    };
    const unkeyed = (JSON.parse((await run(['scan', 'corpus', '--format', 'json', '--jobs', '1'], { cwd: root, env })).stdout) as { findings: { fingerprint: string }[] }).findings;
    const single = await scan('1');
    expect(single).toHaveLength(75);
    expect(single.filter((f) => unkeyed.some((u) => u.fingerprint === f.fingerprint))).toEqual([]);
    expect(await scan('2')).toEqual(single);

    // An entry in the keyed form silences its finding whichever thread scans the file.
    const silenced = single.find((f) => f.path === 'pkg14/file3.js')!;
    writeTree(root, { 'corpus/.gitleaksignore': `${silenced.fingerprint}\n` });
    try {
      const expected = single.filter((f) => f !== silenced);
      expect(await scan('1')).toEqual(expected);
      expect(await scan('2')).toEqual(expected);
    } finally {
      rmSync(path.join(root, 'corpus/.gitleaksignore'));
    }
  });

  it('starts in one thread and adds threads once the tree proves large (over 16 MB of text), with the same report', async () => {
    const big = tempDir();
    try {
      const filler = 'export const value = 1; // ordinary code, no secret here\n'.repeat(160_000);
      const files: Record<string, string> = { 'a/big1.js': filler, 'a/big2.js': filler };
      for (let f = 0; f < 40; f++) files[`b/file${f}.js`] = f % 5 === 0 ? `const id = "${AWS_KEY}";\n` : `export const n = ${f};\n`;
      writeTree(big, files);
      const scan = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; modules: string[] }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', TRACE, BIN, 'scan', '.', '--format', 'json', ...args], { cwd: big, env, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, modules: [...stderr.matchAll(/^module: .*\/dist\/(.*)$/gm)].map((m) => m[1]!) }));
        });
      const one = await scan(['--jobs', '1']);
      const adaptive = await scan([]);
      expect(JSON.parse(one.stdout).findings).toHaveLength(8);
      expect({ code: adaptive.code, stdout: adaptive.stdout }).toEqual({ code: one.code, stdout: one.stdout });
      expect(one.modules).not.toContain('cli/scanning/pool.js');
      expect(adaptive.modules.includes('cli/scanning/pool.js')).toBe(availableParallelism() > 1);
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });

  it.each([['0'], ['two'], ['1.5']])('--jobs %s is a usage error', async (jobs) => {
    const result = await run(['scan', 'corpus', '--jobs', jobs], { cwd: root, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--jobs must be a whole number/);
  });
});
