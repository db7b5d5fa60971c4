import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { createLogger } from '../src/log.ts';
import { until } from './helpers/until.ts';
import { waitForResults, type Published } from '../src/simulator/demo-results.ts';
import { runDemo, type DemoRun } from '../src/simulator/demo.ts';
import { fakeAwsKeyPair, pullRequestFixFiles } from '../src/simulator/demo-repository.ts';
import { runForgeDemo, type ForgeDemoRun } from '../src/simulator/forge/demo.ts';

// The same round trip through both front doors, in one run: install, a pull request that
// leaks an AWS key pair and pins vulnerable packages, then the author's fix. On the local
// Forge (FITs, system tokens, Forge events) Gatehouse must publish what it publishes on
// Connect: the same report and annotations, the same build status, one comment edited in place.

const leaked = fakeAwsKeyPair();
const FIX_MESSAGE = 'Read AWS credentials from the role; bump lodash and minimist';

/**
 * What may differ between two runs: origins, hashes, ids, keyed fingerprints, times and
 * durations, and how a link names the repository (Forge events carry UUIDs, not slugs).
 */
function normalize(value: unknown): unknown {
  const text = JSON.stringify(value)
    .replace(/https?:\/\/[^\s"')\]]+/g, '<url>')
    .replace(/\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?/g, '<uuid>')
    .replace(/\b[0-9a-f]{12,}\b/g, '<hex>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g, '<time>')
    .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, '<duration>');
  return JSON.parse(text);
}

function published(p: Published) {
  const byPlace = (a: { body: Record<string, unknown> }, b: { body: Record<string, unknown> }) =>
    `${String(a.body.path)}:${String(a.body.line).padStart(6)}:${String(a.body.summary)}`.localeCompare(`${String(b.body.path)}:${String(b.body.line).padStart(6)}:${String(b.body.summary)}`);
  const data = Array.isArray(p.report.body.data) ? (p.report.body.data as { type?: unknown }[]).filter((d) => d.type !== 'DURATION') : [];
  return normalize({
    report: { ...p.report.body, data, created_on: undefined, updated_on: undefined },
    annotations: [...p.report.annotations].sort(byPlace).map((a) => ({ ...a.body, external_id: undefined })),
    buildStatus: p.buildStatus.body,
    comment: p.comment.raw,
  });
}

describe('Forge round trip on the local Forge, beside Connect', { timeout: 300_000 }, () => {
  let connect: DemoRun;
  let connectFailing: Published;
  let connectFixed: Published;
  let forge: ForgeDemoRun;

  beforeAll(async () => {
    connect = await runDemo({ timeoutMs: 90_000, leaked });
    // A copy: the simulator edits its comment object in place when the fix comes.
    connectFailing = structuredClone(connect.published);
    await connect.session.sim.updatePullRequest(connect.repository, connect.pullRequestId, pullRequestFixFiles(), FIX_MESSAGE);
    connectFixed = await waitForResults(connect.session.sim, connect.repository, connect.pullRequestId, 90_000);
    await connect.stop();
    forge = await runForgeDemo({ timeoutMs: 90_000, leaked, retryDelayMs: 0 });
  }, 300_000);

  afterAll(async () => {
    await connect?.stop();
    await forge?.stop();
  });

  it('publishes the same failing report, annotations, build status and comment as Connect', () => {
    expect(forge.failing.report.body).toMatchObject({ report_type: 'SECURITY', result: 'FAILED' });
    expect(forge.failing.report.annotations.length).toBeGreaterThan(0);
    expect(forge.failing.buildStatus.body).toMatchObject({ key: 'gatehouse-security', state: 'FAILED', refname: 'feature/nightly-export' });
    expect(published(forge.failing)).toEqual(published(connectFailing));
  });

  it('after the fix, passes and edits the one comment in place, as on Connect', () => {
    expect(forge.fixed.report.body.result).toBe('PASSED');
    expect(forge.fixed.buildStatus.body.state).toBe('SUCCESSFUL');
    const comments = forge.session.sim.pullRequest(forge.repository, forge.pullRequestId).comments;
    expect(comments).toHaveLength(1);
    expect(forge.fixed.comment.id).toBe(forge.failing.comment.id);
    expect(forge.fixed.comment.updatedOn > forge.failing.comment.createdOn || forge.fixed.comment.raw !== forge.failing.comment.raw).toBe(true);
    expect(published(forge.fixed)).toEqual(published(connectFixed));
  });

  it('went through Forge only: every event acknowledged, FIT-signed, and no call Bitbucket would refuse', () => {
    const { sim, forge: local } = forge.session;
    expect(sim.deliveries).toEqual([]);
    expect(local.deliveries.length).toBeGreaterThan(0);
    expect(local.deliveries.filter((d) => !d.acknowledged)).toEqual([]);
    expect(sim.violations).toEqual([]);
    // The same repository named two ways (by UUID for the tenant, by slug in the pull request)
    // is no fork: the diff comes from the commits, as on Connect, not the fork-only PR diff.
    expect(sim.apiCalls.filter((c) => /\/pullrequests\/\d+\/diff(stat)?$/.test(c.path))).toEqual([]);
    const everything = JSON.stringify([forge.failing, forge.fixed]);
    expect(everything).not.toContain(leaked.accessKeyId);
    expect(everything).not.toContain(leaked.secretAccessKey);
  });

  it('discovers and backfills the workspace through Forge too (its system token, the same pipeline as Connect)', async () => {
    const { app, sim } = forge.session;
    const [installation] = await app.store!.listForgeInstallations();
    const tenant = installation!.clientKey;
    const scheduler = new CoverageScheduler({ store: app.store!, results: app.results!, logger: createLogger('silent'), onQueued: () => app.wake() });
    await scheduler.tick();
    await until('the Forge backfill to finish', async () => ((await app.results!.getCoverage(tenant))?.state === 'done' ? true : undefined), 90_000);
    const repos = await app.results!.listRepositories(tenant);
    expect(repos.map((r) => r.fullName)).toContain(forge.repository);
    expect((await app.results!.listRepositoryCoverage(tenant)).map((e) => e.status)).toEqual(repos.map(() => 'scanned'));
    // The workspace's repositories, listed with the Forge installation's token (no Connect installation here).
    expect(sim.apiCalls.some((c) => /^\/2\.0\/repositories\/[^/]+$/.test(c.path))).toBe(true);
    expect(sim.violations).toEqual([]);
  });
});
