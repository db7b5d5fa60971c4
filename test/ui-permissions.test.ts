import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount } from '../src/simulator/model.ts';
import { grantRepository, grantWorkspace } from '../src/simulator/permissions.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { bitbucketPeople } from '../src/ui/people.ts';
import { PERMISSION_CACHE_MS } from '../src/ui/permission-cache.ts';
import { bitbucketPermissions } from '../src/ui/permissions.ts';
import type { FakeApp } from './simulator-fake-app.ts';
import { simulatorClient, startInstalled } from './helpers/simulator-client.ts';

// The server-side permission checks of the pages, against the simulator's two permission
// endpoints (checked against the OpenAPI description like every simulated call).
let fake: FakeApp;
let sim: Simulator;
let clock = 0;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled({ descriptor: { scopes: ['account', 'repository', 'pullrequest'] } }));
  await sim.createRepository('acme', 'svc', { files: { 'README.md': '# svc\n' } });
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

function checker() {
  const inst = sim.installation()!;
  const client = simulatorClient(sim);
  const clients = { forInstallation: async () => ({ client, baseUrl: inst.baseUrl }) };
  return { check: bitbucketPermissions(clients, () => clock), people: bitbucketPeople(clients, () => clock), clientKey: inst.clientKey };
}

describe('permission checks through the simulator', () => {
  it('the workspace creator is admin and may triage; a stranger may do neither', async () => {
    const { check, clientKey } = checker();
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', sim.user.uuid)).toBe(true);
    expect(await check.canTriage(clientKey, 'acme/svc', sim.user.uuid)).toBe(true);
    const stranger = newAccount('Stranger');
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', stranger.uuid)).toBe(false);
    expect(await check.canTriage(clientKey, 'acme/svc', stranger.uuid)).toBe(false);
    expect(sim.violations).toEqual([]);
  });

  it('a member is not admin; read access cannot triage, write access can', async () => {
    const { check, clientKey } = checker();
    const dev = newAccount('Dev');
    const repo = sim.site.repositories.get('acme/svc')!;
    grantWorkspace(sim.site, repo.workspace, dev, 'member');
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', dev.uuid)).toBe(false);
    expect(await check.canTriage(clientKey, 'acme/svc', dev.uuid)).toBe(false);
    grantRepository(sim.site, repo, dev, 'write');
    // A fresh checker: the first one cached the answer.
    const again = checker();
    expect(await again.check.canTriage(clientKey, 'acme/svc', dev.uuid)).toBe(true);
  });

  it('caches an answer for drawing pages for a minute; a fresh check (for a change) asks Bitbucket now', async () => {
    const { check, clientKey } = checker();
    const admin = newAccount('Admin');
    const ws = sim.site.repositories.get('acme/svc')!.workspace;
    grantWorkspace(sim.site, ws, admin, 'owner');
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', admin.uuid)).toBe(true);
    grantWorkspace(sim.site, ws, admin, 'member');
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', admin.uuid)).toBe(true);
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', admin.uuid, { fresh: true })).toBe(false);
    grantWorkspace(sim.site, ws, admin, 'owner');
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', admin.uuid, { fresh: true })).toBe(true);
    grantWorkspace(sim.site, ws, admin, 'member');
    clock += PERMISSION_CACHE_MS + 1;
    expect(await check.isWorkspaceAdmin(clientKey, 'acme', admin.uuid)).toBe(false);
  });

  it('names workspace members for the triage records, and nobody else', async () => {
    const { people, clientKey } = checker();
    expect(await people.displayName(clientKey, 'acme', sim.user.uuid)).toBe('Sim User');
    expect(await people.displayName(clientKey, 'acme', newAccount('Gone').uuid)).toBeNull();
    expect(await people.displayName(clientKey, 'acme', 'not-a-uuid')).toBeNull();
  });

  it('refuses a user id that is not a uuid rather than build a filter from it', async () => {
    const { check, clientKey } = checker();
    await expect(check.isWorkspaceAdmin(clientKey, 'acme', '{x}" OR permission="owner')).rejects.toThrow(/uuid/);
  });
});
