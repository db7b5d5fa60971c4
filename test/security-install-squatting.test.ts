import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decryptSecret } from '../src/crypto.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { bitbucketIssued, installBody, newTenant, startTestApp, type TestApp } from './helpers/connect-tenant.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

// Issue 10 item 6: the first install of a clientKey is unsigned, and clientKeys can be derived
// from a workspace's UUID. Whoever installed first under a workspace's clientKey with a secret
// of their own used to lock the real installation out (Bitbucket's install then got 401).

const INSTALLED = '/connect/lifecycle/installed';

describe('install squatting, end to end on the simulator', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('squatting', { workspaces: [] }));
  });
  afterAll(async () => stop?.());

  async function storedSecret(clientKey: string): Promise<string | null> {
    const stored = await app.store.getInstallation(clientKey);
    return stored?.state === 'installed' && stored.encryptedSharedSecret ? decryptSecret(app.config.encryptionKey, stored.encryptedSharedSecret) : null;
  }

  it('an install posted first with a self-chosen secret is refused, and the real install then works', async () => {
    const squat = await sim.attemptInstall({ forged: true });
    expect(squat.status).toBe(401);
    expect(JSON.parse(squat.body).error.code).toBe('install_not_proven');
    expect(await app.store.getInstallation(squat.clientKey)).toBeUndefined();

    const real = await sim.install();
    expect(real.status).toBe(204);
    expect(real.clientKey).toBe(squat.clientKey);
    expect(await storedSecret(real.clientKey)).toBe(sim.installation()!.sharedSecret);
    expect(sim.violations).toEqual([]);
  });

  it('after an uninstall, a squatter cannot take the clientKey over before the workspace installs again', async () => {
    expect((await sim.uninstall()).status).toBe(204);
    const squat = await sim.attemptInstall({ forged: true });
    expect(squat.status).toBe(401);
    expect((await app.store.getInstallation(squat.clientKey))?.state).toBe('uninstalled');

    // Bitbucket signs this one with the destroyed secret: the app proves the new secret instead.
    expect((await sim.install()).status).toBe(204);
    expect(await storedSecret(squat.clientKey)).toBe(sim.installation()!.sharedSecret);
  });
});

describe('install proof: failures and races', () => {
  let t: TestApp | undefined;
  afterEach(async () => t?.close());

  it('Bitbucket unreachable while proving the secret: 503 (Bitbucket retries), nothing stored', async () => {
    // An allow-listed Bitbucket where nothing listens.
    const down = 'http://127.0.0.1:9';
    t = await startTestApp({ bitbucketBaseUrls: [down] });
    const a = newTenant();
    const res = await request(t.app).post(INSTALLED).send(installBody(a, { baseUrl: down }));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('install_not_verifiable');
    expect(await t.store.getInstallation(a.clientKey)).toBeUndefined();
  });

  it('two first installs of one clientKey at once: exactly one wins, and its secret is the one stored', async () => {
    t = await startTestApp();
    const app = t;
    const first = newTenant();
    const second = bitbucketIssued({ clientKey: first.clientKey, sharedSecret: 'a-second-genuine-looking-secret-0123456789' });
    const answers = await Promise.all([first, second].map((tenant) => request(app.app).post(INSTALLED).send(installBody(tenant))));
    expect(answers.map((r) => r.status).sort()).toEqual([204, 401]);
    const winner = answers[0]!.status === 204 ? first : second;
    const stored = await app.store.getInstallation(first.clientKey);
    expect(decryptSecret(app.config.encryptionKey, stored!.encryptedSharedSecret!)).toBe(winner.sharedSecret);
  });
});
