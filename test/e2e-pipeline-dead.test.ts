import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

describe('pipeline end to end: a scan that gives up for good', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('dead', { tuning: { maxAttempts: 2, retryBaseDelayMs: 5 } }));
  });

  afterAll(async () => stop?.());

  it('leaves STOPPED, not INPROGRESS, on the head when the diff never comes', { timeout: 60_000 }, async () => {
    await sim.createRepository('acme', 'outage');
    await sim.createBranch('acme/outage', 'feature');
    // Every diff request fails, beyond the client's retries and the job's attempts.
    sim.faults.add({ pathPattern: /\/acme\/outage\/diff\//, method: 'GET', count: 1_000, kind: '500' });
    await sim.commit('acme/outage', 'feature', { 'app.js': 'console.log(1);\n' }, 'Change');
    const { id } = await sim.openPullRequest('acme/outage', { source: 'feature', title: 'Change' });
    const jobs = await app.settle(45_000);
    sim.faults.clear();

    // The PR scan and the pushes (branch creation, then the commit) all died.
    expect(new Set(jobs.filter((j) => j.status === 'dead').map((j) => j.type))).toEqual(new Set(['event:pull_request:opened', 'event:push']));
    const all = [...sim.repository('acme/outage').statuses.values()].flatMap((byKey) => [...byKey.values()]);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((s) => s.body.state !== 'STOPPED')).toEqual([]);
    const head = sim.pullRequest('acme/outage', id).sourceHash;
    const statuses = sim.repository('acme/outage').statuses.get(head)!;
    expect(statuses.get('gatehouse-security')?.body).toMatchObject({ state: 'STOPPED', refname: 'feature' });
    expect(statuses.get('gatehouse-push')?.body).toMatchObject({ state: 'STOPPED', refname: 'feature' });
    expect(String(statuses.get('gatehouse-security')?.body.description)).toContain('could not finish the scan');
  });
});
