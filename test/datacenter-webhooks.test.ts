import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptSecret } from '../src/crypto.ts';
import { HANDLED_DATACENTER_EVENTS } from '../src/datacenter/events/index.ts';
import { WEBHOOK_EVENTS } from '../src/datacenter/instance-api.ts';
import { datacenterInstancesIn } from '../src/store/datacenter-instance-file.ts';
import { startTestApp, type TestApp } from './helpers/connect-tenant.ts';
import { DC_FIXTURES, postDcWebhook, readDcFixture, registerInstance, type RegisteredInstance } from './helpers/datacenter.ts';

let t: TestApp;
let dc: RegisteredInstance;
beforeEach(async () => {
  t = await startTestApp();
  dc = await registerInstance(t);
});
afterEach(async () => t.close());

type Expected = { status: 202; outcome: 'accepted'; jobType: string } | { status: 202; outcome: 'ignored'; reason?: RegExp } | { status: 200; outcome: 'ping' } | { status: 400; outcome: 'invalid'; problem: RegExp };

const accepted = (jobType: string): Expected => ({ status: 202, outcome: 'accepted', jobType });
const ignored = (reason?: RegExp): Expected => ({ status: 202, outcome: 'ignored', ...(reason ? { reason } : {}) });
const NOT_SUBSCRIBED = /does not act on/;
const NOTHING_TO_SCAN = /no branch gained commits/;
// Hand-anonymised upstream (SOURCES.md): hashes of 39 or 41 characters, or with a non-hex letter, which no Data Center sends.
const ANONYMISED = (field: RegExp): Expected => ({ status: 400, outcome: 'invalid', problem: field });

