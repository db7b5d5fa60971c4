import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

/**
 * A pull request whose scan cannot finish within its budget: the scan thread is stopped,
 * the job ends at once (no retries that would stall other tenants again), and the pull
 * request gets a failing check that says why, never a pass it did not earn.
 */
describe('pipeline end to end: a scan over its time budget', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    // No diff travels from Bitbucket through a scan thread in a millisecond.
    ({ app, sim, stop } = await startPipelineOnSimulator('scan-budget', { tuning: { scanPool: { diffTimeMs: 1 } } }));
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
    await app.settle();
  });

  afterAll(async () => stop?.());

  it('publishes a failed report, status and comment saying the change was not fully scanned, after one attempt', { timeout: 120_000 }, async () => {
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'src/a.js': 'export const a = 1;\n' }, 'Add a');
    const { id } = await sim.openPullRequest('acme/web', { source: 'feature', title: 'Add a' });
    const jobs = await app.settle(100_000);
    const job = jobs.find((j) => j.type === 'event:pull_request:opened');
    expect(job).toMatchObject({ status: 'done', attempts: 1 });

    const head = sim.pullRequest('acme/web', id).sourceHash;
    const report = sim.repository('acme/web').reports.get(head)?.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.body.result).toBe('FAILED');
    expect(String(report?.body.details)).toContain('This change was not fully scanned: the scan exceeded its time budget of 1 ms and was stopped.');
    expect(sim.repository('acme/web').statuses.get(head)?.get('gatehouse-security')?.body).toMatchObject({ state: 'FAILED' });
    expect(sim.pullRequest('acme/web', id).comments[0]?.raw).toMatch(/^\*\*Gatehouse: this pull request could not be fully scanned, so it is blocked\.\*\*/);
  });
});
