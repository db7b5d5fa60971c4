import express from 'express';
import { createPublicKey } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import jsonwebtoken from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalForge } from '../src/simulator/forge/local-forge.ts';
import { newAppId } from '../src/simulator/forge/tokens.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';

// The local Forge against a minimal remote that records what reaches it and shares no code
// with the simulator: FITs checked with jsonwebtoken against the JWKS fetched over HTTP.

interface Call {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface Remote {
  baseUrl: string;
  calls: Call[];
  /** Statuses for the next trigger answers (then 200). */
  statuses: number[];
  stop(): Promise<void>;
}

async function startRemote(): Promise<Remote> {
  const app = express();
  const state: Pick<Remote, 'calls' | 'statuses'> = { calls: [], statuses: [] };
  app.use(express.json());
  app.all('/forge/{*rest}', (req, res) => {
    state.calls.push({ path: req.path, headers: req.headers, body: req.body });
    if (req.path.startsWith('/forge/ui/')) {
      res.json({ echo: req.body ?? null, method: req.method });
      return;
    }
    const status = state.statuses.shift() ?? 200;
    res.status(status).json({ status });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    ...state,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const APP_ID = newAppId();

function manifest(remoteUrl: string, scopes: string[]): string {
  return `app:
  id: ${APP_ID}
  runtime:
    name: nodejs22.x
remotes:
  - key: gatehouse
    baseUrl: ${remoteUrl}
    operations: [compute]
permissions:
  scopes:
${scopes.map((s) => `    - ${s}`).join('\n')}
modules:
  endpoint:
    - key: events
      remote: gatehouse
      route: { path: /forge/events }
      auth: { appSystemToken: { enabled: true } }
    - key: lifecycle
      remote: gatehouse
      route: { path: /forge/lifecycle }
      auth: { appSystemToken: { enabled: true } }
    - key: scheduled
      remote: gatehouse
      route: { path: /forge/scheduled }
      auth: { appSystemToken: { enabled: true } }
    - key: uninstall
      remote: gatehouse
      route: { path: /forge/uninstall }
      auth: { appSystemToken: { enabled: true } }
    - key: ui
      remote: gatehouse
      auth: { appSystemToken: { enabled: true }, appUserToken: { enabled: true } }
  trigger:
    - key: bitbucket-events
      endpoint: events
      events: [avi:bitbucket:created:pullrequest, avi:bitbucket:updated:pullrequest, avi:bitbucket:push:repository]
    - key: app-lifecycle
      endpoint: lifecycle
      events: [avi:forge:installed:app, avi:forge:upgraded:app]
  scheduledTrigger:
    - key: hourly
      endpoint: scheduled
      interval: hour
  preUninstall:
    - key: pre-uninstall
      endpoint: uninstall
  bitbucket:repoPullRequestOverviewPanel:
    - key: pr-panel
      resource: pull-request-panel
      resolver: { endpoint: ui }
      title: Gatehouse
  bitbucket:workspaceSettingsMenuPage:
    - key: settings
      resource: settings
      resolver: { endpoint: ui }
      title: Gatehouse settings
resources:
  - key: pull-request-panel
    path: static/pull-request-panel
  - key: settings
    path: static/settings
`;
}

const FORGE_DIR = path.resolve(import.meta.dirname, '..', 'forge');
const SCOPES = ['read:repository:bitbucket', 'read:pullrequest:bitbucket', 'write:pullrequest:bitbucket'];

async function verifyFit(forge: LocalForge, header: unknown) {
  const token = String(header).replace(/^Bearer /, '');
  const jwks = (await (await fetch(forge.jwksUrl)).json()) as { keys: Record<string, unknown>[] };
  const { header: jwtHeader } = jsonwebtoken.decode(token, { complete: true })!;
  const jwk = jwks.keys.find((k) => k.kid === jwtHeader.kid);
  if (!jwk) throw new Error('kid not in the JWKS');
  return jsonwebtoken.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['RS256'], audience: APP_ID, issuer: 'forge/invocation-token' }) as jsonwebtoken.JwtPayload;
}

describe('local Forge', () => {
  let remote: Remote;
  let sim: Simulator;
  let forge: LocalForge;

  beforeAll(async () => {
    remote = await startRemote();
    sim = await startSimulator({ appBaseUrl: remote.baseUrl, retryDelayMs: 0 });
    forge = await LocalForge.start({ sim, appId: APP_ID, retryDelayMs: 0 });
    expect(() => forge.deploy(manifest(remote.baseUrl, SCOPES).replace(APP_ID, 'ari:cloud:ecosystem::app/other'), FORGE_DIR)).toThrow(/another app|registered/);
    forge.deploy(manifest(remote.baseUrl, SCOPES), FORGE_DIR);
    await sim.createRepository('acme', 'web');
    await forge.install('acme');
  });

  afterAll(async () => {
    await forge?.stop();
    await sim?.stop();
    await remote?.stop();
  });

  afterEach(() => {
    remote.calls.length = 0;
    remote.statuses.length = 0;
  });

  const api = (url: string, token: string, init: RequestInit = {}) => fetch(`${sim.apiOrigin}/2.0${url}`, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } });

  it('installs with avi:forge:installed:app, a FIT that verifies against its JWKS and a system token the API accepts', async () => {
    const [delivery] = forge.deliveries.filter((d) => d.eventType === 'avi:forge:installed:app');
    expect(delivery?.acknowledged).toBe(true);
    const install = forge.installation('acme')!;
    // The install call happened in beforeAll; an upgrade shows the same wire.
    await forge.upgrade('acme', '2');
    const call = remote.calls.filter((c) => c.path === '/forge/lifecycle').at(-1)!;
    expect(call.body).toMatchObject({ eventType: 'avi:forge:upgraded:app', app: { version: '2.0.0' }, context: `ari:cloud:bitbucket::workspace/${install.workspace.uuid.slice(1, -1)}` });
    const claims = await verifyFit(forge, call.headers.authorization);
    expect(claims.app).toMatchObject({
      id: APP_ID,
      installationId: install.installationId,
      version: '2',
      installation: { contexts: [{ name: 'bitbucket', apiBaseUrl: sim.apiOrigin, workspaceId: install.workspace.uuid.slice(1, -1) }] },
    });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    const system = String(call.headers['x-forge-oauth-system']);
    expect((await api('/repositories/acme/web', system)).status).toBe(200);
    expect((await api('/repositories/acme/web', 'not-a-token')).status).toBe(401);
  });

  it('delivers pull-request events with short hashes and push events with full ones, in Forge shapes', async () => {
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'a.txt': 'a\n' }, 'Add a');
    const pr = await sim.openPullRequest('acme/web', { source: 'feature', title: 'Add a' });
    type Pushed = { eventType: string; push: { ref: string; after?: string; commits: unknown[] } };
    const events = remote.calls.filter((c) => c.path === '/forge/events').map((c) => c.body as Pushed);
    const push = events.find((e) => e.eventType === 'avi:bitbucket:push:repository' && e.push.ref === 'feature' && e.push.commits.length > 0)!;
    expect(push.push.after).toMatch(/^[0-9a-f]{40}$/);
    const created = events.find((e) => e.eventType === 'avi:bitbucket:created:pullrequest')!;
    expect(created).toMatchObject({
      repository: { uuid: sim.repository('acme/web').uuid, slug: 'web' },
      workspace: { uuid: expect.stringMatching(/^\{[0-9a-f-]{36}\}$/) },
      pullrequest: { id: pr.id, state: 'OPEN', source: { branch: 'feature', commit: { hash: pr.sourceHash.slice(0, 12) } }, title: { value: 'Add a' } },
    });
    expect(created).not.toHaveProperty('links');
  });

  it('retries a failed delivery with the body wrapped in {payload} and a new FIT each time', async () => {
    remote.statuses.push(503, 500);
    const [delivery] = await forge.sendEvent('acme', 'avi:bitbucket:updated:pullrequest', { eventType: 'avi:bitbucket:updated:pullrequest', marker: 1 });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([503, 500, 200]);
    expect(new Set(delivery!.attempts.map((a) => a.fitId)).size).toBe(3);
    const bodies = remote.calls.map((c) => c.body);
    expect(bodies[0]).toEqual({ eventType: 'avi:bitbucket:updated:pullrequest', marker: 1 });
    expect(bodies[1]).toMatchObject({ payload: { marker: 1 }, retryContext: { retryCount: 1 } });
    expect(bodies[2]).toMatchObject({ payload: { marker: 1 }, retryContext: { retryCount: 2 } });
  });

  it('stops after four retries', async () => {
    remote.statuses.push(503, 503, 503, 503, 503, 503);
    const [delivery] = await forge.sendEvent('acme', 'avi:bitbucket:push:repository', { eventType: 'avi:bitbucket:push:repository' });
    expect(delivery!.attempts).toHaveLength(5);
    expect(delivery!.acknowledged).toBe(false);
  });

  it('refuses an expired system token and one without the scope an endpoint needs', async () => {
    forge.systemTokenTtlSeconds = -1;
    await forge.runScheduledTriggers();
    forge.systemTokenTtlSeconds = 3 * 3600;
    const expired = String(remote.calls.find((c) => c.path === '/forge/scheduled')!.headers['x-forge-oauth-system']);
    const answer = await api('/repositories/acme/web', expired);
    expect(answer.status).toBe(401);
    expect(await answer.text()).toMatch(/expired/);

    // Webhooks need read:webhook:bitbucket, which the manifest does not ask for.
    await forge.runScheduledTriggers();
    const fresh = String(remote.calls.at(-1)!.headers['x-forge-oauth-system']);
    expect((await api('/repositories/acme/web/hooks', fresh)).status).toBe(403);
  });

  it('signs Custom UI calls for the frame\'s context, with the user and their token', async () => {
    const repo = sim.repository('acme/web');
    const page = await (await fetch(`${sim.webOrigin}/acme/web/pull-requests/1`)).text();
    const src = /<iframe class="ap-panel forge-panel" src="([^"]+)"/.exec(page)?.[1];
    expect(src).toMatch(new RegExp(`^${forge.origin}/frame/`));
    const frame = src!.slice(src!.lastIndexOf('/') + 1);
    const frameHtml = await (await fetch(src!)).text();
    expect(frameHtml).toContain(`/cdn/${frame}/index.html`);
    const index = await fetch(`${forge.origin}/cdn/${frame}/index.html`);
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await index.text()).toMatch(/<head>\s*<script src="\/_forge\/static\/forge-bridge.js"><\/script>/);

    // A body naming another repository does not change what the FIT says.
    const invoked = await fetch(`${forge.origin}/_forge/invoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ frame, path: '/forge/ui/pull-request', method: 'POST', body: { repository: '{00000000-0000-0000-0000-000000000000}' } }),
    });
    expect(await invoked.json()).toMatchObject({ success: true, payload: { status: 200, body: { method: 'POST' } } });
    const call = remote.calls.find((c) => c.path === '/forge/ui/pull-request')!;
    const claims = await verifyFit(forge, call.headers.authorization);
    expect(claims.context).toEqual({
      workspaceId: repo.workspace.uuid,
      moduleKey: 'pr-panel',
      extension: { repository: { uuid: repo.uuid }, pullRequest: { id: 1 } },
    });
    expect(claims.principal).toBe(sim.user.account_id);
    expect(claims.app).toMatchObject({ module: { type: 'bitbucket:repoPullRequestOverviewPanel', key: 'pr-panel' } });
    expect(call.headers['x-forge-oauth-user']).toBeTruthy();
    expect((await api('/repositories/acme/web', String(call.headers['x-forge-oauth-user']))).status).toBe(200);

    const unknown = await fetch(`${forge.origin}/_forge/invoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ frame: 'nope', path: '/forge/ui/pull-request', method: 'POST' }) });
    expect(await unknown.json()).toMatchObject({ success: false, error: { status: 404 } });
    expect((await fetch(`${forge.origin}/cdn/${frame}/../../package.json`)).status).toBe(404);
  });

  it('shows the settings page frame on the workspace settings page', async () => {
    const page = await fetch(`${sim.webOrigin}/acme/workspace/settings/forge`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`${forge.origin}/frame/`);
  });

  it('serves the JWKS as 503 during an outage', async () => {
    forge.jwksAvailable = false;
    expect((await fetch(forge.jwksUrl)).status).toBe(503);
    forge.jwksAvailable = true;
    expect((await fetch(forge.jwksUrl)).status).toBe(200);
  });

  it('sends preUninstall, then every token of the installation is refused', async () => {
    await forge.runScheduledTriggers();
    const token = String(remote.calls.at(-1)!.headers['x-forge-oauth-system']);
    const [pre] = await forge.uninstall('acme');
    expect(pre).toMatchObject({ eventType: 'preUninstall', acknowledged: true });
    expect(remote.calls.at(-1)!.path).toBe('/forge/uninstall');
    expect((await api('/repositories/acme/web', token)).status).toBe(401);
    expect(forge.installation('acme')).toBeUndefined();
    // A reinstall is a new installation.
    await forge.install('acme');
    expect(forge.installation('acme')!.installationId).not.toBe(forge.deliveries[0]!.installationId);
  });
});
