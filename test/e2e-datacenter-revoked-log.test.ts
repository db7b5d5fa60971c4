import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { waitForDatacenterResults } from '../src/simulator/datacenter/results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession, type RegisteredInstance } from '../src/simulator/datacenter/session.ts';
import { until } from './helpers/until.ts';

// A token Data Center revokes while several jobs of the instance are due: the operator's log
// gets one warning (and one line when a new token lets the jobs run again), not a line per
// job every time it looks again. The app logs at debug here, so the quiet lines are seen too.

const REPO = `SEC/${DEMO_REPOSITORY.slug}`;
const TIMEOUT = 60_000;
const WAIT_MS = 100;

interface Line {
  level: number;
  msg: string;
  clientKey?: string;
}

let session: DatacenterSession;
let instance: RegisteredInstance;
let dataDir: string;
const lines: Line[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-dc-revoked-'));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  session = await startDatacenterSession({ dataDir, logLevel: 'debug', logDestination: sink, pipeline: { credentialsWaitMs: WAIT_MS } });
  await session.dc.createRepository('SEC', DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
  const token = newAccessToken();
  session.dc.addToken(token, 'PROJECT_ADMIN');
  instance = await session.register({ name: 'Revoked DC', token, project: 'SEC' });
}, 60_000);

afterAll(async () => {
  await session?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a Data Center token revoked under waiting jobs', { timeout: 120_000 }, () => {
  it('logs one warning when the instance turns token_revoked, waiting jobs at debug, and one info line when a new token lets them run', async () => {
    const tenant = `datacenter:${instance.instanceId}`;
    session.dc.revokeToken(session.token);
    const prs = [];
    for (const branch of ['feature/a', 'feature/b', 'feature/c']) {
      await session.dc.createBranch(REPO, branch);
      await session.dc.commit(REPO, branch, pullRequestFiles(fakeAwsKeyPair()), `Work on ${branch}`);
      prs.push(await session.dc.openPullRequest(REPO, { from: branch, title: branch }));
    }
    const status = await until('the instance to be token_revoked', async () => {
      const { body } = await session.admin(`/admin/datacenter/instances/${instance.instanceId}`);
      return body.status === 'token_revoked' ? body : undefined;
    });
    expect(String((status.lastError as { message: string }).message)).toMatch(/refused the access token/);
    // Every job (three pull requests, three pushes) looks again a few times.
    await until('the jobs to wait several rounds', () => (lines.filter((l) => l.msg === 'job waits: it cannot run yet').length >= 20 ? true : undefined));

    const loud = lines.filter((l) => l.level >= 40 && l.clientKey === tenant);
    expect(loud.map((l) => l.msg)).toEqual([expect.stringMatching(/^Data Center instance refused its token/)]);
    expect(loud[0]!.level).toBe(40);
    expect(JSON.stringify(lines)).not.toContain(session.token);

    const fresh = newAccessToken();
    session.dc.addToken(fresh, 'PROJECT_ADMIN');
    await session.register({ name: 'Revoked DC', token: fresh, project: 'SEC' });
    for (const pr of prs) expect((await waitForDatacenterResults(session.dc, REPO, pr.id, TIMEOUT)).report.body.result).toBe('FAIL');
    const back = lines.filter((l) => l.level === 30 && l.clientKey === tenant && /accepted its new token/.test(l.msg));
    expect(back).toHaveLength(1);
    expect(lines.filter((l) => l.level >= 40 && l.clientKey === tenant)).toHaveLength(1);
  });
});
