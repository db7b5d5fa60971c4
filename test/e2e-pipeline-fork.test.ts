import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';
import { npmLockfile, SAMPLE_NPM_INDEX } from './helpers/npm-fixtures.ts';

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';

describe('pipeline end to end: a pull request from a fork', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let prId: number;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('fork', { tuning: { vulnIndex: () => SAMPLE_NPM_INDEX } }));
    await sim.createRepository('acme', 'lib', { files: { 'README.md': '# lib\n', 'package-lock.json': npmLockfile('lib', { lodash: '4.17.15' }) } });
    await sim.forkRepository('acme/lib', 'acme', 'lib-fork');
    await app.settle();
  });

  afterAll(async () => stop?.());

  const upstream = () => sim.repository('acme/lib');
  const fork = () => sim.repository('acme/lib-fork');
  const head = () => sim.pullRequest('acme/lib', prId).sourceHash;

  it('scans the fork head: diff from the destination, files at the source from the fork, results on the fork commit', async () => {
    await sim.createBranch('acme/lib-fork', 'feature');
    await sim.commit('acme/lib-fork', 'feature', { 'src/keys.js': `module.exports = "${AWS_KEY}";\n`, 'package-lock.json': npmLockfile('lib', { lodash: '4.17.15', minimist: '1.2.0' }) }, 'Keys');
    prId = (await sim.openPullRequest('acme/lib', { source: 'feature', sourceRepository: 'acme/lib-fork', title: 'From a fork' })).id;
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);

    const report = fork().reports.get(head())?.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.body).toMatchObject({ result: 'FAILED', details: expect.any(String) });
    const annotations = report!.annotations.map((a) => a.body);
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'src/keys.js', line: 1, result: 'FAILED' }));
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'package-lock.json', title: expect.stringContaining('minimist'), result: 'FAILED' }));
    // lodash is read at the destination commit in the destination repository: existing, not new.
    expect(annotations).toContainEqual(expect.objectContaining({ path: 'package-lock.json', title: expect.stringContaining('lodash'), result: 'PASSED' }));
    expect(fork().statuses.get(head())?.get('gatehouse-security')?.body).toMatchObject({ state: 'FAILED', refname: 'feature', url: `${sim.webOrigin}/acme/lib/pull-requests/${prId}` });

    // The comment is on the pull request, which lives in the destination; nothing is published on the destination's commits.
    const pr = sim.pullRequest('acme/lib', prId);
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]!.raw).toContain(AWS_KEY.slice(0, 4));
    expect(pr.comments[0]!.raw).not.toContain(AWS_KEY);
    expect([...upstream().reports.keys()]).toEqual([]);
    expect(sim.violations).toEqual([]);
  });

  it('a push to the fork branch updates the pull request; the new head gets its own results', async () => {
    const old = head();
    await sim.updatePullRequest('acme/lib', prId, { 'src/keys.js': 'module.exports = process.env.KEY;\n', 'package-lock.json': npmLockfile('lib', { lodash: '4.17.15' }) }, 'Fix');
    expect(head()).not.toBe(old);
    await app.settle();
    expect(fork().reports.get(head())?.find((r) => r.externalId === 'gatehouse-security')?.body.result).toBe('PASSED');
    expect(fork().statuses.get(head())?.get('gatehouse-security')?.body.state).toBe('SUCCESSFUL');
    expect(sim.pullRequest('acme/lib', prId).comments).toHaveLength(1);
    expect(sim.violations).toEqual([]);
  });

  it('a fork in a workspace the installation cannot read: the PR gets a comment saying it was not scanned, the job does not fail', async () => {
    await sim.forkRepository('acme/lib', 'outsider', 'lib');
    await sim.createBranch('outsider/lib', 'patch');
    await sim.commit('outsider/lib', 'patch', { 'x.js': `module.exports = "${AWS_KEY}";\n` }, 'X');
    const { id } = await sim.openPullRequest('acme/lib', { source: 'patch', sourceRepository: 'outsider/lib', title: 'From outside' });
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);
    const comments = sim.pullRequest('acme/lib', id).comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.raw).toContain('did not scan this pull request');
    expect(comments[0]!.raw).toContain('outsider/lib');
    expect(await app.results.getPullRequest(sim.installation()!.clientKey, upstream().uuid, id)).toMatchObject({ publishedCommit: null, commentId: comments[0]!.id });
    expect(sim.violations).toEqual([]);
  });
});
