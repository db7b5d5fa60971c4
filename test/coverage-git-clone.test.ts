import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloneError, withClone, type CloneBounds } from '../src/core/coverage/git-clone.ts';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';

/**
 * The clone of a history scan against the simulator's git smart HTTP: token check, the size
 * and time bounds, and the temporary directory gone in every case (also one a killed server left).
 */
describe('history clone: git over smart HTTP, bounded, cleaned up', { timeout: 60_000 }, () => {
  let sim: Simulator;
  let parent: string;
  let token: string;
  const bounds = (over: Partial<CloneBounds> = {}): CloneBounds => ({ maxBytes: 64 * 1024 * 1024, maxCommits: 100, deadline: Date.now() + 30_000, ...over });
  const remote = (authorization = `Bearer ${token}`) => ({ url: `${sim.webOrigin}/acme/big.git`, authorization });

  beforeAll(async () => {
    sim = await startSimulator({ appBaseUrl: 'http://127.0.0.1:1', retryDelayMs: 0 });
    parent = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-clone-test-'));
    // Incompressible content, so the clone's size on disk is what was committed.
    await sim.createRepository('acme', 'big', { files: { 'blob.bin': randomBytes(600 * 1024).toString('base64'), 'README.md': '# big\n' } });
    // An installation of the workspace holding an access token, without an app behind it.
    const principal = sim.repository('acme/big').workspace;
    sim.site.installations.set('clone-test', { clientKey: 'clone-test', sharedSecret: 's', installed: true, principal, installedOn: new Date().toISOString() });
    token = 'test-token-0123456789abcdef';
    sim.site.accessTokens.set(token, { clientKey: 'clone-test', expiresAt: Date.now() + 3_600_000 });
  });

  afterAll(async () => {
    await sim?.stop();
    await rm(parent, { recursive: true, force: true });
  });

  it('clones with the token as a Bearer header and removes the directory afterwards', async () => {
    const seen = await withClone(remote(), 'main', bounds(), async (gitDir) => (await readdir(gitDir)).includes('HEAD'), parent);
    expect(seen).toBe(true);
    expect(await readdir(parent)).toEqual([]);
  });

  it('is refused without a valid token (401), with no token in the message', async () => {
    const refused = withClone(remote('Bearer not-a-token-at-all'), 'main', bounds(), async () => true, parent);
    await expect(refused).rejects.toMatchObject({ kind: 'refused', message: expect.stringMatching(/\(401\)/) });
    await expect(refused).rejects.not.toThrow(/not-a-token-at-all/);
    expect(await readdir(parent)).toEqual([]);
  });

  it('stops git at the size bound and at the time bound, saying which', async () => {
    const tooBig = withClone(remote(), 'main', bounds({ maxBytes: 100 * 1024 }), async () => true, parent);
    await expect(tooBig).rejects.toBeInstanceOf(CloneError);
    await expect(tooBig).rejects.toMatchObject({ kind: 'bound', message: expect.stringMatching(/size bound/) });
    const late = withClone(remote(), 'main', bounds({ deadline: Date.now() - 1 }), async () => true, parent);
    await expect(late).rejects.toMatchObject({ kind: 'bound', message: expect.stringMatching(/time bound had passed/) });
    expect(await readdir(parent)).toEqual([]);
  });

  it('removes what a killed server left, and the work fails without leaving its directory', async () => {
    // No process has pid 2^22 + 1 (above Linux's pid_max default): its clone directory is abandoned.
    await mkdir(path.join(parent, `gatehouse-history-${2 ** 22 + 1}-abc123`, 'repo.git'), { recursive: true });
    await expect(withClone(remote(), 'main', bounds(), async () => {
      throw new Error('the scan failed');
    }, parent)).rejects.toThrow('the scan failed');
    expect(await readdir(parent)).toEqual([]);
  });
});
