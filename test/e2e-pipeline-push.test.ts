import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';

describe('pipeline end to end: pushes, stale pull-request jobs, the JSON API', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('push'));
    await sim.createRepository('acme', 'svc', { files: { 'README.md': 'svc\n', 'requirements.txt': 'requests==2.19.0\n' } });
    await app.settle();
  });

  afterAll(async () => stop?.());

  it('push to main: report and status on the new head under their own key, inventory refreshed from changed files only', async () => {
    const { clientKey } = sim.installation()!;
    const repo = sim.repository('acme/svc');
    const first = await sim.commit('acme/svc', 'main', { 'cfg.py': `KEY = "${KEY}"\n` }, 'Config');
    await app.settle();
    expect(repo.reports.get(first)?.map((r) => [r.externalId, r.body.result])).toEqual([['gatehouse-push', 'FAILED']]);
    expect(repo.statuses.get(first)?.get('gatehouse-push')?.body).toMatchObject({ state: 'FAILED', refname: 'main', url: `${sim.webOrigin}/acme/svc/commits/${first}` });
    const inventory = await app.results.getInventory(clientKey, repo.uuid, 'main');
    expect(inventory).toMatchObject({ commit: first, environment: 'production', files: { 'requirements.txt': expect.any(String) } });
    expect(inventory!.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['requests@2.19.0']);

    const second = await sim.commit('acme/svc', 'main', { 'requirements.txt': 'requests==2.31.0\nurllib3==2.0.7\n', 'cfg.py': 'KEY = None\n' }, 'Bump');
    await app.settle();
    expect(repo.reports.get(second)?.map((r) => [r.externalId, r.body.result])).toEqual([['gatehouse-push', 'PASSED']]);
    const refreshed = await app.results.getInventory(clientKey, repo.uuid, 'main');
    expect(refreshed!.commit).toBe(second);
    // Each push scan names its branch: only a branch's newest is kept beyond the grace period.
    expect((await app.results.getScan(clientKey, repo.uuid, second, 'push'))?.branch).toBe('main');
    expect(refreshed!.packages.map((p) => `${p.name}@${p.version}`).sort()).toEqual(['requests@2.31.0', 'urllib3@2.0.7']);
  });

  it('stale jobs: queued updates of one PR collapse into one scan of the newest head', async () => {
    await app.worker.stop();
    await sim.createBranch('acme/svc', 'fast');
    await sim.commit('acme/svc', 'fast', { 'a.py': `A = "${KEY}"\n` }, 'one');
    const { id } = await sim.openPullRequest('acme/svc', { source: 'fast', title: 'Fast' });
    const heads = [sim.pullRequest('acme/svc', id).sourceHash];
    for (const n of ['two', 'three']) {
      await sim.updatePullRequest('acme/svc', id, { [`${n}.txt`]: `${n}\n` }, n);
      heads.push(sim.pullRequest('acme/svc', id).sourceHash);
    }
    app.worker.start();
    const jobs = await app.settle();
    const prJobs = jobs.filter((j) => j.type.startsWith('event:pull_request'));
    expect(prJobs.map((j) => j.lastError?.startsWith('skipped: superseded') ?? false)).toEqual([true, true, false]);
    const repo = sim.repository('acme/svc');
    const prReports = heads.map((h) => repo.reports.get(h)?.some((r) => r.externalId === 'gatehouse-security') ?? false);
    expect(prReports).toEqual([false, false, true]);
    expect(sim.pullRequest('acme/svc', id).comments).toHaveLength(1);
  });

  it('stale jobs: a scan whose PR moved on meanwhile publishes nothing on the old commit', async () => {
    await sim.createBranch('acme/svc', 'moving');
    // Hold the first scans of this head (push and PR) in their diff download while the PR gets a new head.
    sim.faults.add({ pathPattern: /\/acme\/svc\/diff\/[0-9a-f]{40}\.\./, count: 2, kind: 'slow', delayMs: 1_500 });
    await sim.commit('acme/svc', 'moving', { 'b.py': `B = "${KEY}"\n` }, 'one');
    const { id } = await sim.openPullRequest('acme/svc', { source: 'moving', title: 'Moving' });
    const old = sim.pullRequest('acme/svc', id).sourceHash;
    await new Promise((r) => setTimeout(r, 300));
    await sim.updatePullRequest('acme/svc', id, { 'b.py': 'B = None\n' }, 'fix');
    const latest = sim.pullRequest('acme/svc', id).sourceHash;
    await app.settle();
    const repo = sim.repository('acme/svc');
    expect(repo.reports.get(old)?.some((r) => r.externalId === 'gatehouse-security') ?? false).toBe(false);
    expect(repo.statuses.get(old)?.get('gatehouse-security')?.body.state).toBe('STOPPED');
    expect(repo.reports.get(latest)?.find((r) => r.externalId === 'gatehouse-security')?.body.result).toBe('PASSED');
    expect(repo.statuses.get(latest)?.get('gatehouse-security')?.body.state).toBe('SUCCESSFUL');
  });

  it('declined: the PR state is recorded', async () => {
    await sim.createBranch('acme/svc', 'nope');
    await sim.commit('acme/svc', 'nope', { 'n.txt': 'n\n' }, 'n');
    const { id } = await sim.openPullRequest('acme/svc', { source: 'nope', title: 'Nope' });
    await app.settle();
    await sim.declinePullRequest('acme/svc', id);
    await app.settle();
    expect(await app.results.getPullRequest(sim.installation()!.clientKey, sim.repository('acme/svc').uuid, id)).toMatchObject({ state: 'DECLINED', commentId: expect.any(Number), lastResult: 'PASSED' });
  });

  it('JSON API: needs a signed request, validates bodies, and a policy turns a scanner off', async () => {
    const tenant = sim.installation()!;
    expect((await fetch(`${app.baseUrl}/api/policy`)).status).toBe(401);
    const bad = await signedCall(app.baseUrl, tenant, 'PUT', '/api/policy', { body: { threshold: 'severe' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', message: expect.stringContaining('threshold') } } });
    expect((await signedCall(app.baseUrl, tenant, 'PUT', '/api/triage', { body: { repoUuid: 'x', fingerprint: 'f', status: 'ignored', reason: '' } })).status).toBe(400);
    const off = await signedCall(app.baseUrl, tenant, 'PUT', '/api/policy', { body: { scanners: { secrets: false }, ignoredPaths: ['docs/**'] } });
    expect(off.body).toMatchObject({ policy: { threshold: 'high', scanners: { secrets: false, dependencies: true }, ignoredPaths: ['docs/**'] } });

    const head = await sim.commit('acme/svc', 'main', { 'leak.py': `K = "${KEY}"\n` }, 'Leak while secrets are off');
    await app.settle();
    expect(sim.repository('acme/svc').reports.get(head)?.[0]?.body.result).toBe('PASSED');
    expect((await signedCall(app.baseUrl, tenant, 'DELETE', `/api/triage?repoUuid=${encodeURIComponent(sim.repository('acme/svc').uuid)}&fingerprint=0123456789abcdef`)).status).toBe(404);
    expect(sim.violations).toEqual([]);
  });
});
