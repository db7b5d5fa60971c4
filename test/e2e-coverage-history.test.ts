import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryView } from '../src/core/coverage/progress.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const AUTHOR = { name: 'Dev One', email: 'dev.one@example.invalid' };
const MAX_COMMITS = 4;

describe('history scan for secrets end to end: git clone over smart HTTP from the simulator', { timeout: 120_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let tenant: { clientKey: string; sharedSecret: string };

  const uuidOf = async (fullName: string) => (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === fullName)!.uuid;
  const history = async (fullName: string) => {
    const view = (await signedCall(app.baseUrl, tenant, 'GET', '/api/coverage')).body as { history: HistoryView[] };
    return view.history.find((h) => h.repository === fullName);
  };
  const askHistory = async (fullName: string) => {
    const asked = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'history', repository: await uuidOf(fullName) } });
    expect(asked.status).toBe(200);
    await app.settle(60_000);
  };
  const ownCloneDirs = async () => (await readdir(os.tmpdir())).filter((n) => n.startsWith(`gatehouse-history-${process.pid}-`));

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('history', { tuning: { historyLimits: { maxCommits: MAX_COMMITS } } }));
    tenant = sim.installation()!;
    await sim.createRepository('acme', 'leaky', { files: { 'README.md': '# leaky\n', 'src/app.js': 'module.exports = 1;\n' } });
    await sim.createRepository('acme', 'deep', { files: { 'README.md': '# deep\n' } });
    await sim.createRepository('acme', 'huge', { files: { 'README.md': '# huge\n' } });
    sim.repository('acme/huge').sizeBytes = 3 * 1024 * 1024 * 1024;
    const deep = sim.repository('acme/deep').git;
    for (let i = 0; i < MAX_COMMITS + 2; i++) await deep.commit('main', { [`notes/${i}.md`]: `note ${i}\n` }, `note ${i}`, AUTHOR);
    const asked = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'discover' } });
    expect(asked.status).toBe(200);
    await app.settle(60_000);
  });

  afterAll(async () => {
    await stop?.();
  });

  it('finds a secret committed then deleted, with the commit that added it, its author date and path, never as new', async () => {
    const git = sim.repository('acme/leaky').git;
    const added = await git.commit('main', { 'config/deploy.env': `AWS_ACCESS_KEY_ID=${KEY}\n` }, 'Add deploy settings', AUTHOR);
    await git.commit('main', { 'config/deploy.env': null }, 'Remove the key again', AUTHOR);
    const head = (await git.branchHead('main'))!;
    const gitBefore = sim.site.gitRequests;

    await askHistory('acme/leaky');

    const view = await history('acme/leaky');
    expect(view).toMatchObject({ state: 'done', commit: head, branch: 'main', findings: 1, reason: null });
    const { date } = await git.commitInfo(added);
    expect(view!.inHistory).toEqual([expect.objectContaining({ path: 'config/deploy.env', line: 1, commit: added, authorDate: date })]);
    expect(view!.inHistory[0]!.preview).not.toContain(KEY);
    expect(view!.notices[0]).toMatch(/^History of main scanned: 3 commits/);
    // Over git's smart HTTP: the ref advertisement and at least one upload-pack.
    expect(sim.site.gitRequests - gitBefore).toBeGreaterThanOrEqual(2);

    const stored = (await app.results.getScan(tenant.clientKey, await uuidOf('acme/leaky'), head, 'history'))!;
    expect(stored.findings.every((f) => !f.isNew)).toBe(true);
    expect(stored.counts.new).toBe(0);
    // The whole-branch scan of the same head knows nothing of it: the file is gone there.
    expect((await app.results.getScan(tenant.clientKey, await uuidOf('acme/leaky'), head, 'branch'))?.findings ?? []).toEqual([]);
    // No token in what was stored, and the clone's directory is gone.
    const stored_ = JSON.stringify(stored);
    for (const token of sim.site.accessTokens.keys()) expect(stored_).not.toContain(token);
    expect(await ownCloneDirs()).toEqual([]);
    expect(sim.violations).toEqual([]);

    // The inventory lists it as an open "in history" finding with the commit, author date and path.
    const page = (await signedCall(app.baseUrl, tenant, 'GET', '/api/inventory?type=finding,repository&repository=acme/leaky')).body as { items: Record<string, unknown>[] };
    expect(page.items.find((e) => e.type === 'finding')).toMatchObject({ kind: 'secret', state: 'open', inHistory: true, commit: added, path: 'config/deploy.env', branch: 'main', history: { commit: added, authorDate: date } });
    expect(page.items.find((e) => e.type === 'repository')).toMatchObject({ findings: { open: 1, inHistory: 1 } });
    const onHead = (await signedCall(app.baseUrl, tenant, 'GET', '/api/inventory?type=finding&repository=acme/leaky&inHistory=false')).body as { items: unknown[] };
    expect(onHead.items).toEqual([]);
  });

  it('says so when the history is deeper than the commit bound, keeping what it scanned', async () => {
    await askHistory('acme/deep');
    const view = await history('acme/deep');
    expect(view).toMatchObject({ state: 'stopped', findings: 0 });
    expect(view!.reason).toMatch(new RegExp(`more than ${MAX_COMMITS} commits; only the newest ${MAX_COMMITS} were scanned`));
    expect(view!.notices[0]).toMatch(new RegExp(`scanned: ${MAX_COMMITS} commits`));
  });

  it('does not clone a repository over the size bound, and says why', async () => {
    const before = sim.site.gitRequests;
    await askHistory('acme/huge');
    const view = await history('acme/huge');
    expect(view).toMatchObject({ state: 'stopped', findings: 0 });
    expect(view!.reason).toMatch(/is 3072 MB, over the 2048 MB bound of a history scan; it was not cloned/);
    expect(sim.site.gitRequests).toBe(before);
  });

  it('records the refusal when the code host refuses the token for git, and removes the clone directory', async () => {
    // The app holds a token it was granted; the site forgets it (revoked), so git is answered 401.
    sim.site.accessTokens.clear();
    await askHistory('acme/leaky');
    const view = await history('acme/leaky');
    expect(view).toMatchObject({ state: 'stopped', findings: 0 });
    expect(view!.reason).toMatch(/refused the installation's access token for git \(401\)/);
    expect(await ownCloneDirs()).toEqual([]);
  });

  it('refuses a malformed or unknown repository with a JSON error', async () => {
    const bad = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'history', repository: 'acme/leaky' } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('invalid_request');
    const unknown = await signedCall(app.baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'history', repository: '{00000000-0000-4000-8000-000000000000}' } });
    expect(unknown.status).toBe(404);
    expect((unknown.body as { error: { code: string } }).error.code).toBe('no_such_repository');
  });
});
