import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { startFakeApp, type FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;
let dir: string;

function capture(env: NodeJS.ProcessEnv = {}): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c) => (out += c));
  const stderr = new PassThrough().on('data', (c) => (err += c));
  const io = { stdout, stderr, stdin: new PassThrough(), env, cwd: dir } as unknown as CliIo;
  return { io, out: () => out, err: () => err };
}

beforeAll(async () => {
  fake = await startFakeApp();
  sim = await startSimulator({ appBaseUrl: fake.baseUrl });
  await sim.install();
  dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-cli-simulate-'));
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gatehouse simulate', () => {
  it('delivers a signed payload through the main command', async () => {
    const file = path.join(dir, 'push.json');
    await writeFile(file, JSON.stringify({ push: { changes: [] }, repository: { full_name: 'acme/x' } }));
    const inst = sim.installation()!;
    const before = fake.webhooks.length;
    const t = capture({ BASE_URL: fake.baseUrl });
    const code = await main(['simulate', 'receive', 'repo:push', file, '--client-key', inst.clientKey, '--shared-secret', inst.sharedSecret], t.io);
    expect(code).toBe(0);
    expect(fake.webhooks.length).toBe(before + 1);
    expect(fake.webhooks.at(-1)!.headers['x-event-key']).toBe('repo:push');
  });

  it('prints help without a subcommand and refuses an unknown one with status 2', async () => {
    const help = capture();
    expect(await main(['simulate'], help.io)).toBe(0);
    expect(help.out()).toContain('simulate receive');
    const bad = capture();
    expect(await main(['simulate', 'replay'], bad.io)).toBe(2);
    expect(bad.err()).toContain('unknown subcommand "replay"');
  });
});
