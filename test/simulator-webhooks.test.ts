import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/simulator/simulator.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { decodeHostJwt, expectedQsh, startFakeApp } from './simulator-fake-app.ts';
import type { FakeApp } from './simulator-fake-app.ts';

// Captured Bitbucket Cloud deliveries, vendored byte-exact (see fixtures/bitbucket-payloads/SOURCES.md).
const REFERENCE = path.resolve(import.meta.dirname, 'fixtures/bitbucket-payloads/cloud');

/** The `data` of a captured Connect delivery ({headers, payload: {event, data}}). */
function reference(file: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(path.join(REFERENCE, file), 'utf8')) as { payload: { data: Record<string, unknown> } };
  return json.payload.data;
}

const keys = (value: unknown) => Object.keys(value as object).sort();
const obj = (value: unknown, ...pathParts: (string | number)[]) =>
  pathParts.reduce<unknown>((acc, p) => (acc as Record<string | number, unknown>)[p], value) as Record<string, unknown>;

let fake: FakeApp;
let sim: Simulator;

beforeEach(async () => {
  fake = await startFakeApp();
  sim = await startSimulator({ appBaseUrl: fake.baseUrl, retryDelayMs: 0, webhookTimeoutMs: 500 });
});

afterEach(async () => {
  await sim.stop();
  await fake.stop();
});

describe('lifecycle', () => {
  it('sends the first install unsigned and later ones signed with the previous secret', async () => {
    await sim.install();
    await sim.install();
    await sim.uninstall();
    await sim.install();
    const [first, second, uninstall, third] = fake.lifecycle;
    expect(first?.headers.authorization).toBeUndefined();
    const firstBody = first?.body as Record<string, string>;
    expect(firstBody).toMatchObject({ key: 'gatehouse-test', productType: 'bitbucket', eventType: 'installed', baseUrl: sim.webOrigin, baseApiUrl: sim.apiOrigin });
    expect(firstBody.clientKey).toMatch(/^ari:cloud:bitbucket::app\/\{[0-9a-f-]+\}\/gatehouse-test$/);

    const claims = decodeHostJwt(second?.headers.authorization, firstBody.sharedSecret as string);
    expect(claims).toMatchObject({ iss: firstBody.clientKey, qsh: expectedQsh('POST', `${fake.baseUrl}/lifecycle/installed`, fake.baseUrl) });
    const secondSecret = (second?.body as Record<string, string>).sharedSecret as string;
    expect(secondSecret).not.toBe(firstBody.sharedSecret);

    expect(uninstall?.path).toBe('/lifecycle/uninstalled');
    expect(decodeHostJwt(uninstall?.headers.authorization, secondSecret)).toMatchObject({ qsh: expectedQsh('POST', `${fake.baseUrl}/lifecycle/uninstalled`, fake.baseUrl) });
    // The first install after an uninstall is signed too, with the last secret.
    expect(() => decodeHostJwt(third?.headers.authorization, secondSecret)).not.toThrow();
  });

  it('appends module paths to a baseUrl with a path, and signs qsh relative to that path', async () => {
    const prefixed = await startFakeApp({}, '/gatehouse');
    const other = await startSimulator({ appBaseUrl: prefixed.baseUrl, retryDelayMs: 0 });
    try {
      await other.install();
      await other.install();
      await other.createRepository('acme', 'p');
      await other.createBranch('acme/p', 'b');
      const inst = other.installation()!;
      const firstSecret = (prefixed.lifecycle[0]?.body as Record<string, string>).sharedSecret as string;
      expect(prefixed.lifecycle.map((c) => c.path)).toEqual(['/lifecycle/installed', '/lifecycle/installed']);
      expect(decodeHostJwt(prefixed.lifecycle[1]?.headers.authorization, firstSecret).qsh).toBe(expectedQsh('POST', `${prefixed.baseUrl}/lifecycle/installed`, prefixed.baseUrl));
      expect(expectedQsh('POST', `${prefixed.baseUrl}/webhooks`, prefixed.baseUrl)).not.toBe(expectedQsh('POST', `${prefixed.baseUrl}/webhooks`, new URL(prefixed.baseUrl).origin));
      expect(decodeHostJwt(prefixed.webhooks[0]?.headers.authorization, inst.sharedSecret).qsh).toBe(expectedQsh('POST', `${prefixed.baseUrl}/webhooks`, prefixed.baseUrl));
      const panel = new URL(other.panelUrl('/panels/repo?repo={repository.full_name}', { 'repository.full_name': 'acme/p' }, inst.clientKey));
      expect(panel.pathname).toBe('/gatehouse/panels/repo');
    } finally {
      await other.stop();
      await prefixed.stop();
    }
  });

  it('refuses to install a descriptor Bitbucket would reject', async () => {
    const bad = await startFakeApp({ scopes: ['repository', 'not-a-scope'] });
    const other = await startSimulator({ appBaseUrl: bad.baseUrl });
    try {
      await expect(other.install()).rejects.toThrow(/not-a-scope/);
    } finally {
      await other.stop();
      await bad.stop();
    }
  });
});

