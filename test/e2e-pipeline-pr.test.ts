import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';
import { npmLockfile, SAMPLE_NPM_INDEX } from './helpers/npm-fixtures.ts';

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const AWS_LINE = `const awsKey = "${AWS_KEY}";`;

describe('pipeline end to end: pull request created, updated with a fix, redelivered, merged', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let prId: number;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('pr', { tuning: { vulnIndex: () => SAMPLE_NPM_INDEX } }));
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n', 'package-lock.json': npmLockfile('web', { lodash: '4.17.15' }) } });
    await app.settle();
  });

  afterAll(async () => stop?.());

  const head = () => sim.pullRequest('acme/web', prId).sourceHash;
  const report = (commit: string) => sim.repository('acme/web').reports.get(commit)?.find((r) => r.externalId === 'gatehouse-security');
  const status = (commit: string) => sim.repository('acme/web').statuses.get(commit)?.get('gatehouse-security')?.body;

  it('created: a failing report with the secret and the new vulnerable package, existing one shown as existing', async () => {
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'src/config.js': `// settings\n${AWS_LINE}\n`, 'package-lock.json': npmLockfile('web', { lodash: '4.17.15', minimist: '1.2.0' }) }, 'Add config');
    prId = (await sim.openPullRequest('acme/web', { source: 'feature', title: 'Add config' })).id;
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);

    const published = report(head());
    expect(published?.body).toMatchObject({ report_type: 'SECURITY', result: 'FAILED', reporter: 'Gatehouse' });
    const data = Object.fromEntries((published?.body.data as { title: string; value: unknown }[]).map((d) => [d.title, d.value]));
    expect(data).toMatchObject({ Critical: 2, High: 1, 'New findings': 2, 'Existing findings': 1 });
    expect(data.Details).toMatchObject({ href: `${sim.webOrigin}/acme/web/pull-requests/${prId}` });

    const annotations = published!.annotations.map((a) => a.body);
    expect(annotations.map((a) => a.severity)).toEqual(['CRITICAL', 'CRITICAL', 'HIGH']);
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'src/config.js', line: 2, result: 'FAILED' }));
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'package-lock.json', title: expect.stringContaining('minimist'), result: 'FAILED' }));
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'package-lock.json', title: expect.stringContaining('lodash'), result: 'PASSED', details: expect.stringContaining('Already present') }));
    expect(annotations.every((a) => typeof a.line === 'number' && (a.line as number) >= 1)).toBe(true);
    expect(JSON.stringify(published)).not.toContain(AWS_KEY);

    expect(status(head())).toMatchObject({ state: 'FAILED', refname: 'feature', url: `${sim.webOrigin}/acme/web/pull-requests/${prId}` });
    const comments = sim.pullRequest('acme/web', prId).comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.raw).toMatch(/^\*\*Gatehouse: 2 new findings at high or above block this pull request/);
    expect(comments[0]!.raw).toContain('<!-- gatehouse:pr-comment -->');
    expect(comments[0]!.raw).not.toContain(AWS_KEY);
  });

  it('stores findings with the secret hashed and masked only', async () => {
    const scan = await app.results.getScan(sim.installation()!.clientKey, sim.repository('acme/web').uuid, head(), 'pull_request', prId);
    const secret = scan?.findings.find((f) => f.kind === 'secret');
    expect(secret).toMatchObject({ kind: 'secret', isNew: true });
    expect(JSON.stringify(scan)).not.toContain(AWS_KEY);
  });

  it('updated with a fix: the same comment is edited and says everything is fixed; report passes', async () => {
    const firstCommentId = sim.pullRequest('acme/web', prId).comments[0]!.id;
    await sim.updatePullRequest('acme/web', prId, { 'src/config.js': '// settings\nconst awsKey = process.env.AWS_KEY;\n', 'package-lock.json': npmLockfile('web', { lodash: '4.17.15', minimist: '1.2.6' }) }, 'Fix');
    await app.settle();
    expect(report(head())?.body).toMatchObject({ result: 'PASSED' });
    expect(status(head())).toMatchObject({ state: 'SUCCESSFUL', refname: 'feature' });
    const comments = sim.pullRequest('acme/web', prId).comments;
    expect(comments.map((c) => c.id)).toEqual([firstCommentId]);
    expect(comments[0]!.raw).toContain('everything reported earlier is fixed');
  });

  it('redelivery: recognised, not enqueued, nothing published again', async () => {
    const before = (await app.store.listJobs()).length;
    const updated = sim.deliveries.filter((d) => d.event === 'pullrequest:updated').at(-1)!;
    const commentUpdated = sim.pullRequest('acme/web', prId).comments[0]!.updatedOn;
    const again = await sim.redeliver(updated);
    expect(JSON.parse(again.attempts[0]?.responseBody ?? '{}')).toMatchObject({ duplicate: true });
    await app.settle();
    expect((await app.store.listJobs()).length).toBe(before);
    expect(sim.pullRequest('acme/web', prId).comments[0]!.updatedOn).toBe(commentUpdated);
  });

  it('triage: a mark set through the API follows the fingerprint into the next scan of another PR', async () => {
    const tenant = sim.installation()!;
    const repoUuid = sim.repository('acme/web').uuid;
    await sim.createBranch('acme/web', 'second');
    await sim.commit('acme/web', 'second', { 'src/other.js': `${AWS_LINE}\n` }, 'Leak again');
    const second = await sim.openPullRequest('acme/web', { source: 'second', title: 'Second' });
    await app.settle();
    const secondHead = sim.pullRequest('acme/web', second.id).sourceHash;
    const scan = await app.results.getScan(tenant.clientKey, repoUuid, secondHead, 'pull_request', second.id);
    const fingerprint = scan!.findings.find((f) => f.kind === 'secret')!.fingerprint;
    expect(report(secondHead)?.body).toMatchObject({ result: 'FAILED' });

    const put = await signedCall(app.baseUrl, tenant, 'PUT', '/api/triage', { body: { repoUuid, fingerprint, status: 'false_positive', reason: 'test fixture key' }, sub: 'acc-42' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ mark: { fingerprint, status: 'false_positive', by: 'acc-42', reason: 'test fixture key' } });
    expect(put.body).toMatchObject({ republishing: 2 });
    const listed = await signedCall(app.baseUrl, tenant, 'GET', `/api/triage?repoUuid=${encodeURIComponent(repoUuid)}`);
    expect(listed.body).toMatchObject({ marks: [expect.objectContaining({ fingerprint })] });

    // The open pull request shows the mark at once, on the same commit, in the same comment.
    await app.settle();
    expect(report(secondHead)?.body).toMatchObject({ result: 'PASSED' });
    expect(report(secondHead)?.annotations.map((a) => a.body.result)).toEqual(['IGNORED']);
    expect(sim.repository('acme/web').statuses.get(secondHead)?.get('gatehouse-security')?.body.state).toBe('SUCCESSFUL');
    expect(sim.pullRequest('acme/web', second.id).comments).toHaveLength(1);
    expect(sim.pullRequest('acme/web', second.id).comments[0]!.raw).toContain('1 finding is marked ignored or false positive');

    await sim.updatePullRequest('acme/web', second.id, { 'README.md': '# web, again\n' }, 'Touch');
    await app.settle();
    const next = sim.pullRequest('acme/web', second.id).sourceHash;
    expect(report(next)?.body).toMatchObject({ result: 'PASSED' });
    expect(report(next)?.annotations[0]?.body).toMatchObject({ result: 'IGNORED' });
    expect(sim.pullRequest('acme/web', second.id).comments).toHaveLength(1);
  });

  it('merged into main: the PR state is recorded and main gets an inventory and SBOM', async () => {
    const tenant = sim.installation()!;
    const repoUuid = sim.repository('acme/web').uuid;
    const merge = await sim.mergePullRequest('acme/web', prId);
    await app.settle();
    const record = await app.results.getPullRequest(tenant.clientKey, repoUuid, prId);
    expect(record).toMatchObject({ state: 'MERGED', mergeCommit: merge, commentId: expect.any(Number) });
    const inventory = await app.results.getInventory(tenant.clientKey, repoUuid, 'main');
    expect(inventory).toMatchObject({ commit: merge, environment: 'production' });
    expect(inventory!.packages.map((p) => `${p.name}@${p.version}`).sort()).toEqual(['lodash@4.17.15', 'minimist@1.2.6']);
    expect(JSON.parse(inventory!.sbom)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
  });

  it('made no request Bitbucket would refuse', () => {
    expect(sim.violations).toEqual([]);
  });
});