/** Every real delivery in the reference set, and what Gatehouse does with it. */
const EXPECTED: Record<string, Expected> = {
  'diagnostics-ping/jenkins-branch-source.json': { status: 200, outcome: 'ping' },
  'mirror-repo_synchronized/jenkins-branch-source.json': ignored(NOT_SUBSCRIBED),
  'pr-comment-added/atlantis.json': ignored(NOT_SUBSCRIBED),
  'pr-comment-added/go-playground-webhooks.json': ignored(NOT_SUBSCRIBED),
  'pr-comment-added/jenkins-push-pr.json': ignored(NOT_SUBSCRIBED),
  'pr-declined/atlantis.json': accepted('event:pull_request:declined'),
  'pr-declined/drone-go-scm.json': accepted('event:pull_request:declined'),
  'pr-declined/froggit-go.json': accepted('event:pull_request:declined'),
  'pr-declined/go-playground-webhooks.json': accepted('event:pull_request:declined'),
  'pr-declined/jenkins-push-pr.json': accepted('event:pull_request:declined'),
  'pr-deleted/drone-go-scm.json': accepted('event:pull_request:deleted'),
  'pr-deleted/froggit-go.json': accepted('event:pull_request:deleted'),
  'pr-deleted/go-playground-webhooks.json': accepted('event:pull_request:deleted'),
  'pr-deleted/jenkins-branch-source.json': accepted('event:pull_request:deleted'),
  'pr-from_ref_updated/drone-go-scm.json': accepted('event:pull_request:updated'),
  'pr-from_ref_updated/froggit-go.json': accepted('event:pull_request:updated'),
  'pr-from_ref_updated/jenkins-push-pr.json': ANONYMISED(/latestCommit: expected a full hex commit hash/),
  'pr-merged/atlantis.json': accepted('event:pull_request:merged'),
  'pr-merged/drone-go-scm.json': accepted('event:pull_request:merged'),
  'pr-merged/froggit-go.json': accepted('event:pull_request:merged'),
  'pr-merged/go-playground-webhooks.json': accepted('event:pull_request:merged'),
  'pr-merged/jenkins-push-pr.json': ANONYMISED(/latestCommit: expected a full hex commit hash/),
  // Its target changed from "wrong" to "master": what the pull request adds changed.
  'pr-modified/drone-go-scm.json': accepted('event:pull_request:updated'),
  'pr-modified/go-playground-webhooks.json': ignored(/title or description/),
  'pr-modified/jenkins-push-pr.json': ignored(/title or description/),
  'pr-opened/atlantis.json': accepted('event:pull_request:opened'),
  'pr-opened/drone-go-scm--pr_open.json': accepted('event:pull_request:opened'),
  'pr-opened/drone-go-scm--pr_open_iso_dates.json': accepted('event:pull_request:opened'),
  'pr-opened/froggit-go.json': accepted('event:pull_request:opened'),
  'pr-opened/go-playground-webhooks.json': accepted('event:pull_request:opened'),
  'pr-opened/jenkins-branch-source--newPRPayload.json': accepted('event:pull_request:opened'),
  'pr-opened/jenkins-branch-source--prOpenFromTagPayload.json': ignored(/not between branches \(refs\/tags\/v1\.0/),
  'pr-opened/jenkins-push-pr.json': accepted('event:pull_request:opened'),
  'pr-reviewer-approved/go-playground-webhooks.json': ignored(NOT_SUBSCRIBED),
  'pr-reviewer-approved/jenkins-push-pr.json': ignored(NOT_SUBSCRIBED),
  'repo-modified/go-playground-webhooks.json': ignored(NOT_SUBSCRIBED),
  'repo-refs_changed/argo-cd.json': accepted('event:push'),
  'repo-refs_changed/drone-go-scm--push.json': accepted('event:push'),
  'repo-refs_changed/drone-go-scm--push_branch_create.json': accepted('event:push'),
  'repo-refs_changed/drone-go-scm--push_branch_delete.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/drone-go-scm--push_tag_create.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/drone-go-scm--push_tag_delete.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/drone-go-scm--push_v5.json': accepted('event:push'),
  'repo-refs_changed/froggit-go--pushpayload.json': accepted('event:push'),
  'repo-refs_changed/froggit-go--tagcreatepayload.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/froggit-go--tagdeletepayload.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/go-playground-webhooks.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/jenkins-branch-source--annotated_tag_created.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/jenkins-branch-source--branch_deleted.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/jenkins-branch-source--pushPayload.json': accepted('event:push'),
  'repo-refs_changed/jenkins-branch-source--pushPayload_v10.json': accepted('event:push'),
  'repo-refs_changed/jenkins-branch-source--tag_deleted.json': ignored(NOTHING_TO_SCAN),
  'repo-refs_changed/jenkins-push-pr.json': ANONYMISED(/toHash: expected a full hex commit hash/),
};

const FILES = readdirSync(DC_FIXTURES).flatMap((dir) => readdirSync(path.join(DC_FIXTURES, dir)).map((f) => `${dir}/${f}`));

describe('every reference Data Center delivery', () => {
  it('has an expectation here (a new fixture must be decided on)', () => {
    expect(FILES.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(FILES)('%s', async (file) => {
    const expected = EXPECTED[file]!;
    // X-Event-Key as Data Center sends it: the body's eventKey (a ping body has none).
    const res = await postDcWebhook(t, dc, readDcFixture(file), expected.outcome === 'ping' ? { eventKey: 'diagnostics:ping' } : {});
    expect(res.status).toBe(expected.status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    if (expected.outcome === 'ping') {
      expect(res.body).toEqual({ status: 'ok' });
      expect(await t.store.countDeliveries()).toBe(0);
    } else if (expected.outcome === 'invalid') {
      expect(res.body.error.code).toBe('invalid_payload');
      expect(res.body.error.message).toMatch(expected.problem);
      expect(await t.store.countDeliveries()).toBe(0);
    } else if (expected.outcome === 'ignored') {
      expect(res.body).toMatchObject({ status: 'ignored', duplicate: false, jobId: null });
      if (expected.reason) expect(res.body.reason).toMatch(expected.reason);
      // Recorded all the same, so a redelivery is recognised.
      expect(await t.store.countDeliveries()).toBe(1);
      expect(await t.store.listJobs()).toEqual([]);
    } else {
      expect(res.body).toMatchObject({ status: 'accepted', duplicate: false });
      const job = await t.store.getJob(res.body.jobId as string);
      expect(job).toMatchObject({ clientKey: dc.clientKey, type: expected.jobType, status: 'queued' });
      const payload = job!.payload as { repository: { uuid: string; fullName: string; workspace: string } };
      expect(payload.repository.uuid).toMatch(new RegExp(`^\\{dc-${dc.instanceId}-\\d+\\}$`));
      expect(payload.repository.fullName).toBe(`${payload.repository.workspace}/${payload.repository.fullName.split('/')[1]}`);
    }
  });
});

describe('normalised events', () => {
  it('turns a Data Center 10 push into a branch update of PROJECT/slug with a stable repository identity', async () => {
    const res = await postDcWebhook(t, dc, readDcFixture('repo-refs_changed/jenkins-branch-source--pushPayload_v10.json'));
    const job = await t.store.getJob(res.body.jobId as string);
    expect(job?.payload).toEqual({
      type: 'push',
      deliveryId: expect.any(String),
      sourceEvent: 'repo:refs_changed',
      repository: { uuid: `{dc-${dc.instanceId}-2}`, fullName: 'AMUNIZ/test-repos', workspace: 'AMUNIZ', name: 'test-repos', isPrivate: true },
      actor: { accountId: 'admin', uuid: null, displayName: 'Administrator' },
      // A new branch: no "before", the scan covers what its head adds.
      changes: [{ kind: 'branch', name: 'feature/BB-1', before: null, after: 'fb522a6f08c7c7df337312e4e65ec1b57710672e', forced: false, commits: [], truncated: false }],
    });
  });

  it('turns pr:opened (epoch-ms dates) into a pull-request event on the target repository, grouped per pull request', async () => {
    const res = await postDcWebhook(t, dc, readDcFixture('pr-opened/drone-go-scm--pr_open.json'));
    const job = await t.store.getJob(res.body.jobId as string);
    expect(job?.group).toBe(`pull_request:{dc-${dc.instanceId}-1}:2`);
    expect(job?.payload).toMatchObject({
      type: 'pull_request',
      action: 'opened',
      repository: { fullName: 'PRJ/my-repo', workspace: 'PRJ' },
      pullRequest: {
        id: 2,
        title: 'added LICENSE',
        state: 'OPEN',
        source: { branch: 'develop', commit: '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e', repository: { fullName: 'PRJ/my-repo' } },
        destination: { branch: 'master', commit: '823b2230a56056231c9425d63758fa87078a66b4' },
      },
    });
  });

  it('keeps a fork as the source side and publishes on the target repository', async () => {
    const res = await postDcWebhook(t, dc, readDcFixture('pr-merged/atlantis.json'));
    const job = await t.store.getJob(res.body.jobId as string);
    expect(job?.payload).toMatchObject({
      repository: { fullName: 'AT/atlantis-example', uuid: `{dc-${dc.instanceId}-1}` },
      pullRequest: { source: { repository: { fullName: 'FK/atlantis-example', uuid: `{dc-${dc.instanceId}-2}` } }, mergeCommit: 'bbc7b2a29344646ec8605be9603a0aa625a627ef' },
    });
  });

  it('refuses a pull request whose dates are neither epoch milliseconds nor ISO text', async () => {
    const body = JSON.parse(readDcFixture('pr-opened/drone-go-scm--pr_open_iso_dates.json').toString('utf8'));
    body.pullRequest.createdDate = 'yesterday';
    const res = await postDcWebhook(t, dc, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/pullRequest\.createdDate/);
  });

  it('refuses a project key or slug that would change a REST path', async () => {
    const body = JSON.parse(readDcFixture('repo-refs_changed/drone-go-scm--push.json').toString('utf8'));
    body.repository.slug = '../../admin';
    const res = await postDcWebhook(t, dc, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/repository\.slug/);
  });

  it('installs webhooks for exactly the events it acts on', () => {
    expect([...WEBHOOK_EVENTS].sort()).toEqual([...HANDLED_DATACENTER_EVENTS].sort());
  });
});

describe('signature', () => {
  const PUSH = 'repo-refs_changed/drone-go-scm--push.json';

  it('answers 401 JSON for a missing, malformed or wrong signature, and records nothing', async () => {
    const missing = await postDcWebhook(t, dc, readDcFixture(PUSH), { secret: null });
    const malformed = await postDcWebhook(t, dc, readDcFixture(PUSH), { signature: 'sha1=abcdef' });
    const wrong = await postDcWebhook(t, dc, readDcFixture(PUSH), { secret: 'not-the-secret' });
    expect([missing.status, missing.body.error.code]).toEqual([401, 'missing_signature']);
    expect([malformed.status, malformed.body.error.code]).toEqual([401, 'malformed_signature']);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'bad_signature']);
    expect(await t.store.countDeliveries()).toBe(0);
  });

  it('checks the raw bytes: the same JSON re-serialised no longer matches', async () => {
    const bytes = readDcFixture(PUSH);
    const compact = Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8'))));
    const { signBody } = await import('../src/datacenter/signature.ts');
    const res = await postDcWebhook(t, dc, compact, { signature: signBody(dc.secret, bytes) });
    expect(res.status).toBe(401);
  });

  it('answers 404 for an unknown instance after reading and checking the body all the same', async () => {
    const unknown = { ...dc, instanceId: 'aaaaaaaaaaaaaaaaaaaaaaaa' };
    const res = await postDcWebhook(t, unknown, readDcFixture(PUSH));
    expect([res.status, res.body.error.code]).toEqual([404, 'unknown_instance']);
    // The body is read for an unknown instance too (its size limit applies), as for a known one.
    const big = await postDcWebhook(t, unknown, Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect(big.status).toBe(413);
    const malformedId = await postDcWebhook(t, { ...dc, instanceId: 'x%2F..' }, readDcFixture(PUSH));
    expect(malformedId.status).toBe(404);
  });

  it('accepts the previous secret during its grace period after a rotation, and only then', async () => {
    const rotated = await registerInstance(t, {
      secret: 'new-secret',
      previousWebhookSecret: { encrypted: encryptSecret(t.config.encryptionKey, 'old-secret'), validUntil: new Date(t.clock.now.getTime() + 60_000).toISOString() },
    });
    expect((await postDcWebhook(t, rotated, readDcFixture(PUSH), { secret: 'old-secret' })).status).toBe(202);
    expect((await postDcWebhook(t, rotated, readDcFixture(PUSH), { secret: 'new-secret' })).status).toBe(202);
    t.clock.now = new Date(t.clock.now.getTime() + 60_001);
    expect((await postDcWebhook(t, rotated, readDcFixture(PUSH), { secret: 'old-secret' })).status).toBe(401);
    expect((await postDcWebhook(t, rotated, readDcFixture(PUSH), { secret: 'new-secret' })).status).toBe(202);
  });

  it('answers the connection test only when it is signed', async () => {
    expect((await postDcWebhook(t, dc, '{"test": true}', { eventKey: 'diagnostics:ping' })).status).toBe(200);
    expect((await postDcWebhook(t, dc, '{"test": true}', { eventKey: 'diagnostics:ping', secret: 'wrong' })).status).toBe(401);
  });

  it('serves under the path of BASE_URL too', async () => {
    const prefixed = await startTestApp({ baseUrl: 'https://gatehouse.example/scanner' });
    try {
      const instance = await registerInstance(prefixed);
      const res = await postDcWebhook(prefixed, instance, readDcFixture(PUSH), { path: `/scanner/datacenter/webhook/${instance.instanceId}` });
      expect(res.status).toBe(202);
    } finally {
      await prefixed.close();
    }
  });
});

describe('limits and bad input', () => {
  const PR = 'pr-opened/drone-go-scm--pr_open.json';

  it('answers 413 over 1 MB and 415 for a compressed body', async () => {
    const padded = Buffer.concat([Buffer.from('{"pad":"'), Buffer.alloc(1024 * 1024, 0x61), Buffer.from('"}')]);
    expect((await postDcWebhook(t, dc, padded, { eventKey: 'pr:opened' })).status).toBe(413);
    const gz = await postDcWebhook(t, dc, gzipSync(readDcFixture(PR)), { eventKey: 'pr:opened', headers: { 'Content-Encoding': 'gzip' } });
    expect([gz.status, gz.body.error.code]).toEqual([415, 'unsupported_encoding']);
  });

  it('answers 400 for bad JSON, a non-object, a missing event key or one that disagrees with the body', async () => {
    const notJson = await postDcWebhook(t, dc, '{"eventKey":', { eventKey: 'pr:opened' });
    const array = await postDcWebhook(t, dc, '[]', { eventKey: 'pr:opened' });
    const noKey = await postDcWebhook(t, dc, '{"x":1}', { eventKey: null });
    const mismatch = await postDcWebhook(t, dc, readDcFixture(PR), { eventKey: 'pr:merged' });
    expect([notJson.status, notJson.body.error.code]).toEqual([400, 'malformed_json']);
    expect([array.status, array.body.error.code]).toEqual([400, 'malformed_payload']);
    expect([noKey.status, noKey.body.error.code]).toEqual([400, 'missing_event_key']);
    expect([mismatch.status, mismatch.body.error.code]).toEqual([400, 'event_key_mismatch']);
    expect(await t.store.countDeliveries()).toBe(0);
  });
});

describe('redelivery', () => {
  const PR = 'pr-opened/drone-go-scm--pr_open.json';

  it('recognises X-Request-Id per instance', async () => {
    const id = randomUUID();
    const first = await postDcWebhook(t, dc, readDcFixture(PR), { requestId: id });
    const again = await postDcWebhook(t, dc, readDcFixture(PR), { requestId: id });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, jobId: first.body.jobId });
    // Another instance may use the same id for its own delivery.
    const other = await registerInstance(t);
    const theirs = await postDcWebhook(t, other, readDcFixture(PR), { requestId: id });
    expect(theirs.status).toBe(202);
    expect(await t.store.listJobs()).toHaveLength(2);
  });

  it('falls back to a hash of the body without X-Request-Id', async () => {
    const first = await postDcWebhook(t, dc, readDcFixture(PR), { requestId: null });
    const again = await postDcWebhook(t, dc, readDcFixture(PR), { requestId: null });
    expect(first.body.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.body.duplicate).toBe(true);
  });
});

describe('registry changes while the server runs', () => {
  it('serves an instance added and stops serving one removed by another process (the CLI), without a restart', async () => {
    const cli = datacenterInstancesIn(t.config.dataDir);
    const added = { ...dc, instanceId: 'cafebabecafebabecafebabe' };
    await cli.putDatacenterInstance({ ...(await t.store.getDatacenterInstance(dc.instanceId))!, instanceId: added.instanceId, name: 'added by the CLI' });
    expect((await postDcWebhook(t, added, readDcFixture(PR_FILE))).status).toBe(202);
    await cli.deleteDatacenterInstance(added.instanceId);
    expect((await postDcWebhook(t, added, readDcFixture(PR_FILE))).status).toBe(404);
  });
});

const PR_FILE = 'pr-opened/drone-go-scm--pr_open.json';
