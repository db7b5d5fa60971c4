import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulateReceive } from '../src/simulator/receive-cli.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { readState, writeState } from '../src/simulator/state-file.ts';
import { decodeHostJwt, expectedQsh, startFakeApp } from './simulator-fake-app.ts';
import type { FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;
let dir: string;
let payloadFile: string;

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: { BASE_URL: fake.baseUrl, DATA_DIR: dir, ...env } } };
}

beforeAll(async () => {
  fake = await startFakeApp();
  sim = await startSimulator({ appBaseUrl: fake.baseUrl });
  await sim.install();
  dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-receive-'));
  const inst = sim.installation()!;
  await writeState(dir, { appBaseUrl: fake.baseUrl, webOrigin: sim.webOrigin, apiOrigin: sim.apiOrigin, installations: [{ workspace: 'acme', clientKey: inst.clientKey, sharedSecret: inst.sharedSecret }] });
  payloadFile = path.join(dir, 'push.json');
  // A captured delivery as stored in ../shared/reference: {headers, payload: {event, data}}.
  await writeFile(payloadFile, JSON.stringify({ headers: {}, payload: { event: 'repo:push', data: { push: { changes: [] }, repository: { full_name: 'acme/x' } } } }));
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gatehouse simulate receive', () => {
  it('signs with the saved installation and delivers to the descriptor URL', async () => {
    const t = io();
    expect(await runSimulateReceive(['repo:push', payloadFile], t.io)).toBe(0);
    const hook = fake.webhooks.at(-1)!;
    expect(hook.headers['x-event-key']).toBe('repo:push');
    expect(hook.body).toEqual({ event: 'repo:push', data: { push: { changes: [] }, repository: { full_name: 'acme/x' } } });
    const inst = sim.installation()!;
    expect(decodeHostJwt(hook.headers.authorization, inst.sharedSecret)).toMatchObject({ iss: inst.clientKey, qsh: expectedQsh('POST', `${fake.baseUrl}/webhooks`, fake.baseUrl) });
    expect(t.out.join('\n')).toContain('attempt 1');
  });

  it('takes explicit credentials, a bare body and a redelivery UUID', async () => {
    const inst = sim.installation()!;
    const t = io({ DATA_DIR: path.join(dir, 'nowhere') });
    const code = await runSimulateReceive(['repo:push', payloadFile, '--bare', '--client-key', inst.clientKey, '--shared-secret', inst.sharedSecret, '--request-uuid', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', '--attempt', '2'], t.io);
    expect(code).toBe(0);
    const hook = fake.webhooks.at(-1)!;
    expect(hook.body).toEqual({ push: { changes: [] }, repository: { full_name: 'acme/x' } });
    expect(hook.headers['x-request-uuid']).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    expect(hook.headers['x-attempt-number']).toBe('2');
  });

  it('takes a secret that starts with a dash (base64url secrets do, one time in 64)', async () => {
    const inst = sim.installation()!;
    const secret = `-${inst.sharedSecret.slice(1)}`;
    const t = io({ DATA_DIR: path.join(dir, 'nowhere') });
    expect(await runSimulateReceive(['repo:push', payloadFile, '--client-key', inst.clientKey, '--shared-secret', secret, '--no-retry'], t.io)).toBe(0);
    expect(decodeHostJwt(fake.webhooks.at(-1)!.headers.authorization, secret)).toMatchObject({ iss: inst.clientKey });
  });

  it('exits 1 when the app does not answer 2xx', async () => {
    fake.webhookStatuses.push(500);
    const t = io();
    expect(await runSimulateReceive(['repo:push', payloadFile, '--no-retry'], t.io)).toBe(1);
  });

  it('exits 2 with a clear message for usage and input errors', async () => {
    const cases: [string[], RegExp][] = [
      [['repo:push'], /exactly <event> and <payload.json>/],
      [['repo:push', path.join(dir, 'missing.json')], /cannot read/],
      [['repo:fork', payloadFile], /no webhook for repo:fork/],
      [['repo:push', payloadFile, '--client-key', 'k'], /go together/],
      [['repo:push', payloadFile, '--attempt', '0'], /positive integer/],
      [['repo:push', payloadFile, '--frobnicate'], /Unknown option/],
    ];
    for (const [argv, message] of cases) {
      const t = io();
      expect(await runSimulateReceive(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err.join('\n'), argv.join(' ')).toMatch(message);
    }
    const none = io({ DATA_DIR: path.join(dir, 'empty') });
    expect(await runSimulateReceive(['repo:push', payloadFile], none.io)).toBe(2);
    expect(none.err.join('\n')).toMatch(/npm run simulate/);
  });

  it('keeps the state file owner-only', async () => {
    expect((await stat(path.join(dir, 'simulator-state.json'))).mode & 0o077).toBe(0);
    expect((await readState(dir))?.installations[0]?.workspace).toBe('acme');
  });
});
