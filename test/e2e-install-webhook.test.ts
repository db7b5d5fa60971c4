import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForApp } from '../src/simulator/app-harness.ts';
import { runSimulateReceive } from '../src/simulator/receive-cli.ts';
import type { InProcessApp } from '../src/simulator/app-harness.ts';
import { startSimulator } from '../src/simulator/simulator.ts';
import type { Simulator } from '../src/simulator/simulator.ts';

// The real app (createApp + LowdbStore in a temporary DATA_DIR) driven only over HTTP by the
// simulator, which finds every route in the app's descriptor.
describe('end to end: install, reinstall, pull-request webhook, redelivery', () => {
  let dataDir: string;
  let app: InProcessApp;
  let sim: Simulator;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-'));
    app = await listenForApp({ dataDir, logLevel: 'silent' });
    sim = await startSimulator({ appBaseUrl: app.baseUrl, retryDelayMs: 0 });
    await app.attach({ web: sim.webOrigin, api: sim.apiOrigin });
  });

  afterAll(async () => {
    await sim?.stop();
    await app?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('installs unsigned first, then reinstalls signed with the previous secret', async () => {
    const first = await sim.install();
    expect(first.status).toBeGreaterThanOrEqual(200);
    expect(first.status).toBeLessThan(300);
    const firstSecret = sim.installation()?.sharedSecret;

    const second = await sim.install();
    expect(second.status).toBeLessThan(300);
    expect(sim.lifecycleCalls.map((c) => c.signed)).toEqual([false, true]);
    expect(sim.installation()?.sharedSecret).not.toBe(firstSecret);
  });

  it('refuses a reinstall that is unsigned or signed with the new secret', async () => {
    expect((await sim.attemptInstall({ signing: 'none' })).status).toBe(401);
    expect((await sim.attemptInstall({ signing: 'new-secret' })).status).toBe(401);
  });

  it('accepts the pull-request webhook (202) and recognises its redelivery', async () => {
    await sim.createRepository('acme', 'web');
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'src/app.js': 'console.log("hi");\n' }, 'Add app');
    const before = sim.deliveries.length;
    const pr = await sim.openPullRequest('acme/web', { source: 'feature', title: 'Add app' });
    const created = sim.deliveries.slice(before).find((d) => d.event === 'pullrequest:created');
    expect(created, 'the descriptor subscribes to pullrequest:created').toBeDefined();
    expect(created?.attempts.map((a) => a.status)).toEqual([202]);
    expect(pr.id).toBe(1);

    const again = await sim.redeliver(created!);
    expect(again.requestUuid).toBe(created!.requestUuid);
    expect(again.attempts[0]?.attempt).toBe(2);
    expect(again.attempts[0]?.status).toBe(200);
    expect(JSON.parse(again.attempts[0]?.responseBody ?? '{}')).toMatchObject({ duplicate: true });
  });

  it('accepts a bare body from `simulate receive`, refuses the old secret after uninstall, and installs again', async () => {
    const payload = path.join(dataDir, 'push.json');
    const lastPush = sim.deliveries.filter((d) => d.event === 'repo:push').at(-1)!;
    await writeFile(payload, JSON.stringify(lastPush.body));
    const before = sim.installation()!;
    const io = { out: () => undefined, err: () => undefined, env: { BASE_URL: app.baseUrl } };
    const creds = ['--client-key', before.clientKey, '--shared-secret', before.sharedSecret, '--no-retry'];
    expect(await runSimulateReceive(['repo:push', payload, '--bare', ...creds], io)).toBe(0);

    const removed = await sim.uninstall();
    expect(removed.status).toBeLessThan(300);
    expect(await runSimulateReceive(['repo:push', payload, ...creds], io)).toBe(1);

    await sim.install();
    expect(sim.lifecycleCalls.at(-1)).toMatchObject({ event: 'installed', signed: true });
    const [push] = await sim.sendEvent(sim.repository('acme/web'), 'repo:push', (lastPush.body as { data: unknown }).data);
    expect(push?.attempts.at(-1)?.status).toBe(202);
  });

  it('delivered every push webhook and saw no API violations', () => {
    const pushes = sim.deliveries.filter((d) => d.event === 'repo:push');
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.every((d) => d.attempts.at(-1)?.status === 202)).toBe(true);
    expect(sim.violations).toEqual([]);
  });
});
