import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ADVISORIES } from '../src/simulator/osv-advisories.ts';
import { createOsvMirror } from '../src/simulator/osv-mirror.ts';
import { updateVulnDb } from '../src/vulndb/update.ts';

/**
 * The server process (`node dist/server.js`) refreshes the OSV database in its DATA_DIR by
 * itself every OSV_UPDATE_INTERVAL, and never with 0.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const isLodash = (r: (typeof DEMO_ADVISORIES)[number]) => r.affected.some((a) => a.package.name === 'lodash');
const BEFORE = DEMO_ADVISORIES.filter((r) => !isLodash(r));
const AFTER = [...BEFORE, ...DEMO_ADVISORIES.filter(isLodash).map((r) => ({ ...r, modified: '2026-11-30T00:00:00Z' }))];

describe('the server refreshes the OSV database on its own', () => {
  let mirror: Server | undefined;
  let proc: ChildProcess | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    proc?.kill('SIGKILL');
    mirror?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function start(interval: string): Promise<{ current: () => Promise<string>; swap: (records: typeof AFTER) => void; logs: () => string }> {
    let serve: RequestHandler = createOsvMirror(BEFORE);
    const web = express();
    web.use((req, res, next) => serve(req, res, next));
    mirror = createServer(web).listen(0, '127.0.0.1');
    await new Promise((resolve) => mirror!.once('listening', resolve));
    const mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-osv-server-'));
    await updateVulnDb({ mirrorUrl, dataDir, ecosystems: ['npm'] });
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', DATA_DIR: dataDir, OSV_MIRROR_URL: mirrorUrl, OSV_UPDATE_INTERVAL: interval, LOG_LEVEL: 'info' };
    proc = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return {
      current: async () => (await readFile(path.join(dataDir!, 'osv', 'CURRENT'), 'utf8')).trim(),
      swap: (records) => {
        serve = createOsvMirror(records);
      },
      logs: () => out,
    };
  }

  async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it('every OSV_UPDATE_INTERVAL: a changed mirror becomes the active database without a restart', { timeout: 60_000 }, async () => {
    const server = await start('1s');
    const first = await server.current();
    expect(await waitFor(async () => server.logs().includes('OSV database refreshed'), 30_000), server.logs()).toBe(true);
    expect(await server.current()).toBe(first);
    server.swap(AFTER);
    expect(await waitFor(async () => (await server.current()) !== first, 30_000), server.logs()).toBe(true);
    expect(proc!.exitCode).toBeNull();
  });

  it('never with OSV_UPDATE_INTERVAL=0', { timeout: 60_000 }, async () => {
    const server = await start('0');
    const first = await server.current();
    server.swap(AFTER);
    expect(await waitFor(async () => server.logs().includes('Gatehouse listening'), 30_000), server.logs()).toBe(true);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await server.current()).toBe(first);
    expect(server.logs()).not.toContain('OSV database refreshed');
  });
});
