import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { newApiToken } from '../src/ui/api-auth.ts';

/**
 * `gatehouse inventory export` against `node dist/server.js` (what `npm start` runs): the
 * store is seeded before the server starts (it then holds DATA_DIR), the CLI reads the
 * inventory with an API token, and a revoked one is refused.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const CLIENT = 'ari:cloud:bitbucket::app/{dddddddd-0000-0000-0000-000000000000}/gatehouse';

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/gatehouse.js'), ...args], { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('inventory export from a running server process', () => {
  let dataDir: string;
  let proc: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-cli-inventory-'));
    const now = new Date().toISOString();
    const store = new LowdbStore({ dataDir });
    await store.open();
    await store.putInstallation({ clientKey: CLIENT, key: 'gatehouse', baseUrl: 'https://bitbucket.org', baseApiUrl: 'https://api.bitbucket.org', encryptedSharedSecret: null, state: 'installed', principal: { slug: 'acme' }, installedAt: now, updatedAt: now });
    await store.close();
    const results = new JournalResultsStore({ dataDir });
    await results.open();
    const { token, hash } = newApiToken();
    await results.putApiToken({ id: randomUUID(), clientKey: CLIENT, name: 'cli', hash, createdBy: null, createdAt: now, lastUsedAt: null });
    await results.putRepository({ clientKey: CLIENT, uuid: '{1}', fullName: 'acme/one', name: 'one', project: { key: 'PAY', name: 'Payments' }, isPrivate: true, mainBranch: 'main', sizeBytes: 1, language: null, updatedOn: now, discoveredAt: now, deletedAt: null });
    await results.putInventory({ clientKey: CLIENT, repoUuid: '{1}', repoFullName: 'acme/one', branch: 'main', environment: null, commit: 'c'.repeat(40), files: {}, packages: [{ ecosystem: 'npm', name: 'lodash', version: '4.17.21', path: 'package-lock.json', line: 2 }], sbom: '{}', updatedAt: now });
    await results.close();
    await writeFile(path.join(dataDir, 'token'), `${token}\n`);

    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', OSV_UPDATE_INTERVAL: '0' };
    proc = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const port = /"port":(\d+)/.exec(out)?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
      });
      proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
    });
  }, 60_000);

  afterAll(async () => {
    proc?.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exports the inventory with the API token and exits 0; a wrong token exits 3', { timeout: 60_000 }, async () => {
    const done = await cli(['inventory', 'export', '--url', url, '--token-file', 'token', '--output', 'inventory.jsonl'], dataDir);
    expect(done, done.stderr).toMatchObject({ code: 0 });
    const items = (await readFile(path.join(dataDir, 'inventory.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; id: string });
    expect(items.map((i) => `${i.type} ${i.id}`)).toEqual(['project project:PAY', 'repository {1}', 'component pkg:npm/lodash@4.17.21']);

    await writeFile(path.join(dataDir, 'other'), 'ghtok_0000000000000000000000000000\n');
    const refused = await cli(['inventory', 'export', '--url', url, '--token-file', 'other'], dataDir);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
  });
});
