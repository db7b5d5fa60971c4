import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** The real entry point (`npm start` runs exactly this), as a child process. */
const ROOT = path.resolve(import.meta.dirname, '..');
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

function start(env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-server-'));
  dirs.push(dataDir);
  const { PATH, HOME } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH, HOME, DATA_DIR: dataDir, ...env },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /"port":(\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  listening.catch(() => undefined); // awaited only by tests that expect the server to start

  return { child, exited, listening, out: () => stdout, err: () => stderr };
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('server start-up', () => {
  it('exits 1 with one line per configuration problem before listening', async () => {
    const s = start({ PORT: 'nope', BITBUCKET_API_URLS: 'not-a-url', NODE_ENV: 'production', BASE_URL: 'https://g.example' });
    expect(await s.exited).toBe(1);
    const lines = s.err().trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['PORT', 'BITBUCKET_API_URLS', 'ENCRYPTION_KEY']);
    expect(s.out()).not.toContain('listening');
  });

  it('serves /healthz, then on SIGTERM stops accepting, closes the store and exits 0', async () => {
    const s = start({ PORT: '0', LOG_LEVEL: 'info' });
    const port = await s.listening;
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(s.out()).toContain('ENCRYPTION_KEY not set');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.out()).toContain('store closed');
    await expect(get(port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('finishes a request that is in flight when SIGTERM arrives', async () => {
    const s = start({ PORT: '0' });
    const port = await s.listening;
    // Meant for another app key: answered without calling Bitbucket (a genuine install would
    // first prove its secret with bitbucket.org, and tests never reach the internet).
    const body = JSON.stringify({
      key: 'another-app',
      clientKey: 'ari:cloud:bitbucket::app/{0b7f0b3e-1d2c-4f55-9d6e-7c1f2a3b4c5d}/gatehouse',
      sharedSecret: 'a-shared-secret-of-sufficient-length',
      baseUrl: 'https://bitbucket.org',
      baseApiUrl: 'https://api.bitbucket.org',
      productType: 'bitbucket',
      eventType: 'installed',
    });
    const half = Math.floor(body.length / 2);
    const status = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/connect/lifecycle/installed', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, half));
      setTimeout(() => {
        s.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(half)), 300);
      }, 200);
    });
    expect(await status).toBe(400);
    expect(await s.exited).toBe(0);
  });
});
