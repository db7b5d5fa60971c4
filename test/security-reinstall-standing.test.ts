import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/core/policy.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { bitbucketIssued, install, installBody, newTenant, signFor, startTestApp, type Tenant, type TestApp } from './helpers/connect-tenant.ts';

/**
 * An uninstall destroys the tenant's shared secret, so the next install of that clientKey
 * cannot be authenticated and anyone who knows the clientKey may make it (lifecycle.ts,
 * decideInstall). Whoever does must start from nothing: the previous installation's
 * policy, triage marks (with reasons and repository uuids), pull requests, scans and SBOMs
 * must not be readable with the new installer's self-chosen secret.
 */

const INSTALLED = '/connect/lifecycle/installed';
const UNINSTALLED = '/connect/lifecycle/uninstalled';
const REPO = '{7e8c1a90-3b1f-4d6a-9c2e-5f4b3a2d1c0e}';
const FINGERPRINT = 'a'.repeat(64);

let t: TestApp;
let victim: Tenant;
beforeEach(async () => {
  t = await startTestApp();
  victim = newTenant();
  await install(t, victim);
  const at = t.clock.now.toISOString();
  await t.results.putPolicy(victim.clientKey, { ...structuredClone(DEFAULT_POLICY), ignoredPaths: ['secret-project/**'] });
  await t.results.putTriage({ clientKey: victim.clientKey, repoUuid: REPO, fingerprint: FINGERPRINT, status: 'ignored', by: '{u}', at, reason: 'prod key, rotation pending' });
  await t.results.putScan({
    clientKey: victim.clientKey,
    repoUuid: REPO,
    commit: 'c'.repeat(40),
    kind: 'push',
    prId: null,
    result: 'FAILED',
    counts: { critical: 1, high: 0, medium: 0, low: 0, new: 1, existing: 0, triaged: 0 },
    durationMs: 1,
    skipped: [],
    notices: [],
    createdAt: at,
    findings: [],
  });
  const res = await request(t.app).post(UNINSTALLED).set('Authorization', `JWT ${signFor(t, victim, 'POST', UNINSTALLED)}`).send({ ...installBody(victim), eventType: 'uninstalled' });
  expect(res.status).toBe(204);
});
afterEach(async () => t.close());

describe('a fresh install over an uninstalled clientKey', () => {
  it("cannot read the previous installation's policy, triage marks or scans", async () => {
    // Whoever installs next (Bitbucket confirms the new secret; the installing admin may be
    // someone else entirely) starts from nothing. A self-chosen secret is refused outright.
    const forged: Tenant = { clientKey: victim.clientKey, sharedSecret: 'squatter-chosen-secret-0123456789abcdef' };
    expect((await request(t.app).post(INSTALLED).send(installBody(forged))).status).toBe(401);
    const squatter = bitbucketIssued({ clientKey: victim.clientKey, sharedSecret: 'next-installation-secret-0123456789abcdef' });
    expect((await request(t.app).post(INSTALLED).send(installBody(squatter))).status).toBe(204);

    const policy = await request(t.app).get('/api/policy').set('Authorization', `JWT ${signFor(t, squatter, 'GET', '/api/policy')}`);
    expect(policy.status).toBe(200);
    expect(policy.body.isDefault).toBe(true);
    expect(JSON.stringify(policy.body)).not.toContain('secret-project');

    const triage = await request(t.app).get('/api/triage').set('Authorization', `JWT ${signFor(t, squatter, 'GET', '/api/triage')}`);
    expect(triage.status).toBe(200);
    expect(triage.body.marks).toEqual([]);

    expect(await t.results.listScans(victim.clientKey)).toEqual([]);
  });

  it('keeps everything of an installation that is replaced by a signed reinstall', async () => {
    // Control: a reinstall of a live installation (signed with its stored secret) is the same tenant.
    const other = newTenant();
    await install(t, other);
    await t.results.putTriage({ clientKey: other.clientKey, repoUuid: REPO, fingerprint: FINGERPRINT, status: 'false_positive', by: '{u}', at: t.clock.now.toISOString(), reason: 'test data' });
    const next = { ...other, sharedSecret: 'rotated-secret-0123456789abcdef0123' };
    const res = await request(t.app).post(INSTALLED).set('Authorization', `JWT ${signFor(t, other, 'POST', INSTALLED)}`).send(installBody(next));
    expect(res.status).toBe(204);
    expect(await t.results.listTriage(other.clientKey)).toHaveLength(1);
  });
});

describe('forgetTenant', () => {
  it('stays forgotten after the results store is reopened, and leaves other tenants alone', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-forget-'));
    try {
      const mark = (clientKey: string) => ({ clientKey, repoUuid: REPO, fingerprint: FINGERPRINT, status: 'ignored' as const, by: '{u}', at: new Date(0).toISOString(), reason: 'r' });
      const first = new JournalResultsStore({ dataDir });
      await first.open();
      await first.putTriage(mark('gone'));
      await first.putTriage(mark('kept'));
      await first.putPolicy('gone', structuredClone(DEFAULT_POLICY));
      await first.forgetTenant('gone');
      await first.close();

      const reopened = new JournalResultsStore({ dataDir });
      await reopened.open();
      expect(await reopened.listTriage('gone')).toEqual([]);
      expect(await reopened.getPolicy('gone')).toBeUndefined();
      expect(await reopened.listTriage('kept')).toHaveLength(1);
      await reopened.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
