import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const npmLock = (name: string, version: string) =>
  JSON.stringify({
    name: 'svc',
    lockfileVersion: 3,
    packages: { '': { name: 'svc' }, [`node_modules/${name}`]: { version, resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz` } },
  });

describe('pipeline end to end: the first dependency inventory walks the whole tree', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('inventory'));
  });

  afterAll(async () => stop?.());

  it('reads nested lockfiles on the first push to main, skips vendored trees, lists them in the SBOM', async () => {
    const files: Record<string, string> = {
      'README.md': 'mono\n',
      'services/api/package-lock.json': npmLock('lodash', '4.17.20'),
      'services/api/src/index.js': 'module.exports = 1;\n',
      'tools/requirements.txt': 'requests==2.19.0\n',
      'services/api/node_modules/left-pad/package-lock.json': npmLock('left-pad', '1.3.0'),
      'vendor/lib/requirements.txt': 'flask==0.12\n',
    };
    // More than a page of entries in one directory, so the listing's pagination is followed.
    for (let i = 0; i < 120; i++) files[`docs/page-${String(i).padStart(3, '0')}.md`] = `${i}\n`;
    files['docs/zz/Gemfile.lock'] = 'GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.0.1)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack\n';
    await sim.createRepository('acme', 'mono', { files });
    const repo = sim.repository('acme/mono');
    const head = await sim.commit('acme/mono', 'main', { 'CHANGELOG.md': 'first\n' }, 'First push');
    await app.settle();

    const inventory = await app.results.getInventory(sim.installation()!.clientKey, repo.uuid, 'main');
    expect(inventory?.commit).toBe(head);
    expect(Object.keys(inventory!.files).sort()).toEqual(['docs/zz/Gemfile.lock', 'services/api/package-lock.json', 'tools/requirements.txt']);
    expect(inventory!.packages.map((p) => `${p.path}:${p.name}@${p.version}`).sort()).toEqual([
      'docs/zz/Gemfile.lock:rack@2.0.1',
      'services/api/package-lock.json:lodash@4.17.20',
      'tools/requirements.txt:requests@2.19.0',
    ]);
    const sbom = JSON.parse(inventory!.sbom) as { components: { purl: string }[] };
    expect(sbom.components.map((c) => c.purl).sort()).toEqual(['pkg:gem/rack@2.0.1', 'pkg:npm/lodash@4.17.20', 'pkg:pypi/requests@2.19.0']);
    expect(sim.violations).toEqual([]);
  });
});

describe('pipeline end to end: the inventory of a branch only moves forward', () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, sim, stop } = await startPipelineOnSimulator('inventory-order'));
  });

  afterAll(async () => stop?.());

  it('two pushes to main finishing out of order: the earlier one, finishing last, does not overwrite the later SBOM', async () => {
    await sim.createRepository('acme', 'order', { files: { 'README.md': 'order\n', 'requirements.txt': 'requests==2.19.0\n' } });
    const repo = sim.repository('acme/order');
    const { clientKey } = sim.installation()!;
    await app.worker.stop();
    const first = await sim.commit('acme/order', 'main', { 'requirements.txt': 'requests==2.20.0\n' }, 'First');
    // The first push's diff download is held until the second push has published its inventory.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    sim.faults.add({ pathPattern: new RegExp(`/acme/order/diff/${first}\\.\\.`), count: 1, kind: 'slow', until: held });
    const second = await sim.commit('acme/order', 'main', { 'requirements.txt': 'requests==2.31.0\n' }, 'Second');
    app.worker.start();
    try {
      const deadline = Date.now() + 60_000;
      while ((await app.results.getInventory(clientKey, repo.uuid, 'main'))?.commit !== second) {
        if (Date.now() > deadline) throw new Error('the second push never refreshed the inventory');
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      release();
    }
    const jobs = await app.settle();
    expect(jobs.filter((j) => j.type === 'event:push').map((j) => j.status)).toEqual(['done', 'done']);
    // The first push still got its own report on its own commit...
    expect(repo.reports.get(first)?.map((r) => r.externalId)).toEqual(['gatehouse-push']);
    // ...but the branch's inventory stays at the later push.
    const inventory = await app.results.getInventory(clientKey, repo.uuid, 'main');
    expect(inventory?.commit).toBe(second);
    expect(inventory?.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['requests@2.31.0']);
    expect(sim.violations).toEqual([]);
  });
});
