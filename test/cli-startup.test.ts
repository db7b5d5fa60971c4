import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTree } from './fixtures/cli/harness.ts';

// Start-up is what a pre-commit hook pays on every commit. Its time belongs in the bench
// (bench/cli.bench.ts); what this test pins down is its cause: the compiled CLI loads only
// what a command needs. Rule sets, lockfile parsers (YAML, TOML, XML), the OSV index and
// the server stay unloaded until a command needs them.

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const TRACE = fileURLToPath(new URL('./fixtures/cli/trace-modules.mjs', import.meta.url));
const ROOT = path.dirname(path.dirname(BIN));
let root: string;

beforeAll(() => {
  root = tempDir();
  writeTree(root, { 'small.js': 'export const answer = 42;\n', 'app/package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/a': { version: '1.0.0' } } }) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function loadedModules(args: string[]): Promise<{ code: number | null; modules: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TRACE, BIN, ...args], { cwd: root, env: { PATH: process.env.PATH, DATA_DIR: path.join(root, 'data') } });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const modules = [...stderr.matchAll(/^module: (.*)$/gm)].map((m) => path.relative(ROOT, fileURLToPath(m[1]!)).split(path.sep).join('/'));
      resolve({ code, modules });
    });
  });
}

const packagesOf = (modules: string[]) => [...new Set(modules.filter((m) => m.startsWith('node_modules/')).map((m) => m.split('/').slice(1, m.startsWith('node_modules/@') ? 3 : 2).join('/')))];

describe('what the compiled CLI loads', { timeout: 60_000 }, () => {
  it('runs from dist/, never through tsx', async () => {
    const { code, modules } = await loadedModules(['--version']);
    expect(code).toBe(0);
    expect(modules).toContain('dist/cli/main.js');
    expect(modules.filter((m) => m.startsWith('src/') || m.includes('tsx'))).toEqual([]);
  });

  it('--help loads no package, no scanner, and not the build script (whose freshness check walks src/)', async () => {
    const { code, modules } = await loadedModules(['--help']);
    expect(code).toBe(0);
    expect(packagesOf(modules)).toEqual([]);
    expect(modules.filter((m) => /^(dist\/scan\/(secrets|deps|report)|scripts\/)/.test(m))).toEqual([]);
  });

  it('scanning one source file loads the secret rules, but no package, lockfile parser, database or server code', async () => {
    const { code, modules } = await loadedModules(['scan', 'small.js']);
    expect(code).toBe(0);
    expect(modules).toContain('dist/scan/secrets/engine.js');
    expect(packagesOf(modules)).toEqual([]);
    expect(modules.filter((m) => /^dist\/(scan\/deps\/(parse|parsers|osv|versions)|scan\/repo-config\/index|scan\/sbom|http|connect|store|core|ui)/.test(m))).toEqual([]);
    // Nor what a large tree, a diff, git or a baseline needs: threads, the diff parser.
    const modeModules = /^(scripts\/|dist\/(worker-thread|scan\/diff|cli\/scanning\/(pool|thread|git|baseline)|cli\/lockfiles\/))/;
    expect(modules.filter((m) => modeModules.test(m))).toEqual([]);
  });

  it('a lockfile brings in its parser and the database only then', async () => {
    const { modules } = await loadedModules(['scan', 'app']);
    expect(modules).toContain('dist/scan/deps/parse.js');
    expect(modules).toContain('dist/scan/deps/osv/index.js');
  });
});
