import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';
import { DEMO_REPOSITORY, fakeAwsKeyPair, mainBranchFiles, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { waitForDatacenterResults } from '../src/simulator/datacenter/results.ts';
import { newAccessToken, startDatacenterSession, type DatacenterSession, type RegisteredInstance } from '../src/simulator/datacenter/session.ts';
import { until } from './helpers/until.ts';

// Jobs waiting on a revoked Data Center token run as soon as a new token is registered, through
// the operator API or with `gatehouse datacenter add` beside the running server, not at their
// next look five minutes later (the default wait, kept here: only the release can make the
// pull request publish within the test's deadline).

const REPO = `SEC/${DEMO_REPOSITORY.slug}`;
const NAME = 'Local DC';
/** Far below the five-minute wait the jobs were given. */
const RELEASED_WITHIN = 45_000;

let session: DatacenterSession;
let instance: RegisteredInstance;
let dataDir: string;

/** Revokes the current token, opens a leaking pull request, and returns once its job waits for a new token. */
async function pullRequestWaitingForToken(branch: string): Promise<number> {
  session.dc.revokeToken(session.token);
  await session.dc.createBranch(REPO, branch);
  await session.dc.commit(REPO, branch, pullRequestFiles(fakeAwsKeyPair()), 'Add the nightly S3 export');
  const pr = await session.dc.openPullRequest(REPO, { from: branch, title: DEMO_REPOSITORY.title });
  const clientKey = `datacenter:${instance.instanceId}`;
  const waiting = await until('the job to wait for a new token', async () => {
    const jobs = await session.app.store!.listJobs({ clientKey, status: 'queued' });
    return jobs.find((j) => j.lastError?.startsWith('TenantCredentialsRejectedError:') && Date.parse(j.runAfter) > Date.now() + 60_000);
  });
  expect(waiting.attempts).toBe(0);
  return pr.id;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-e2e-dc-release-'));
  // The default credentials wait (5 minutes); tokens compared every 100 ms.
  session = await startDatacenterSession({ dataDir, tokenWatchMs: 100 });
  await session.dc.createRepository('SEC', DEMO_REPOSITORY.slug, { files: mainBranchFiles() });
  const token = newAccessToken();
  session.dc.addToken(token, 'PROJECT_ADMIN');
  instance = await session.register({ name: NAME, token, project: 'SEC' });
}, 60_000);

afterAll(async () => {
  await session?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a new Data Center token releases the jobs waiting for one', { timeout: 150_000 }, () => {
  it('registered through the operator API', async () => {
    const id = await pullRequestWaitingForToken('feature/after-revocation');
    const fresh = newAccessToken();
    session.dc.addToken(fresh, 'PROJECT_ADMIN');
    await session.register({ name: NAME, token: fresh, project: 'SEC' });
    const published = await waitForDatacenterResults(session.dc, REPO, id, RELEASED_WITHIN);
    expect(published.report.body.result).toBe('FAIL');
  });

  it('registered with `gatehouse datacenter add` beside the running server', async () => {
    const id = await pullRequestWaitingForToken('feature/after-second-revocation');
    const fresh = newAccessToken();
    session.dc.addToken(fresh, 'PROJECT_ADMIN');
    await writeFile(path.join(dataDir, 'dc-token'), `${fresh}\n`);
    let err = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (err += s) },
      stdin: (async function* () {})(),
      // The server's DATA_DIR (its generated encryption key is there too) and BASE_URL.
      env: { DATA_DIR: dataDir, BASE_URL: session.appBaseUrl },
      cwd: dataDir,
    } as unknown as CliIo;
    expect(await main(['datacenter', 'add', '--name', NAME, '--base-url', session.dc.baseUrl, '--token-file', 'dc-token'], io), err).toBe(0);
    const published = await waitForDatacenterResults(session.dc, REPO, id, RELEASED_WITHIN);
    expect(published.report.body.result).toBe('FAIL');
  });
});
