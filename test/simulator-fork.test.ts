import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { installedAppAuth, startInstalled } from './helpers/simulator-client.ts';
import type { FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled());
  await sim.createRepository('acme', 'up', { files: { 'a.txt': 'a\n' } });
  await sim.forkRepository('acme/up', 'acme', 'up-fork');
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

async function get(path: string): Promise<Response> {
  const url = path.startsWith('http') ? path : `${sim.apiOrigin}/2.0${path}`;
  return fetch(url, { redirect: 'manual', headers: { Authorization: installedAppAuth(sim, 'GET', url) } });
}

describe('forks and pull requests from them', () => {
  it('the PR names the fork as its source; the destination serves the diff but not the fork commit itself', async () => {
    await sim.createBranch('acme/up-fork', 'topic');
    const head = await sim.commit('acme/up-fork', 'topic', { 'b.txt': 'from the fork\n' }, 'B');
    const { id } = await sim.openPullRequest('acme/up', { source: 'topic', sourceRepository: 'acme/up-fork', title: 'Fork PR' });

    const pr = (await (await get(`/repositories/acme/up/pullrequests/${id}`)).json()) as { source: { repository: { full_name: string }; commit: { hash: string } } };
    expect(pr.source.repository.full_name).toBe('acme/up-fork');
    expect(head.startsWith(pr.source.commit.hash)).toBe(true);
    const created = sim.deliveries.find((d) => d.event === 'pullrequest:created');
    expect(created?.body).toMatchObject({ data: { pullrequest: { source: { repository: { full_name: 'acme/up-fork' } }, destination: { repository: { full_name: 'acme/up' } } } } });

    const redirect = await get(`/repositories/acme/up/pullrequests/${id}/diff`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toContain('/repositories/acme/up/diff/acme/up-fork:');
    const diff = await (await get(redirect.headers.get('location')!)).text();
    expect(diff).toContain('+from the fork');

    expect((await get(`/repositories/acme/up/commit/${head}`)).status).toBe(404);
    expect((await get(`/repositories/acme/up-fork/commit/${head}`)).status).toBe(200);
    expect(await (await get(`/repositories/acme/up-fork/src/${head}/b.txt`)).text()).toBe('from the fork\n');
    expect(sim.violations).toEqual([]);
  });

  it('refuses a pull request from a repository that is not a fork of the destination', async () => {
    await sim.createRepository('acme', 'other');
    await expect(sim.openPullRequest('acme/up', { source: 'main', sourceRepository: 'acme/other', title: 'x' })).rejects.toThrow(/not a fork/);
  });
});
