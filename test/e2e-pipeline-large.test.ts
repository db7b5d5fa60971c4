import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const AWS_KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const MB = 1024 * 1024;

/** ~25 KB of ordinary source per file. */
function source(i: number): string {
  const line = `export function handler${i}(input) { return input.map((x) => x * ${i} + 1).filter(Boolean); }\n`;
  return line.repeat(Math.ceil(25_000 / line.length));
}

describe('pipeline end to end: a 50 MB pull request with binaries, LFS pointers, renames and deletions', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    // A small per-file cap so that the one huge file shows the cap at work.
    ({ app, sim, stop } = await startPipelineOnSimulator('large', { tuning: { diffLimits: { maxFileBytes: 2 * MB, maxDiffBytes: 512 * MB } } }));
  });

  afterAll(async () => stop?.());

  it('scans it, finds the secret at its line, and says what it skipped', { timeout: 120_000 }, async () => {
    await sim.createRepository('acme', 'big', { files: { 'old/name.js': source(0), 'gone.txt': 'bye\n' } });
    await sim.createBranch('acme/big', 'huge');
    const files: Record<string, string | null> = { 'old/name.js': null, 'new/name.js': source(0), 'gone.txt': null };
    for (let i = 1; i <= 1_900; i++) files[`src/mod${Math.floor(i / 100)}/file${i}.js`] = source(i);
    files['src/mod15/file1500.js'] = `${source(1500)}const leaked = "${AWS_KEY}";\n`;
    files['assets/logo.png'] = `\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR${'\u0000\u0001'.repeat(2_000)}`;
    files['media/video.mp4'] = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n';
    files['data/huge.csv'] = 'id,value\n'.concat('1,abcdefghij\n'.repeat(Math.ceil((4 * MB) / 13)));
    await sim.commit('acme/big', 'huge', files, 'Everything at once');
    const { id } = await sim.openPullRequest('acme/big', { source: 'huge', title: 'Huge' });
    const jobs = await app.settle(100_000);
    expect(jobs.filter((j) => j.status === 'dead').map((j) => j.lastError)).toEqual([]);

    const head = sim.pullRequest('acme/big', id).sourceHash;
    const report = sim.repository('acme/big').reports.get(head)?.find((r) => r.externalId === 'gatehouse-security');
    expect(report?.body.result).toBe('FAILED');
    const lines = source(1500).split('\n').length;
    expect(report?.annotations.map((a) => a.body)).toEqual([expect.objectContaining({ path: 'src/mod15/file1500.js', line: lines })]);
    const details = String(report?.body.details);
    expect(details).toMatch(/1 binary files \(only their names were checked\): assets\/logo\.png/);
    expect(details).toMatch(/1 Git LFS pointers .*media\/video\.mp4/);
    expect(details).toMatch(/1 deleted files .*gone\.txt/);
    expect(details).toMatch(/files with more than 2 MB added .*data\/huge\.csv/);

    const scan = await app.results.getScan(sim.installation()!.clientKey, sim.repository('acme/big').uuid, head, 'pull_request', id);
    expect(scan?.skipped.join('\n')).not.toContain('new/name.js');
    expect(sim.violations).toEqual([]);
  });
});
