import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const TENANTS = 20;
const workspaces = Array.from({ length: TENANTS }, (_, i) => `team${i}`);

describe('pipeline end to end: 20 installations at once, data kept apart', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('tenants', { tuning: { concurrency: 8 }, workspaces }));
  });

  afterAll(async () => stop?.());

  it('scans a pull request in every workspace with that installation’s own policy and results', { timeout: 120_000 }, async () => {
    // Even-numbered installations only fail on critical findings; a Slack bot token is high.
    for (const [i, ws] of workspaces.entries()) {
      if (i % 2 === 1) continue;
      const put = await signedCall(app.baseUrl, sim.installation(ws)!, 'PUT', '/api/policy', { body: { threshold: 'critical' } });
      expect(put.status).toBe(200);
    }
    await Promise.all(
      workspaces.map(async (ws) => {
        await sim.createRepository(ws, 'app');
        await sim.createBranch(`${ws}/app`, 'change');
        await sim.commit(`${ws}/app`, 'change', { 'deploy.sh': `export SLACK_BOT_TOKEN=xoxb-815787692974-6264396547918-Q7wLm3Zr9XkT2bYpV8cN4dHs # ${ws}\n` }, 'Deploy');
        await sim.openPullRequest(`${ws}/app`, { source: 'change', title: `Change in ${ws}` });
      }),
    );
    const jobs = await app.settle(100_000);
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);

    for (const [i, ws] of workspaces.entries()) {
      const { clientKey } = sim.installation(ws)!;
      const repo = sim.repository(`${ws}/app`);
      const head = sim.pullRequest(`${ws}/app`, 1).sourceHash;
      const report = repo.reports.get(head)?.find((r) => r.externalId === 'gatehouse-security');
      expect(report?.body.result, ws).toBe(i % 2 === 0 ? 'PASSED' : 'FAILED');
      expect(sim.pullRequest(`${ws}/app`, 1).comments, ws).toHaveLength(1);

      const scans = await app.results.listScans(clientKey);
      expect(new Set(scans.map((s) => s.repoUuid)), ws).toEqual(new Set([repo.uuid]));
      const own = jobs.filter((j) => j.clientKey === clientKey);
      expect(own.length, ws).toBeGreaterThanOrEqual(2);
      expect(new Set(own.map((j) => (j.payload as { repository: { uuid: string } }).repository.uuid)), ws).toEqual(new Set([repo.uuid]));
    }
  });

  it('answers the API of one installation with its own data only', async () => {
    const [a, b] = [sim.installation('team0')!, sim.installation('team1')!];
    const repoA = sim.repository('team0/app').uuid;
    const scan = (await app.results.listScans(a.clientKey)).find((s) => s.kind === 'pull_request')!;
    const full = await app.results.getScan(a.clientKey, scan.repoUuid, scan.commit, scan.kind, scan.prId);
    const fingerprint = full!.findings[0]!.fingerprint;
    expect((await signedCall(app.baseUrl, a, 'PUT', '/api/triage', { body: { repoUuid: repoA, fingerprint, status: 'ignored', reason: 'rotated' } })).status).toBe(200);

    expect((await signedCall(app.baseUrl, b, 'GET', '/api/triage')).body).toEqual({ marks: [] });
    expect((await signedCall(app.baseUrl, a, 'GET', '/api/triage')).body).toMatchObject({ marks: [{ fingerprint, repoUuid: repoA }] });
    expect((await signedCall(app.baseUrl, a, 'GET', '/api/policy')).body).toMatchObject({ policy: { threshold: 'critical' }, isDefault: false });
    expect((await signedCall(app.baseUrl, b, 'GET', '/api/policy')).body).toMatchObject({ policy: { threshold: 'high' }, isDefault: true });
    // B's secret cannot sign for A: the token names A but verifies with B's secret.
    const forged = await signedCall(app.baseUrl, { clientKey: a.clientKey, sharedSecret: b.sharedSecret }, 'GET', '/api/triage');
    expect(forged.status).toBe(401);
    expect(sim.violations).toEqual([]);
  });
});
