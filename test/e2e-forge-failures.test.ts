import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResults } from '../src/simulator/demo-results.ts';
import { fakeAwsKeyPair, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import { startForgeSession, type ForgeSession } from '../src/simulator/forge/session.ts';
import type { Job } from '../src/store/types.ts';

// What goes wrong on the Forge platform, end to end on the local Forge: events late, early,
// repeated, after uninstall, and a system token Bitbucket stops accepting while a job runs.

describe('Forge failure cases, on the local Forge', { timeout: 180_000 }, () => {
  let dataDir: string;
  let session: ForgeSession;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-forge-failures-'));
    session = await startForgeSession({ dataDir, retryDelayMs: 0, logLevel: 'silent' });
    await session.sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
  }, 60_000);

  afterAll(async () => {
    await session?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** A pull request whose branch adds a leaked AWS key pair. */
  async function leakyPullRequest(repository: string, branch: string): Promise<number> {
    const { sim } = session;
    await sim.createBranch(repository, branch);
    await sim.commit(repository, branch, pullRequestFiles(fakeAwsKeyPair()), `Add ${branch}`);
    return (await sim.openPullRequest(repository, { source: branch, title: branch })).id;
  }

  async function jobsOf(repository: string, prId: number): Promise<Job[]> {
    const group = `pull_request:${session.sim.repository(repository).uuid}:${prId}`;
    return session.app.store!.listJobs({ group });
  }

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Report uploads for a commit, however the repository is named in the path (slug or UUIDs). */
  const reportPuts = (commit: string) => session.sim.apiCalls.filter((c) => c.method === 'PUT' && c.path.includes(`/commit/${commit}/reports/`) && !c.path.includes('/annotations')).length;

  it('an event that arrives before installed bootstraps the installation from its FIT and is scanned; the late installed changes nothing', async () => {
    const { forge, sim, app } = session;
    forge.holdDeliveries = true;
    await forge.install('beta');
    forge.holdDeliveries = false;
    expect(forge.held.map((h) => h.eventType)).toEqual(['avi:forge:installed:app']);

    await sim.createRepository('beta', 'api', { files: { 'README.md': '# api\n' } });
    const prId = await leakyPullRequest('beta/api', 'early');
    const published = await waitForResults(sim, 'beta/api', prId, 60_000);
    expect(published.report.body.result).toBe('FAILED');
    const [before] = (await app.store!.listForgeInstallations()).filter((i) => i.installationId === forge.installation('beta')!.installationId);
    expect(before).toMatchObject({ state: 'installed', workspaceId: sim.workspace('beta').uuid.slice(1, -1) });

    const [late] = await forge.releaseHeld('avi:forge:installed:app');
    expect(late).toMatchObject({ acknowledged: true });
    expect(await app.store!.getForgeInstallation(before!.installationId)).toMatchObject({ state: 'installed', clientKey: before!.clientKey });
    expect(await jobsOf('beta/api', prId)).toHaveLength(1);
  });

  it('a retry storm of one event (raw and wrapped in {payload}, each with its own FIT) runs one scan', async () => {
    const { forge, sim, app } = session;
    forge.holdDeliveries = true;
    const prId = await leakyPullRequest('acme/web', 'storm');
    forge.holdDeliveries = false;
    const created = forge.held.find((h) => h.eventType === 'avi:bitbucket:created:pullrequest')!;
    const copies = Array.from({ length: 11 }, (_, i) =>
      forge.sendEvent('acme', created.eventType, i % 2 === 0 ? created.body : { payload: created.body, retryContext: { retryCount: (i % 4) + 1, retryReason: 'FUNCTION_UPSTREAM_TIMEOUT', retryData: {} } }),
    );
    const deliveries = (await Promise.all([forge.releaseHeld(created.eventType), ...copies])).flat();
    // The branch's push events are dropped: their scan would report on the same commit.
    forge.held.length = 0;
    expect(deliveries).toHaveLength(12);
    expect(deliveries.every((d) => d.acknowledged)).toBe(true);
    expect(deliveries.filter((d) => d.attempts.at(-1)!.status === 202)).toHaveLength(1);

    const published = await waitForResults(sim, 'acme/web', prId, 60_000);
    const jobs = await jobsOf('acme/web', prId);
    expect(jobs).toHaveLength(1);
    await until('the one job to finish', async () => ((await app.store!.getJob(jobs[0]!.id))?.status === 'done' ? true : undefined));
    expect(reportPuts(published.commit)).toBe(1);
    expect(sim.pullRequest('acme/web', prId).comments).toHaveLength(1);
  });

  it('a system token Bitbucket refuses mid-job: the job waits without spending an attempt, nothing half-published, then completes with the next token', async () => {
    const { forge, sim, app } = session;
    const installationId = forge.installation('acme')!.installationId;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The scan's report upload is held in flight; meanwhile Bitbucket stops accepting the token.
    sim.faults.add({ pathPattern: /\/commit\/[0-9a-f]{40}\/reports\/[^/]+$/, method: 'PUT', count: 1, kind: 'slow', until: held });
    const prId = await leakyPullRequest('acme/web', 'expiring');
    await until('the report upload to be in flight', async () => (sim.faults.pending() === 0 ? true : undefined));
    forge.authority.expireSystemTokens(installationId);
    release();

    const waiting = await until('the job to wait for a token', async () => {
      const [job] = await jobsOf('acme/web', prId);
      return job?.status === 'queued' && job.lastError?.includes('waiting for a new Forge app system token') ? job : undefined;
    });
    expect(waiting.attempts).toBe(0);
    const head = sim.pullRequest('acme/web', prId).sourceHash;
    expect(sim.repository('acme/web').reports.get(head) ?? []).toEqual([]);
    expect(sim.pullRequest('acme/web', prId).comments).toEqual([]);
    const installation = (await app.store!.listForgeInstallations()).find((i) => i.installationId === installationId)!;
    expect(Date.parse(installation.systemToken!.expiresAt)).toBeLessThanOrEqual(Date.now());

    // The hourly scheduled trigger brings a fresh token; the waiting job runs at once.
    await forge.runScheduledTriggers();
    const published = await waitForResults(sim, 'acme/web', prId, 60_000);
    expect(published.report.body.result).toBe('FAILED');
    const [job] = await jobsOf('acme/web', prId);
    await until('the job to finish', async () => ((await app.store!.getJob(job!.id))?.status === 'done' ? true : undefined));
    expect((await app.store!.getJob(job!.id))?.attempts).toBe(1);
  });

  it('events that arrive after uninstall are refused: no job, no call to Bitbucket, nothing published', async () => {
    const { forge, sim } = session;
    forge.holdDeliveries = true;
    const prId = await leakyPullRequest('acme/web', 'too-late');
    forge.holdDeliveries = false;
    const [pre] = await forge.uninstall('acme');
    expect(pre).toMatchObject({ acknowledged: true });

    const callsBefore = sim.apiCalls.length;
    const late = await forge.releaseHeld();
    expect(late.length).toBeGreaterThan(0);
    for (const delivery of late) {
      expect(delivery.acknowledged).toBe(false);
      expect(new Set(delivery.attempts.map((a) => a.status))).toEqual(new Set([403]));
    }
    expect(await jobsOf('acme/web', prId)).toEqual([]);
    expect(sim.apiCalls.slice(callsBefore)).toEqual([]);
    expect(sim.pullRequest('acme/web', prId).comments).toEqual([]);
    expect(sim.violations).toEqual([]);
  });
});
