import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLED_CLOUD_EVENTS } from '../src/bitbucket/events/index.ts';
import { buildDescriptor, loadTemplate } from '../src/connect/descriptor.ts';
import { CONTEXT_SCOPES, descriptorSchema, EVENT_SCOPES, grantedScopes, type ConnectDescriptor } from './helpers/connect-descriptor-schema.ts';
import { startTestApp, type TestApp } from './helpers/connect-tenant.ts';

let t: TestApp;
let served: ConnectDescriptor;
beforeAll(async () => {
  t = await startTestApp({ baseUrl: 'https://gatehouse.example/sub', appKey: 'gatehouse-staging' });
  const res = await request(t.app).get('/atlassian-connect.json').expect(200).expect('Content-Type', /json/);
  served = descriptorSchema.parse(res.body);
});
afterAll(async () => t.close());

describe('GET /atlassian-connect.json', () => {
  it('fills baseUrl and key from BASE_URL and APP_KEY', () => {
    expect(served.baseUrl).toBe('https://gatehouse.example/sub');
    expect(served.key).toBe('gatehouse-staging');
  });

  it('is also served under the BASE_URL path', async () => {
    const res = await request(t.app).get('/sub/atlassian-connect.json').expect(200);
    expect(res.body.key).toBe('gatehouse-staging');
  });

  it('declares JWT auth, both lifecycle callbacks and the account context', () => {
    expect(served.authentication.type).toBe('jwt');
    expect(served.lifecycle).toEqual({ installed: '/connect/lifecycle/installed', uninstalled: '/connect/lifecycle/uninstalled' });
    expect(served.contexts).toEqual(['account']);
  });

  it('subscribes to exactly the events the intake handles', () => {
    expect(served.modules.webhooks?.map((w) => w.event).sort()).toEqual([...HANDLED_CLOUD_EVENTS].sort());
  });

  it('grants the scope every webhook event requires', () => {
    const granted = grantedScopes(served.scopes);
    for (const hook of served.modules.webhooks ?? []) expect([hook.event, granted.has(EVENT_SCOPES[hook.event]!)]).toEqual([hook.event, true]);
  });

  it('grants the scope of every context variable a module URL uses (else Bitbucket leaves it empty)', () => {
    const granted = grantedScopes(served.scopes);
    const urls = [...(served.modules.webPanels ?? []), ...(served.modules.adminPages ?? [])].map((m) => m.url);
    const roots = urls.flatMap((u) => [...u.matchAll(/\{([a-z_]+)\./g)].map((m) => m[1]!));
    expect(roots.length).toBeGreaterThan(0);
    for (const root of roots) expect([root, granted.has(CONTEXT_SCOPES[root]!)]).toEqual([root, true]);
  });

  it('asks for no scope beyond what the features use', () => {
    // account: the settings page asks Bitbucket whether the viewer is a workspace admin
    // (GET /2.0/workspaces/{workspace}/permissions), see src/ui/permissions.ts.
    expect([...served.scopes].sort()).toEqual(['account', 'pullrequest', 'pullrequest:write', 'repository']);
  });

  it('has both information panels, carrying the context the panels read, and a settings page', () => {
    const panels = Object.fromEntries((served.modules.webPanels ?? []).map((p) => [p.location, p.url]));
    expect(panels['org.bitbucket.repository.overview.informationPanel']).toMatch(/repoUuid=\{repository\.uuid\}/);
    const pr = panels['org.bitbucket.pullrequest.overview.informationPanel'];
    for (const v of ['repository.uuid', 'pullrequest.id', 'pullrequest.source.commit.hash', 'pullrequest.source.branch.name', 'pullrequest.destination.branch.name']) {
      expect(pr).toContain(`{${v}}`);
    }
    expect(served.modules.adminPages?.[0]?.url).toBe('/connect/settings');
  });
});

describe('the descriptor schema can fail', () => {
  interface Editable {
    scopes: string[];
    contexts: string[];
    modules: { webPanels: { key: string; location: string; url: string }[]; webhooks: { event: string; url: string }[] };
  }
  const template = () => buildDescriptor({ baseUrl: 'https://g.example', appKey: 'gatehouse' }, loadTemplate()) as unknown as Editable;
  const panel = (d: Editable) => d.modules.webPanels[0]!;
  const broken: [string, (d: Editable) => void][] = [
    ['an unknown scope', (d) => d.scopes.push('admin')],
    ['a module key with a dot', (d) => (panel(d).key = 'gatehouse.panel')],
    ['an unknown location', (d) => (panel(d).location = 'org.bitbucket.nowhere')],
    ['an unknown webhook event', (d) => d.modules.webhooks.push({ event: 'repo:pushed', url: '/connect/webhook' })],
    ['an absolute module URL', (d) => (panel(d).url = 'https://evil.example/panel')],
    ['the personal context', (d) => (d.contexts = ['personal'])],
  ];
  it('accepts the template itself', () => expect(descriptorSchema.safeParse(template()).success).toBe(true));
  for (const [name, mutate] of broken) {
    it(`rejects ${name}`, () => {
      const d = template();
      mutate(d);
      expect(descriptorSchema.safeParse(d).success).toBe(false);
    });
  }
});
