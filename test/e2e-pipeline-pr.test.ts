import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { startPipelineApp, type PipelineApp } from './helpers/pipeline-app.ts';

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const AWS_LINE = `const awsKey = "${AWS_KEY}";`;

describe('pipeline end to end: pull request created, updated with a fix, redelivered', () => {
  let dataDir: string;
  let app: PipelineApp;
  let sim: Simulator;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-pipeline-'));
    app = await startPipelineApp({ dataDir });
    sim = await startSimulator({ appBaseUrl: app.baseUrl, retryDelayMs: 0 });
    await app.attach({ web: sim.webOrigin, api: sim.apiOrigin });
    await sim.install();
  });

  afterAll(async () => {
    await sim?.stop();
    await app?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('publishes a failing report, annotation, status and one comment for a leaked key', async () => {
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
    await sim.createBranch('acme/web', 'feature');
    await sim.commit('acme/web', 'feature', { 'src/config.js': `// settings\n${AWS_LINE}\n` }, 'Add config');
    const pr = await sim.openPullRequest('acme/web', { source: 'feature', title: 'Add config' });
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);

    const repo = sim.repository('acme/web');
    const head = sim.pullRequest('acme/web', pr.id).sourceHash;
    const reports = repo.reports.get(head) ?? [];
    const report = reports.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.body).toMatchObject({ report_type: 'SECURITY', result: 'FAILED' });
    expect(report?.annotations).toHaveLength(1);
    expect(report?.annotations[0]?.body).toMatchObject({ path: 'src/config.js', line: 2, severity: 'CRITICAL', result: 'FAILED' });
    expect(JSON.stringify(report)).not.toContain(AWS_KEY);
    expect(repo.statuses.get(head)?.get('gatehouse-security')?.body).toMatchObject({ state: 'FAILED', refname: 'feature' });
    const comments = sim.pullRequest('acme/web', pr.id).comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]?.raw).toContain('<!-- gatehouse:pr-comment -->');
    expect(comments[0]?.raw).not.toContain(AWS_KEY);
    expect(sim.violations).toEqual([]);
  });
});
