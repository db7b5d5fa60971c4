import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForResults } from '../src/simulator/demo-results.ts';
import { fakeAwsKeyPair, pullRequestFiles } from '../src/simulator/demo-repository.ts';
import type { UiAnswer } from '../src/simulator/forge/local-forge.ts';
import { startForgeSession, type ForgeSession } from '../src/simulator/forge/session.ts';
import { grantRepository, grantWorkspace } from '../src/simulator/permissions.ts';
import type { PullRequestPanelModel } from '../src/ui/view-models/pull-request.ts';
import type { FindingsPage, RepositoryPanelModel } from '../src/ui/view-models/repository.ts';
import type { ForgeSettingsModel, SettingsModel } from '../src/ui/view-models/settings.ts';
import { leakyFiles } from './helpers/leaky-files.ts';

// Triage and settings from the Forge Custom UI, through the local Forge: Forge signs each call
// for the frame's place and user and sends the user's token; Gatehouse asks the simulated
// Bitbucket, with that token, whether the user may, and changes what Connect's pages change.

describe('Forge Custom UI writes, on the local Forge', { timeout: 120_000 }, () => {
  let dataDir: string;
  let session: ForgeSession;
  let prId: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-forge-ui-'));
    session = await startForgeSession({ dataDir, retryDelayMs: 0, logLevel: 'silent' });
    const { sim } = session;
    await sim.createRepository('acme', 'web', { files: { 'README.md': '# web\n' } });
    await sim.createBranch('acme/web', 'leak');
    await sim.commit('acme/web', 'leak', pullRequestFiles(fakeAwsKeyPair()), 'Add the export');
    prId = (await sim.openPullRequest('acme/web', { source: 'leak', title: 'Add the export' })).id;
    await waitForResults(sim, 'acme/web', prId, 60_000);
  }, 120_000);

  afterAll(async () => {
    await session?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function frame(type: string, place: { repository?: string; pullRequestId?: number }): string {
    const module = session.forge.manifest.uiModules.find((m) => m.type === type);
    if (!module) throw new Error(`no ${type} module deployed`);
    return session.forge.openFrame(module, { workspace: 'acme', ...place });
  }

  const panel = () => frame('bitbucket:repoPullRequestOverviewPanel', { repository: 'acme/web', pullRequestId: prId });
  const settingsPage = () => frame('bitbucket:workspaceSettingsMenuPage', {});
  const invoke = (id: string, path: string, method: string, body?: unknown): Promise<UiAnswer> => session.forge.invokeFromFrame(id, { path, method, ...(body === undefined ? {} : { body }) });

  function withRole<T>(role: { repository?: 'read' | 'write' | 'admin'; workspace?: 'member' | 'owner' }, run: () => Promise<T>): Promise<T> {
    const { sim } = session;
    const repo = sim.repository('acme/web');
    if (role.repository) grantRepository(sim.site, repo, sim.user, role.repository);
    if (role.workspace) grantWorkspace(sim.site, repo.workspace, sim.user, role.workspace);
    return run().finally(() => {
      grantRepository(sim.site, repo, sim.user, 'admin');
      grantWorkspace(sim.site, repo.workspace, sim.user, 'owner');
    });
  }

  it('triages a finding and removes the mark for a user with write access, as the Connect panel does', async () => {
    const id = panel();
    const first = await invoke(id, '/forge/ui/pull-request', 'POST', {});
    expect(first.status).toBe(200);
    const model = first.body as unknown as PullRequestPanelModel;
    expect(model.canTriage).toBe(true);
    const finding = model.newGroups.flatMap((g) => g.findings)[0]!;
    expect(finding.triage).toBeNull();

    const marked = await withRole({ repository: 'write', workspace: 'member' }, () =>
      invoke(id, '/forge/ui/pull-request', 'POST', { triage: { fingerprint: finding.fingerprint, status: 'false_positive', reason: 'Example key from the docs' } }),
    );
    expect(marked.status).toBe(200);
    const after = (marked.body as unknown as PullRequestPanelModel).newGroups.flatMap((g) => g.findings).find((f) => f.fingerprint === finding.fingerprint);
    expect(after?.triage).toMatchObject({ status: 'false_positive', reason: 'Example key from the docs', by: session.sim.user.uuid });

    // The audit on the settings page is the one Connect shows: who (Bitbucket uuid), what, why.
    const audit = ((await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as SettingsModel).audit;
    expect(audit).toEqual([expect.objectContaining({ fingerprint: finding.fingerprint, status: 'False positive', reason: 'Example key from the docs', by: session.sim.user.uuid, repoUuid: session.sim.repository('acme/web').uuid })]);

    const cleared = await invoke(id, '/forge/ui/pull-request', 'POST', { untriage: { fingerprint: finding.fingerprint } });
    expect(cleared.status).toBe(200);
    expect((cleared.body as unknown as PullRequestPanelModel).newGroups.flatMap((g) => g.findings).find((f) => f.fingerprint === finding.fingerprint)?.triage).toBeNull();
  });

  it('refuses triage with 403 JSON to a user who can only read the repository, and changes nothing', async () => {
    const id = panel();
    const model = (await invoke(id, '/forge/ui/pull-request', 'POST', {})).body as unknown as PullRequestPanelModel;
    const finding = model.newGroups.flatMap((g) => g.findings)[0]!;
    const { refused, shown } = await withRole({ repository: 'read' }, async () => ({
      refused: await invoke(id, '/forge/ui/pull-request', 'POST', { triage: { fingerprint: finding.fingerprint, status: 'ignored', reason: 'not mine to decide' } }),
      shown: await invoke(panel(), '/forge/ui/pull-request', 'POST', {}),
    }));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: { code: 'not_allowed', message: 'Only people with write access to this repository can triage its findings' } });
    // The panel stops offering them the controls too.
    expect((shown.body as unknown as PullRequestPanelModel).canTriage).toBe(false);
    expect(((await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as SettingsModel).audit).toEqual([]);
  });

  it('rejects a malformed triage request with 400 naming the field', async () => {
    const res = await invoke(panel(), '/forge/ui/pull-request', 'POST', { triage: { fingerprint: 'x', status: 'ignored', reason: '' } });
    expect(res.status).toBe(400);
    expect(String((res.body as { error: { message: string } }).error.message)).toMatch(/triage\.fingerprint.*triage\.reason|triage\.reason.*triage\.fingerprint/);
  });

  it('saves the settings for a workspace admin, with the same validation as Connect', async () => {
    const id = settingsPage();
    const page = (await invoke(id, '/forge/ui/settings', 'GET')).body as unknown as SettingsModel;
    expect(page).toMatchObject({ canEdit: true, isDefault: true });
    const form = { ...page.form, threshold: 'critical', ignoredPaths: 'test/fixtures/**' };
    const saved = await invoke(id, '/forge/ui/settings', 'POST', form);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ saved: true, isDefault: false, form: { threshold: 'critical', ignoredPaths: 'test/fixtures/**' } });

    const bad = await invoke(id, '/forge/ui/settings', 'POST', { ...form, threshold: 'severe', environments: 'main production' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ saved: false, form: { threshold: 'severe' }, errors: { threshold: expect.any(String), environments: expect.stringMatching(/^Line 1/) } });
    expect(((await invoke(id, '/forge/ui/settings', 'GET')).body as unknown as SettingsModel).form.threshold).toBe('critical');

    const wrongShape = await invoke(id, '/forge/ui/settings', 'POST', { ...form, secrets: 'on' });
    expect(wrongShape.status).toBe(400);
  });

  it('says on the settings page that scans wait while the stored system token cannot start a job, and stops once a fresh one came', async () => {
    const { app, forge } = session;
    const healthy = (await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as ForgeSettingsModel;
    expect(healthy.tokenNotice).toBeNull();

    const stored = (await app.store!.listForgeInstallations()).find((i) => i.installationId === forge.installation('acme')!.installationId)!;
    const expiresAt = new Date(Date.now() - 60_000).toISOString();
    await app.store!.putForgeInstallation({ ...stored, systemToken: { ...stored.systemToken!, expiresAt } });
    const waiting = (await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as ForgeSettingsModel;
    expect(waiting.tokenNotice).toBe(`waiting for a new Forge app system token (expired at ${expiresAt}); scans resume with the next Bitbucket event or the hourly scheduled trigger`);

    await forge.runScheduledTriggers();
    expect(((await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as ForgeSettingsModel).tokenNotice).toBeNull();
  });

  it('answers 404 JSON for the SBOM of a main branch not scanned yet', async () => {
    const res = await invoke(frame('bitbucket:repoCodeOverviewPanel', { repository: 'acme/web' }), '/forge/ui/repository', 'POST', { sbom: true });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'no_sbom' } });
  });

  it('refuses a settings change with 403 JSON to a workspace member who is not an admin', async () => {
    const id = settingsPage();
    const page = (await invoke(id, '/forge/ui/settings', 'GET')).body as unknown as SettingsModel;
    const { refused, shown } = await withRole({ workspace: 'member' }, async () => ({
      refused: await invoke(id, '/forge/ui/settings', 'POST', { ...page.form, threshold: 'low' }),
      shown: (await invoke(settingsPage(), '/forge/ui/settings', 'GET')).body as unknown as SettingsModel,
    }));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: { code: 'not_admin', message: 'Only workspace admins can change Gatehouse settings' } });
    expect(shown).toMatchObject({ canEdit: false, form: { threshold: 'critical' } });
    expect(session.sim.violations).toEqual([]);
  });

  // Last: it pushes to main, which the SBOM test above expects unscanned.
  it("lists the main branch's 20 worst open findings with source links and masked previews, and pages the rest", async () => {
    const { sim } = session;
    const { keys, files } = leakyFiles(75);
    await sim.commit('acme/web', 'main', files, 'Add the service configs');
    const head = (await sim.repository('acme/web').git.branchHead('main'))!;
    const id = frame('bitbucket:repoCodeOverviewPanel', { repository: 'acme/web' });
    const deadline = Date.now() + 60_000;
    let model = (await invoke(id, '/forge/ui/repository', 'POST', {})).body as unknown as RepositoryPanelModel;
    while (model.openTotal < keys.length) {
      if (Date.now() > deadline) throw new Error(`the main branch scan never listed the ${keys.length} keys (${model.openTotal} open)`);
      await new Promise((r) => setTimeout(r, 200));
      model = (await invoke(id, '/forge/ui/repository', 'POST', {})).body as unknown as RepositoryPanelModel;
    }
    expect(model).toMatchObject({ repoFullName: 'acme/web', openTotal: 75, moreTotal: 55, pageSize: 50 });
    expect(model.findings).toHaveLength(20);
    expect(model.findings[0]).toMatchObject({ kind: 'secret', path: 'config/service-00.env', line: 2, sourceHref: `${sim.webOrigin}/acme/web/src/${head}/config/service-00.env#lines-2` });
    expect(model.findings[0]!.preview).toMatch(/^AK\*{10,}[A-Z]{2}$/);

    const second = await invoke(id, '/forge/ui/repository', 'POST', { findings: { offset: 20 } });
    expect(second.status).toBe(200);
    const page = second.body as unknown as FindingsPage;
    expect(page).toMatchObject({ offset: 70, remaining: 5, pageSize: 50 });
    expect(page.findings.map((f) => f.path)).toEqual(keys.slice(20, 70).map((_, i) => `config/service-${String(i + 20).padStart(2, '0')}.env`));
    const last = (await invoke(id, '/forge/ui/repository', 'POST', { findings: { offset: 70 } })).body as unknown as FindingsPage;
    expect(last).toMatchObject({ offset: 75, remaining: 0 });
    expect(last.findings).toHaveLength(5);

    const answers = JSON.stringify([model, page, last]);
    for (const key of keys) expect(answers).not.toContain(key);

    for (const findings of [{ offset: -1 }, { offset: 1.5 }, { offset: 2_000_000 }, { offset: '20' }, { offset: 0, limit: 1000 }]) {
      const bad = await invoke(id, '/forge/ui/repository', 'POST', { findings });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: { code: expect.any(String), message: expect.stringMatching(/findings/) } });
    }
    expect(sim.violations).toEqual([]);
  });
});
