import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';
import { npmLockfile, SAMPLE_NPM_INDEX } from './helpers/npm-fixtures.ts';

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const MB = 1024 * 1024;

/**
 * Inputs larger than Gatehouse reads, end to end on the simulator, with the bounds lowered so
 * the sizes stay moderate (bench/pathological-pr.bench.ts runs a 150 MB diff): the scan
 * finishes, reads no more than its bounds, and the report says exactly what was not scanned.
 */
describe('pipeline end to end: inputs past their size bounds', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('bounds', {
      tuning: { vulnIndex: () => SAMPLE_NPM_INDEX, dependencyFileMaxBytes: 4 * 1024, diffLimits: { maxFileBytes: 4 * MB, maxDiffBytes: 2 * MB } },
    }));
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
    await app.settle();
  });

  afterAll(async () => stop?.());

  const report = (commit: string) => sim.repository('acme/web').reports.get(commit)?.find((r) => r.externalId === 'gatehouse-security');

  it('a single file larger than the whole-diff bound is cut inside the file; what came before is scanned', { timeout: 120_000 }, async () => {
    await sim.createBranch('acme/web', 'huge');
    const rows = '1,abcdefghijklmnopqrstuvwxyz\n'.repeat(Math.ceil((6 * MB) / 28));
    await sim.commit('acme/web', 'huge', { 'data/huge.csv': `key,${AWS_KEY}\n${rows}last,${AWS_KEY}\n` }, 'Huge');
    const { id } = await sim.openPullRequest('acme/web', { source: 'huge', title: 'Huge' });
    const jobs = await app.settle(100_000);
    expect(jobs.filter((j) => j.status === 'dead').map((j) => j.lastError)).toEqual([]);

    const head = sim.pullRequest('acme/web', id).sourceHash;
    const published = report(head);
    expect(published?.annotations.map((a) => [a.body.path, a.body.line])).toEqual([['data/huge.csv', 1]]);
    expect(String(published?.body.details)).toContain('Not scanned: 1 the rest of the diff after 2 MB, from this file on: data/huge.csv.');
  });

  it('a dependency file over its bound is not read, and the report says so', { timeout: 120_000 }, async () => {
    await sim.createBranch('acme/web', 'deps');
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`package-${i}`, '1.0.0']));
    await sim.commit('acme/web', 'deps', { 'package-lock.json': npmLockfile('web', { ...many, minimist: '1.2.0' }) }, 'Deps');
    const { id } = await sim.openPullRequest('acme/web', { source: 'deps', title: 'Deps' });
    const jobs = await app.settle(100_000);
    expect(jobs.filter((j) => j.status === 'dead').map((j) => j.lastError)).toEqual([]);

    const head = sim.pullRequest('acme/web', id).sourceHash;
    const published = report(head);
    expect(published?.annotations).toEqual([]);
    expect(String(published?.body.details)).toContain(`package-lock.json at ${head.slice(0, 12)} is larger than 4 KB and was not read; its packages were not checked.`);
  });
});