describe('webhooks', () => {
  beforeEach(async () => {
    await sim.install();
    await sim.createRepository('acme', 'hooks');
  });

  it('signs each delivery and sends the headers Bitbucket sends', async () => {
    await sim.createBranch('acme/hooks', 'feature');
    const call = fake.webhooks[0]!;
    const h = call.headers;
    expect(h['x-event-key']).toBe('repo:push');
    expect(h['user-agent']).toBe('Bitbucket-Webhooks/2.0');
    expect(h['x-attempt-number']).toBe('1');
    expect(h['x-request-uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(h['x-hook-uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(String(h['x-event-time'])).getTime()).not.toBeNaN();
    const inst = sim.installation()!;
    expect(decodeHostJwt(h.authorization, inst.sharedSecret)).toMatchObject({ iss: inst.clientKey, qsh: expectedQsh('POST', `${fake.baseUrl}/webhooks`, fake.baseUrl) });
    expect(call.body).toMatchObject({ event: 'repo:push', data: { push: { changes: [{ created: true, old: null }] } } });
  });

  it('retries after a 5xx up to twice more with the same X-Request-UUID', async () => {
    fake.webhookStatuses.push(500, 503, 500);
    const [delivery] = await sim.sendEvent(sim.repository('acme/hooks'), 'repo:push', { push: { changes: [] } });
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 503, 500]);
    expect(fake.webhooks.map((w) => w.headers['x-attempt-number'])).toEqual(['1', '2', '3']);
    expect(new Set(fake.webhooks.map((w) => w.headers['x-request-uuid'])).size).toBe(1);
  });

  it('retries after a timeout and stops at the first answer below 500', async () => {
    fake.webhookStallMs = 1500;
    fake.webhookStatuses.push(202, 400);
    const [delivery] = await sim.sendEvent(sim.repository('acme/hooks'), 'repo:push', { push: { changes: [] } });
    expect(delivery?.attempts[0]?.error).toMatch(/timed out/);
    expect(delivery?.attempts.slice(1).map((a) => a.status)).toEqual([400]);
  });

  it('can send bare bodies', async () => {
    const bare = await startSimulator({ appBaseUrl: fake.baseUrl, webhookFormat: 'bare', retryDelayMs: 0 });
    try {
      await bare.install();
      await bare.createRepository('acme', 'bare');
      await bare.createBranch('acme/bare', 'b');
      expect(keys(fake.webhooks.at(-1)?.body)).toEqual(['actor', 'push', 'repository']);
    } finally {
      await bare.stop();
    }
  });

  it('sends push and pull-request payloads with the key sets of real deliveries', async () => {
    await sim.createBranch('acme/hooks', 'feature');
    await sim.commit('acme/hooks', 'feature', { 'a.txt': 'a\n' }, 'Add a');
    const pr = await sim.openPullRequest('acme/hooks', { source: 'feature', title: 'Feature' });
    await sim.updatePullRequest('acme/hooks', pr.id, { 'b.txt': 'b\n' }, 'Add b');
    await sim.mergePullRequest('acme/hooks', pr.id);
    const byEvent = (event: string) => fake.webhooks.filter((w) => w.headers['x-event-key'] === event).map((w) => obj(w.body, 'data'));
    expect(fake.webhooks.map((w) => w.headers['x-event-key'])).toEqual([
      'repo:push', 'repo:push', 'pullrequest:created', 'repo:push', 'pullrequest:updated', 'pullrequest:fulfilled', 'repo:push',
    ]);

    const refCreated = reference('pullrequest-created/toolchain-connect.json');
    const created = byEvent('pullrequest:created')[0]!;
    expect(keys(created)).toEqual(keys(refCreated));
    // draft and queued appear on newer pull requests than the 2021 capture.
    expect(keys(created.pullrequest).filter((k) => k !== 'draft' && k !== 'queued')).toEqual(keys(refCreated.pullrequest));
    expect(keys(created.repository)).toEqual(keys(refCreated.repository));
    expect(keys(created.actor)).toEqual(keys(refCreated.actor));
    expect(keys(obj(created, 'pullrequest', 'links'))).toEqual(keys(obj(refCreated, 'pullrequest', 'links')));
    expect(keys(obj(created, 'pullrequest', 'source'))).toEqual(keys(obj(refCreated, 'pullrequest', 'source')));
    expect(obj(created, 'pullrequest', 'source', 'commit').hash).toHaveLength(12);

    const refMerge = reference('repo-push/toolchain-connect--repo_push_pr_merge.json');
    const push = byEvent('repo:push').at(-1)!;
    const change = obj(push, 'push', 'changes', 0);
    const refChange = obj(refMerge, 'push', 'changes', 0);
    expect(keys(push)).toEqual(keys(refMerge));
    expect(keys(change)).toEqual(keys(refChange));
    expect(keys(change.new)).toEqual(keys(refChange.new));
    // The captured merge push lists no commits; a branch push does.
    const refBranchPush = reference('repo-push/toolchain-connect--repo_push_create_branch.json');
    expect(keys(obj(change, 'commits', 0))).toEqual(keys(obj(refBranchPush, 'push', 'changes', 0, 'commits', 0)));
    expect(keys(change.links)).toEqual(keys(refChange.links));
    expect(obj(change, 'new', 'target').hash).toHaveLength(40);
    expect((obj(change, 'new', 'target').parents as unknown[]).length).toBe(2);

    const fulfilled = byEvent('pullrequest:fulfilled')[0]!;
    expect(obj(fulfilled, 'pullrequest')).toMatchObject({ state: 'MERGED', merge_commit: { type: 'commit' } });
    expect(obj(fulfilled, 'pullrequest', 'merge_commit').hash).toHaveLength(12);
  });

  it('refuses a missing branch, a bad slug or a path outside the repository, without sending anything', async () => {
    const before = fake.webhooks.length;
    await expect(sim.commit('acme/hooks', 'nowhere', { 'a.txt': 'a' }, 'x')).rejects.toThrow(/createBranch/);
    await expect(sim.createRepository('acme', '../escape')).rejects.toThrow(/invalid slug/);
    await expect(sim.commit('acme/hooks', 'main', { '../a.txt': 'a' }, 'x')).rejects.toThrow(/invalid repository path/);
    expect(fake.webhooks.length).toBe(before);
  });

  it('sends pullrequest:rejected when a pull request is declined', async () => {
    await sim.createBranch('acme/hooks', 'nope');
    const pr = await sim.openPullRequest('acme/hooks', { source: 'nope', title: 'No' });
    await sim.declinePullRequest('acme/hooks', pr.id);
    const last = fake.webhooks.at(-1)!;
    expect(last.headers['x-event-key']).toBe('pullrequest:rejected');
    expect(obj(last.body, 'data', 'pullrequest').state).toBe('DECLINED');
  });
});
