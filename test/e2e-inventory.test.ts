import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoverageScheduler } from '../src/core/coverage/scheduler.ts';
import { createLogger } from '../src/log.ts';
import { createMemoryIndex, type OsvRecord } from '../src/scan/deps/index.ts';
import { DEMO_ADVISORIES } from '../src/simulator/osv-advisories.ts';
import type { Simulator } from '../src/simulator/simulator.ts';
import { newApiToken } from '../src/ui/api-auth.ts';
import { deriveSessionKey, installationInstance, mintSessionToken, SESSION_HEADER } from '../src/ui/session-token.ts';
import { signedCall, startPipelineOnSimulator, type PipelineApp } from './helpers/pipeline-app.ts';

const KEY = 'AKIAZ3MQ7XKPLR4TBN2W';
const npmLock = (packages: Record<string, string>) =>
  JSON.stringify({
    name: 'svc',
    lockfileVersion: 3,
    packages: { '': { name: 'svc' }, ...Object.fromEntries(Object.entries(packages).map(([name, version]) => [`node_modules/${name}`, { version }])) },
  });

type Item = { type: string; id: string; [key: string]: unknown };

describe('asset inventory on the simulator: pages, filters, export, SBOMs, mapping', { timeout: 120_000 }, () => {
  let app: PipelineApp;
  let sim: Simulator;
  let stop: () => Promise<void>;
  let tenant: { clientKey: string; sharedSecret: string };
  let bearer: string;
  let dataDir: string;
  let http: ReturnType<typeof request>;
  const get = (path: string) => http.get(path).set('Authorization', bearer);

  beforeAll(async () => {
    ({ app, sim, stop, dataDir } = await startPipelineOnSimulator('inventory', { tuning: { vulnIndex: () => createMemoryIndex(DEMO_ADVISORIES as unknown as OsvRecord[]) } }));
    tenant = sim.installation()!;
    await sim.createRepository('acme', 'alpha', {
      files: { 'config/deploy.env': `AWS_ACCESS_KEY_ID=${KEY}\n`, 'package-lock.json': npmLock({ lodash: '4.17.20', 'left-pad': '1.3.0' }) },
      project: { key: 'PAY', name: 'Payments' },
    });
    await sim.createRepository('acme', 'beta', { files: { 'package-lock.json': npmLock({ lodash: '4.17.21' }) }, project: { key: 'PAY', name: 'Payments' } });
    await sim.createRepository('acme', 'gamma', { files: { 'README.md': '# gamma\n' }, project: { key: 'OPS', name: 'Operations' } });
    const scheduler = new CoverageScheduler({ store: app.store, results: app.results, logger: createLogger('silent'), onQueued: () => app.worker.wake() });
    await scheduler.tick();
    await scheduler.stop();
    await app.settle(60_000);
    const { token, hash } = newApiToken();
    await app.results.putApiToken({ id: randomUUID(), clientKey: tenant.clientKey, name: 'export', hash, createdBy: null, createdAt: new Date().toISOString(), lastUsedAt: null });
    bearer = `Bearer ${token}`;
    await writeFile(path.join(dataDir, 'token.txt'), `${token}\n`);
    http = request(app.baseUrl);
  });

  afterAll(async () => stop?.());

  async function everything(query: string, limit: number): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/api/inventory?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.schemaVersion).toBe(1);
      items.push(...(page.body.items as Item[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    return items;
  }

  it('lists projects, repositories, findings and components in one documented shape, page by page', async () => {
    const all = await everything('', 1000);
    expect(all.filter((i) => i.type === 'project').map((i) => i.key)).toEqual(['OPS', 'PAY']);
    const repos = all.filter((i) => i.type === 'repository');
    expect(repos.map((r) => r.fullName).sort()).toEqual(['acme/alpha', 'acme/beta', 'acme/gamma']);
    const alpha = repos.find((r) => r.fullName === 'acme/alpha')!;
    expect(alpha).toMatchObject({ schemaVersion: 1, project: 'PAY', defaultBranch: 'main', verdict: 'FAILED', coverage: { status: 'scanned' }, components: 2 });
    const findings = all.filter((i) => i.type === 'finding');
    expect([...new Set(findings.map((f) => `${f.repositoryFullName} ${f.kind} ${f.path}`))].sort()).toEqual(['acme/alpha dependency package-lock.json', 'acme/alpha secret config/deploy.env']);
    expect(findings.filter((f) => f.kind === 'dependency').every((f) => f.package === 'lodash' && f.advisory !== null)).toBe(true);
    const secret = findings.find((f) => f.kind === 'secret')!;
    expect(secret).toMatchObject({ state: 'open', newAdvisory: false, preview: expect.stringMatching(/\*/) });
    expect(JSON.stringify(all)).not.toContain(KEY);
    const lodash = all.find((i) => i.type === 'component' && i.name === 'lodash' && i.version === '4.17.20')!;
    expect(lodash).toMatchObject({ purl: 'pkg:npm/lodash@4.17.20', repositories: ['acme/alpha'] });
    expect(all.map((i) => i.type)).toEqual([...all.map((i) => i.type)].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)));

    // Every entity matches the published JSON Schema.
    const Ajv2020 = Ajv2020Module as unknown as typeof Ajv2020Module.default;
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(await readFile(path.resolve('docs/inventory.schema.json'), 'utf8')) as object);
    for (const item of all) expect(validate(item) ? [] : validate.errors, item.id).toEqual([]);
    // Small pages give the same sequence, each entity once.
    expect(await everything('', 2)).toEqual(all);
  });

  it('keeps its place while repositories are added: nothing repeated or skipped', async () => {
    const first = await get('/api/inventory?type=repository&limit=2');
    const seen = (first.body.items as Item[]).map((i) => i.id);
    // One sorts before the cursor, one after.
    for (const uuid of ['{00000000-0000-0000-0000-000000000000}', '{ffffffff-ffff-ffff-ffff-ffffffffffff}']) {
      await app.results.putRepository({ clientKey: tenant.clientKey, uuid, fullName: `acme/${uuid.slice(1, 9)}`, name: uuid.slice(1, 9), project: null, isPrivate: true, mainBranch: 'main', sizeBytes: 1, language: null, updatedOn: null, discoveredAt: new Date().toISOString(), deletedAt: null });
    }
    const rest = await get(`/api/inventory?type=repository&limit=10&cursor=${first.body.nextCursor}`);
    const ids = [...seen, ...(rest.body.items as Item[]).map((i) => i.id)];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('{ffffffff-ffff-ffff-ffff-ffffffffffff}');
    expect(ids).not.toContain('{00000000-0000-0000-0000-000000000000}');
    expect(ids).toHaveLength(4);
  });

  it('filters by type, repository, project, severity and state, triage included', async () => {
    const alpha = (await app.results.listRepositories(tenant.clientKey)).find((r) => r.fullName === 'acme/alpha')!;
    const secret = ((await get('/api/inventory?type=finding&repository=acme/alpha')).body.items as Item[]).find((f) => f.kind === 'secret')!;
    const marked = await signedCall(app.baseUrl, tenant, 'PUT', '/api/triage', { body: { repoUuid: alpha.uuid, fingerprint: secret.fingerprint, status: 'false_positive', reason: 'test fixture' } });
    expect(marked.status).toBe(200);
    await app.settle(60_000);
    const triaged = (await get('/api/inventory?type=finding&state=triaged')).body.items as Item[];
    expect(triaged.map((f) => f.fingerprint)).toEqual([secret.fingerprint]);
    expect(triaged[0]).toMatchObject({ triage: { status: 'false_positive', reason: 'test fixture' } });
    expect(new Set(((await get('/api/inventory?type=finding&state=open')).body.items as Item[]).map((f) => f.kind))).toEqual(new Set(['dependency']));
    expect(((await get('/api/inventory?type=repository&project=OPS')).body.items as Item[]).map((r) => r.fullName)).toEqual(['acme/gamma']);
    expect(((await get(`/api/inventory?type=finding&repository=${encodeURIComponent(alpha.uuid)}&severity=critical`)).body.items as Item[]).every((f) => f.severity === 'critical')).toBe(true);

    for (const bad of ['type=widget', 'severity=urgent', 'cursor=not-a-cursor', 'limit=0', 'limit=5000', 'state=gone']) {
      const answer = await get(`/api/inventory?${bad}`);
      expect(answer.status, bad).toBe(400);
      expect(answer.body.error.message, bad).toEqual(expect.any(String));
    }
    expect((await http.get('/api/inventory')).status).toBe(401);
  });

  it('exports JSON Lines and CSV as a stream, and refuses CSV of mixed types', async () => {
    const all = await everything('', 1000);
    const jsonl = await get('/api/inventory/export?format=jsonl');
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Item);
    expect(lines).toEqual(all);

    const csv = await get('/api/inventory/export?format=csv&type=finding');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toMatch(/^schemaVersion,type,id,repository,/);
    expect(rows).toHaveLength(1 + all.filter((i) => i.type === 'finding').length);

    const mixed = await get('/api/inventory/export?format=csv');
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe('one_type_for_csv');
    expect((await get('/api/inventory/export?format=xml')).status).toBe(400);
  });

  it('stores a mapping, refuses a broken one with its line and column keeping the previous, and exports through it', async () => {
    const good = 'version: 1\ntypes: [repository]\nfields:\n  name: fullName\n  verdict: { path: verdict, default: UNKNOWN }\n  source: { const: gatehouse }\n';
    expect((await http.put('/api/inventory/mapping').set('Authorization', bearer).type('text/yaml').send(good)).status).toBe(200);
    const broken = await http.put('/api/inventory/mapping').set('Authorization', bearer).type('text/yaml').send('version: 1\nfields:\n  name: full..name\n');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: 'invalid_mapping', line: 3, column: 9 });
    expect((await get('/api/inventory/mapping')).body.mapping).toBe(good);

    const csv = await get('/api/inventory/export?format=csv');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('name,verdict,source');
    expect(rows).toContain('acme/alpha,FAILED,gatehouse');
    expect(rows).toContain('acme/00000000,UNKNOWN,gatehouse');
    const raw = await get('/api/inventory/export?format=jsonl&mapping=none&type=project');
    expect(raw.text.trimEnd().split('\n').map((l) => (JSON.parse(l) as Item).type)).toEqual(['project', 'project']);
    // From the iframe, only a workspace admin changes it.
    const installation = (await app.store.getInstallation(tenant.clientKey))!;
    const session = (user: string) => mintSessionToken(deriveSessionKey(app.config.encryptionKey), { clientKey: tenant.clientKey, user, repoUuid: null, repoFullName: null, instance: installationInstance(installation) }, new Date()).token;
    const notAdmin = await http.put('/api/inventory/mapping').set(SESSION_HEADER, session('{00000000-0000-0000-0000-0000000000aa}')).type('text/yaml').send(good);
    expect(notAdmin.status).toBe(403);
    expect((await http.get('/api/inventory/mapping').set(SESSION_HEADER, session('{00000000-0000-0000-0000-0000000000aa}'))).status).toBe(200);
    expect((await http.put('/api/inventory/mapping').set(SESSION_HEADER, session(sim.user.uuid)).type('text/yaml').send(good)).status).toBe(200);
    expect((await http.delete('/api/inventory/mapping').set('Authorization', bearer)).status).toBe(204);
    expect((await get('/api/inventory/mapping')).status).toBe(404);
  });

  it('serves a CycloneDX SBOM per repository and one for the whole workspace', async () => {
    const one = await get('/api/inventory/sbom?repository=acme/alpha');
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toMatch(/application\/vnd\.cyclonedx\+json/);
    const bom = JSON.parse(one.text) as { bomFormat: string; components: { purl: string }[] };
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/left-pad@1.3.0', 'pkg:npm/lodash@4.17.20']);

    const workspace = JSON.parse((await get('/api/inventory/sbom')).text) as { components: { purl: string; properties?: { name: string; value: string }[] }[] };
    expect(workspace.components.map((c) => c.purl).sort()).toEqual(['pkg:npm/left-pad@1.3.0', 'pkg:npm/lodash@4.17.20', 'pkg:npm/lodash@4.17.21']);
    const where = workspace.components.find((c) => c.purl === 'pkg:npm/lodash@4.17.21')!.properties!.map((p) => p.value);
    expect(where).toEqual(['acme/beta/package-lock.json']);
    expect((await get('/api/inventory/sbom?repository=acme/nope')).status).toBe(404);
  });

  it('npx gatehouse inventory export: the same export from another process with the API token, through a mapping file, with clear exit codes', async () => {
    const all = await everything('mapping=none', 1000);
    const exported = await cli(['inventory', 'export', '--url', app.baseUrl, '--token-file', 'token.txt', '--output', 'out.jsonl'], dataDir);
    expect(exported, exported.stderr).toMatchObject({ code: 0, stdout: '' });
    expect((await readFile(path.join(dataDir, 'out.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Item)).toEqual(all);

    const csv = await cli(['inventory', 'export', '--url', app.baseUrl, '--token-file', 'token.txt', '--format', 'csv', '--type', 'component'], dataDir);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('schemaVersion,type,id,purl,ecosystem,name,version,repositories');

    await writeFile(path.join(dataDir, 'cmdb.yml'), 'version: 1\ntypes: [component]\nfields:\n  ci_name: name\n  ci_version: version\n  used_in: repositories\n');
    const mapped = await cli(['inventory', 'export', '--url', app.baseUrl, '--token-file', 'token.txt', '--format', 'csv', '--mapping', 'cmdb.yml'], dataDir);
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(mapped.stdout.split('\r\n')).toEqual(['ci_name,ci_version,used_in', 'left-pad,1.3.0,acme/alpha', 'lodash,4.17.20,acme/alpha', 'lodash,4.17.21,acme/beta', '']);

    await writeFile(path.join(dataDir, 'broken.yml'), 'version: 1\nfields:\n  ci_name: name\n  bad: { path: name, nope: 1 }\n');
    const broken = await cli(['inventory', 'export', '--url', app.baseUrl, '--token-file', 'token.txt', '--mapping', 'broken.yml', '--output', 'never.jsonl'], dataDir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.yml:4:22');
    expect(await readdir(dataDir)).not.toContain('never.jsonl');

    await writeFile(path.join(dataDir, 'wrong.txt'), 'ghtok_thisisnotavalidtokenatall0000\n');
    const refused = await cli(['inventory', 'export', '--url', app.baseUrl, '--token-file', 'wrong.txt', '--output', 'never.jsonl'], dataDir);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/401/);
    expect((await readdir(dataDir)).filter((f) => f.includes('never'))).toEqual([]);

    const unreachable = await cli(['inventory', 'export', '--url', 'http://127.0.0.1:9', '--token-file', 'token.txt'], dataDir);
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot reach/);
    expect((await cli(['inventory', 'export', '--url', app.baseUrl], dataDir)).code).toBe(2);
  });
});

const CLI = path.resolve('bin/gatehouse.js');

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const ORDER = ['project', 'repository', 'pullRequest', 'finding', 'component'];
