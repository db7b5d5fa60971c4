import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobGroupOf } from '../src/core/events.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles, pullRequestFixFiles } from '../src/simulator/demo-repository.ts';
import { deliver } from '../src/simulator/datacenter/delivery.ts';
import { waitForDatacenterResults } from '../src/simulator/datacenter/results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession, type RegisteredInstance } from '../src/simulator/datacenter/session.ts';
import { until } from './helpers/until.ts';

// The app against the local Data Center, registered through the operator API as an operator
// would (token checked, project webhook installed with a generated secret): a pull request
// that leaks an AWS key pair, then its fix; and what goes wrong on the way.

const REPO = `SEC/${DEMO_REPOSITORY.slug}`;
const TIMEOUT = 60_000;

let session: DatacenterSession;
let instance: RegisteredInstance;
let dataDir: string;

async function openLeakingPullRequest(branch: string) {
  await session.dc.createBranch(REPO, branch);
  const leaked = fakeAwsKeyPair();
  await session.dc.commit(REPO, branch, pullRequestFiles(leaked), 'Add the nightly S3 export');
  const pr = await session.dc.openPullRequest(REPO, { from: branch, title: DEMO_REPOSITORY.title });
  return { pr, leaked };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-dc-'));
  // Jobs without usable credentials look again every 300 ms here (5 minutes by default).
  session = await startDatacenterSession({ dataDir, pipeline: { credentialsWaitMs: 300 } });
  await session.dc.createRepository('SEC', DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
  const token = newAccessToken();
  session.dc.addToken(token, 'PROJECT_ADMIN');
  instance = await session.register({ name: 'Local DC', token, project: 'SEC' });
}, 60_000);

