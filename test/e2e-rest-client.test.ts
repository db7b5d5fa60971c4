import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { simulatorClient, startInstalled } from './helpers/simulator-client.ts';
import type { FakeApp } from './simulator-fake-app.ts';

// The app's outbound REST client against the simulator: every call it makes must pass the
// simulator's authentication and OpenAPI checks, with both auth strategies.
let fake: FakeApp;
let sim: Simulator;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled());
  await sim.createRepository('acme', 'svc', { files: { 'README.md': '# svc\n', 'package.json': '{"name":"svc"}\n' } });
  await sim.createBranch('acme/svc', 'leak');
  await sim.commit('acme/svc', 'leak', { 'config.js': 'module.exports = { key: "x" };\n', 'README.md': null }, 'Add config');
  await sim.openPullRequest('acme/svc', { source: 'leak', title: 'Add config' });
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

describe.each(['jwt', 'oauth2-jwt'] as const)('REST client with %s auth', (auth) => {
  it('reads the pull request, its diff and diffstat (through the 302), commits and files', async () => {
    const c = simulatorClient(sim, auth);
    const pr = await c.getPullRequest('acme', 'svc', 1);
    expect(pr.source?.commit?.hash).toHaveLength(12);
    const commit = await c.getCommit('acme', 'svc', pr.source!.commit!.hash!);
    expect(commit.hash).toHaveLength(40);
    const diff = await c.getDiff('acme', 'svc', { pullRequestId: 1 });
    expect(diff).toContain('+module.exports');
    const stat = [];
    for await (const entry of c.getDiffstat('acme', 'svc', { pullRequestId: 1 })) stat.push(entry);
    expect(stat.map((s) => s.status).sort()).toEqual(['added', 'removed']);
    expect(await c.getFileSource('acme', 'svc', commit.hash!, 'config.js')).toContain('module.exports');
    expect(await c.getFileSource('acme', 'svc', commit.hash!, 'missing.txt')).toBeNull();
    const repos = [];
    for await (const repo of c.listRepositories('acme', { pagelen: 1 })) repos.push(repo.full_name);
    expect(repos).toEqual(['acme/svc']);
    expect(sim.violations).toEqual([]);
  });

  it('publishes a report, annotations, a build status and an edited comment', async () => {
    const c = simulatorClient(sim, auth);
    const head = sim.pullRequest('acme/svc', 1).sourceHash;
    await c.putReport('acme', 'svc', head, `gatehouse-${auth}`, { title: 'Gatehouse', details: 'Scan', report_type: 'SECURITY', result: 'FAILED', data: [{ title: 'Findings', type: 'NUMBER', value: 1 }] });
    await c.postAnnotations('acme', 'svc', head, `gatehouse-${auth}`, [{ external_id: 'f1', annotation_type: 'VULNERABILITY', summary: 'Secret', severity: 'HIGH', path: 'config.js', line: 1 }]);
    await c.postBuildStatus('acme', 'svc', head, { key: `GATEHOUSE-${auth}`, state: 'FAILED', name: 'Gatehouse', url: 'https://example.com', refname: 'leak' });
    const comment = await c.createPullRequestComment('acme', 'svc', 1, { raw: 'first' });
    await c.updatePullRequestComment('acme', 'svc', 1, comment.id!, { raw: 'second' });
    const comments = [];
    for await (const item of c.listPullRequestComments('acme', 'svc', 1)) comments.push(item.content?.raw);
    expect(comments).toContain('second');
    expect((await c.getReport('acme', 'svc', head, `gatehouse-${auth}`))?.result).toBe('FAILED');
    expect(sim.violations).toEqual([]);
  });

  it('rides out a 429 with Retry-After and a 503', async () => {
    const c = simulatorClient(sim, auth);
    sim.faults.add({ pathPattern: '/repositories/acme/svc', method: 'GET', count: 1, kind: '429-retry-after', retryAfterSeconds: 1 });
    sim.faults.add({ pathPattern: '/repositories/acme/svc', method: 'GET', count: 1, kind: '503' });
    expect((await c.getRepository('acme', 'svc')).full_name).toBe('acme/svc');
    expect(sim.faults.pending()).toBe(0);
  });
});
