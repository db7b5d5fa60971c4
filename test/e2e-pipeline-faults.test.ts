import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultKind } from '../src/simulator/faults.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

// A token whose CRC32 checksum verifies, as a real one does (a failing checksum lowers the severity).
const LEAK = 'const token = "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";\n';

/** Every publishing call, by the path it goes to. */
const CALLS: { name: string; method: string; path: (slug: string) => RegExp }[] = [
  { name: 'report PUT', method: 'PUT', path: (slug) => new RegExp(`/acme/${slug}/commit/[0-9a-f]+/reports/gatehouse-security$`) },
  { name: 'annotations POST', method: 'POST', path: (slug) => new RegExp(`/acme/${slug}/commit/[0-9a-f]+/reports/gatehouse-security/annotations$`) },
  { name: 'build status POST', method: 'POST', path: (slug) => new RegExp(`/acme/${slug}/commit/[0-9a-f]+/statuses/build$`) },
  { name: 'comment POST', method: 'POST', path: (slug) => new RegExp(`/acme/${slug}/pullrequests/\\d+/comments$`) },
];
const KINDS: { kind: FaultKind; count: number }[] = [
  { kind: '429-retry-after', count: 2 },
  // More failures than the client retries within one attempt: the job itself is retried.
  { kind: '500', count: 6 },
];

describe('pipeline end to end: 429 and 5xx on every publishing call', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('faults', { tuning: { concurrency: 8, maxAttempts: 8, retryBaseDelayMs: 20 } }));
  });

  afterAll(async () => stop?.());

  it('publishes every result exactly once despite the faults', { timeout: 90_000 }, async () => {
    const cases = CALLS.flatMap((call) => KINDS.map((k) => ({ ...call, ...k, slug: `f-${call.name.split(' ')[0]}-${k.kind}`.toLowerCase() })));
    const prs: { slug: string; id: number }[] = [];
    for (const c of cases) {
      await sim.createRepository('acme', c.slug);
      await sim.createBranch(`acme/${c.slug}`, 'leak');
      await sim.commit(`acme/${c.slug}`, 'leak', { 'app.js': LEAK }, 'Leak');
      sim.faults.add({ pathPattern: c.path(c.slug), method: c.method, count: c.count, kind: c.kind, retryAfterSeconds: 1 });
      prs.push({ slug: c.slug, id: (await sim.openPullRequest(`acme/${c.slug}`, { source: 'leak', title: 'Leak' })).id });
    }
    const jobs = await app.settle(60_000);
    expect(jobs.filter((j) => j.status === 'dead').map((j) => j.lastError)).toEqual([]);
    expect(sim.faults.pending()).toBe(0);

    for (const { slug, id } of prs) {
      const repo = sim.repository(`acme/${slug}`);
      const head = sim.pullRequest(`acme/${slug}`, id).sourceHash;
      // The push of the branch has its own report on the same head; the PR's is the one under test.
      const reports = repo.reports.get(head) ?? [];
      expect(reports.map((r) => r.externalId).sort(), slug).toEqual(['gatehouse-push', 'gatehouse-security']);
      const report = reports.find((r) => r.externalId === 'gatehouse-security')!;
      expect(report.body.result, slug).toBe('FAILED');
      expect(report.annotations, slug).toHaveLength(1);
      expect(repo.statuses.get(head)?.get('gatehouse-security')?.body.state, slug).toBe('FAILED');
      expect(sim.pullRequest(`acme/${slug}`, id).comments, slug).toHaveLength(1);
    }
  });

  it('edits the comment through 503s on the comment PUT without creating a second one', { timeout: 60_000 }, async () => {
    const slug = 'f-comment-put';
    await sim.createRepository('acme', slug);
    await sim.createBranch(`acme/${slug}`, 'leak');
    await sim.commit(`acme/${slug}`, 'leak', { 'app.js': LEAK }, 'Leak');
    const { id } = await sim.openPullRequest(`acme/${slug}`, { source: 'leak', title: 'Leak' });
    await app.settle();
    sim.faults.add({ pathPattern: new RegExp(`/acme/${slug}/pullrequests/\\d+/comments/\\d+$`), method: 'PUT', count: 7, kind: '503' });
    await sim.updatePullRequest(`acme/${slug}`, id, { 'app.js': 'const token = process.env.TOKEN;\n' }, 'Fix');
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.status === 'dead')).toEqual([]);
    expect(sim.faults.pending()).toBe(0);
    const comments = sim.pullRequest(`acme/${slug}`, id).comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.raw).toContain('fixed');
  });

  it('made no request Bitbucket would refuse', () => {
    expect(sim.violations).toEqual([]);
  });
});
