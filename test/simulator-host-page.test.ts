import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { installedAppAuth, startInstalled } from './helpers/simulator-client.ts';
import { decodeHostJwt, expectedQsh, type FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled());
  await sim.createRepository('acme', 'shop');
  await sim.createBranch('acme/shop', 'feat');
  await sim.commit('acme/shop', 'feat', { 'x.txt': 'x\n' }, 'x');
  await sim.openPullRequest('acme/shop', { source: 'feat', title: '<script>alert(1)</script> & more' });
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

const unescapeAttr = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

describe('host pages', () => {
  it('serve a strict CSP and escape what users typed', async () => {
    const res = await fetch(`${sim.webOrigin}/acme/shop/pull-requests/1`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`frame-src ${fake.baseUrl}`);
    const html = await res.text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; more');
  });

  it('embed the PR panel with context variables filled and a JWT whose qsh is that URL', async () => {
    const html = await (await fetch(`${sim.webOrigin}/acme/shop/pull-requests/1`)).text();
    const src = /<iframe class="ap-panel" src="([^"]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const url = new URL(unescapeAttr(src!));
    expect(url.pathname).toBe('/panels/pr');
    expect(url.searchParams.get('repo')).toBe('acme/shop');
    expect(url.searchParams.get('pr')).toBe('1');
    expect(url.searchParams.get('head')).toHaveLength(12);
    const inst = sim.installation()!;
    const claims = decodeHostJwt(url.searchParams.get('jwt'), inst.sharedSecret);
    url.searchParams.delete('jwt');
    expect(claims).toMatchObject({ iss: inst.clientKey, sub: sim.user.uuid, qsh: expectedQsh('GET', url.toString(), fake.baseUrl) });
  });

  it('show what the app posted: reports, annotations, build statuses and comments', async () => {
    const repo = sim.repository('acme/shop');
    const pr = repo.pullRequests[0]!;
    const send = async (method: string, path: string, body: unknown) => {
      const url = `${sim.apiOrigin}/2.0/repositories/acme/shop${path}`;
      const res = await fetch(url, { method, headers: { Authorization: installedAppAuth(sim, method, url), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, path).toBeLessThan(300);
    };
    await send('PUT', `/commit/${pr.sourceHash}/reports/gatehouse`, { title: 'Gatehouse scan', details: 'Secrets and dependencies', report_type: 'SECURITY', result: 'FAILED' });
    await send('POST', `/commit/${pr.sourceHash}/reports/gatehouse/annotations`, [{ external_id: 'f1', annotation_type: 'VULNERABILITY', summary: 'AWS key in x.txt', severity: 'CRITICAL', path: 'x.txt', line: 1 }]);
    await send('POST', `/commit/${pr.sourceHash}/statuses/build`, { key: 'GATEHOUSE', state: 'FAILED', name: 'Gatehouse', url: 'https://example.com/scan', refname: 'feat' });
    await send('POST', `/pullrequests/${pr.id}/comments`, { content: { raw: '**1 finding** <b>bold</b>' } });
    const html = await (await fetch(`${sim.webOrigin}/acme/shop/pull-requests/1`)).text();
    expect(html).toContain('Gatehouse scan');
    expect(html).toContain('AWS key in x.txt');
    expect(html).toContain('<span class="lozenge lozenge-critical">CRITICAL</span>');
    expect(html).toMatch(/<li><span class="lozenge lozenge-failed">FAILED<\/span> <a href="https:\/\/example\.com\/scan">Gatehouse<\/a>/);
    // Comments render Bitbucket's Markdown; HTML inside them stays text.
    expect(html).toContain('<p><strong>1 finding</strong> &#60;b&#62;bold&#60;/b&#62;</p>');
  });

  it('list installations, repositories and deliveries on the overview, and serve all.js', async () => {
    const html = await (await fetch(`${sim.webOrigin}/`)).text();
    expect(html).toContain(sim.installation()!.clientKey);
    expect(html).toContain('href="/acme/shop"');
    expect(html).toContain('pullrequest:created');
    const repoPage = await (await fetch(`${sim.webOrigin}/acme/shop`)).text();
    expect(repoPage).toContain('/panels/repo?repo=acme%2Fshop');
    const allJs = await fetch(`${sim.webOrigin}/atlassian-connect/all.js`);
    expect(allJs.status).toBe(200);
    expect(await allJs.text()).toContain('sizeToParent');
    expect((await fetch(`${sim.webOrigin}/acme/nope`)).status).toBe(404);
  });
});

describe('web extensions', () => {
  it('mounts extra routes under /_sim/ext/<name> and refuses odd names', async () => {
    const withExt = await startSimulator({ appBaseUrl: fake.baseUrl, webExtensions: { osv: (req, res) => res.type('text/plain').send(`mirror ${req.path}`) } });
    try {
      expect(await (await fetch(`${withExt.webOrigin}/_sim/ext/osv/npm/all.zip`)).text()).toBe('mirror /npm/all.zip');
    } finally {
      await withExt.stop();
    }
    await expect(startSimulator({ appBaseUrl: fake.baseUrl, webExtensions: { 'Bad/Name': (_req, res) => res.end() } })).rejects.toThrow(/web extension names/);
  });
});