afterAll(async () => {
  await session?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('Bitbucket Data Center end to end, on the local Data Center', { timeout: 120_000 }, () => {
  it('fails a leaking pull request (report, annotations on the lines, build status, one comment), then passes its fix editing the same comment', async () => {
    const { pr, leaked } = await openLeakingPullRequest(DEMO_REPOSITORY.branch);
    const failing = await waitForDatacenterResults(session.dc, REPO, pr.id, TIMEOUT);
    expect(failing.report.body).toMatchObject({ result: 'FAIL' });
    const env = failing.report.annotations.filter((a) => a.path === 'config/deploy.env');
    // The key id is on line 3 of config/deploy.env, the secret on line 4.
    expect(env.map((a) => a.line).sort()).toEqual([3, 4]);
    expect(env.every((a) => a.severity === 'HIGH' && a.type === 'VULNERABILITY')).toBe(true);
    expect(failing.build.body).toMatchObject({ state: 'FAILED', ref: `refs/heads/${DEMO_REPOSITORY.branch}`, key: 'gatehouse-security' });
    expect(failing.comments).toBe(1);
    expect(JSON.stringify(failing)).not.toContain(leaked.secretAccessKey);

    await session.dc.updatePullRequest(REPO, pr.id, pullRequestFixFiles(), 'Read AWS credentials from the role');
    const fixed = await waitForDatacenterResults(session.dc, REPO, pr.id, TIMEOUT);
    expect(fixed.commit).not.toBe(failing.commit);
    expect(fixed.report.body.result).toBe('PASS');
    expect(fixed.build.body.state).toBe('SUCCESSFUL');
    expect(fixed.comments).toBe(1);
    expect(fixed.comment.id).toBe(failing.comment.id);
    expect(fixed.comment.version).toBeGreaterThan(failing.comment.version);
    expect(session.dc.violations).toEqual([]);
  });

  it('refuses a delivery with a wrong signature (401) and one for an unknown instance (404), recording nothing', async () => {
    const body = JSON.stringify({ eventKey: 'pr:opened' });
    const forged = await deliver({ eventKey: 'pr:opened', webhookId: 0, url: instance.webhookUrl, secret: 'not-the-secret', body });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.answer)).toMatchObject({ error: { code: 'bad_signature' } });
    const unknown = await deliver({ eventKey: 'pr:opened', webhookId: 0, url: instance.webhookUrl.replace(instance.instanceId, 'f'.repeat(24)), secret: 'x', body });
    expect(unknown.status).toBe(404);
    expect(await session.app.store!.listJobs({ clientKey: `datacenter:${instance.instanceId}`, type: 'event:pull_request:opened' })).toHaveLength(1);
  });

  it('honours a 429 with Retry-After from the instance and still publishes', async () => {
    const { pr } = await (async () => {
      session.dc.addFault({ pathPattern: /\/pull-requests\/2$/, method: 'GET', count: 1, kind: '429-retry-after', retryAfterSeconds: 1 });
      return openLeakingPullRequest('feature/rate-limited');
    })();
    const published = await waitForDatacenterResults(session.dc, REPO, pr.id, TIMEOUT);
    expect(published.report.body.result).toBe('FAIL');
    const reads = session.dc.calls.filter((c) => c.method === 'GET' && /\/pull-requests\/2$/.test(c.path));
    expect(reads[0]!.status).toBe(429);
    // The next read waited for what Retry-After asked.
    expect(reads[1]!.at - reads[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('a revoked token marks the instance token_revoked and the job waits (not dead); registering a new token resumes it', async () => {
    session.dc.revokeToken(session.token);
    const { pr } = await openLeakingPullRequest('feature/after-revocation');
    const status = await until('the instance to be token_revoked', async () => {
      const { body } = await session.admin(`/admin/datacenter/instances/${instance.instanceId}`);
      return body.status === 'token_revoked' ? body : undefined;
    });
    expect(String((status.lastError as { message: string }).message)).toMatch(/refused the access token/);
    expect(JSON.stringify(status)).not.toContain(session.token);

    const store = session.app.store!;
    const group = jobGroupOf({ type: 'pull_request', repository: { uuid: `{dc-${instance.instanceId}-1}` }, pullRequest: { id: pr.id } } as Parameters<typeof jobGroupOf>[0]);
    const waiting = await until('the job to wait', async () => {
      const [job] = await store.listJobs({ clientKey: `datacenter:${instance.instanceId}`, group, newestFirst: true, limit: 1 });
      return job && job.status === 'queued' && job.lastError ? job : undefined;
    });
    expect(waiting.attempts).toBe(0);
    expect(await store.listJobs({ clientKey: `datacenter:${instance.instanceId}`, status: 'dead' })).toEqual([]);

    // The operator creates a new token in Data Center and registers it under the same name.
    const fresh = newAccessToken();
    session.dc.addToken(fresh, 'PROJECT_ADMIN');
    const again = await session.register({ name: 'Local DC', token: fresh, project: 'SEC' });
    expect(again).toMatchObject({ instanceId: instance.instanceId, status: 'ok' });
    const published = await waitForDatacenterResults(session.dc, REPO, pr.id, TIMEOUT);
    expect(published.report.body.result).toBe('FAIL');
    expect(published.comments).toBe(1);
  });

  it('shows the instance\'s results on the operator API, and a deleted pull request as DELETED', async () => {
    const results = await session.admin(`/admin/datacenter/instances/${instance.instanceId}/results`);
    expect(results.status).toBe(200);
    const repo = (results.body.repositories as { repository: string; pullRequests: { id: number; state: string; lastResult: string }[] }[]).find((r) => r.repository === REPO)!;
    expect(repo.pullRequests.find((p) => p.id === 1)).toMatchObject({ state: 'OPEN', lastResult: 'PASSED' });
    expect(repo.pullRequests.find((p) => p.id === 2)).toMatchObject({ state: 'OPEN', lastResult: 'FAILED' });

    const one = await session.admin(`/admin/datacenter/instances/${instance.instanceId}/results/pull-request?repository=${REPO}&id=2`);
    expect(one.body).toMatchObject({ state: 'OPEN', prId: 2, verdict: { state: 'failed' }, newCount: expect.any(Number) });
    expect(JSON.stringify(one.body)).toContain('config/deploy.env');
    // Links to Data Center's own pages: the pull request, and each finding's line at the scanned commit.
    const web = `${session.dc.baseUrl}/projects/SEC/repos/${DEMO_REPOSITORY.slug}`;
    expect(repo.pullRequests.find((p) => p.id === 2)).toMatchObject({ url: `${web}/pull-requests/2` });
    expect(one.body.url).toBe(`${web}/pull-requests/2`);
    const findings = (one.body.newGroups as { findings: { path: string; line: number; sourceHref: string }[] }[]).flatMap((g) => g.findings);
    const keyId = findings.find((f) => f.path === 'config/deploy.env' && f.line === 3)!;
    expect(keyId.sourceHref).toBe(`${web}/browse/config/deploy.env?at=${String(one.body.commit)}#3`);
    const refused = await fetch(`${session.appBaseUrl}/admin/datacenter/instances/${instance.instanceId}/results`);
    expect(refused.status).toBe(401);

    await session.dc.deletePullRequest(REPO, 2);
    await until('pull request #2 to be recorded as deleted', async () => {
      const { body } = await session.admin(`/admin/datacenter/instances/${instance.instanceId}/results/pull-request?repository=${REPO}&id=2`);
      return body.state === 'DELETED' ? body : undefined;
    });
  });
});
