import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_KEY, SLACK_WEBHOOK, run, sampleProject, tempDir, writeTree } from './fixtures/cli/harness.ts';

// `gatehouse pipelines report` inside a Bitbucket Pipelines step: the step's proxy on
// localhost:29418 authenticates plain-HTTP API calls. Here a local server plays that proxy
// and records what reaches it; nothing leaves the machine.

interface Seen {
  method: string;
  target: string;
  host: string | undefined;
  body: string;
}

let root: string;
let proxy: Server;
let proxyUrl: string;
let seen: Seen[] = [];
let answer = 200;

const pipelineEnv = (extra: Record<string, string> = {}) => ({
  DATA_DIR: path.join(root, 'no-database'),
  BITBUCKET_WORKSPACE: 'acme',
  BITBUCKET_REPO_SLUG: 'shop',
  BITBUCKET_COMMIT: 'a'.repeat(40),
  ...extra,
});

beforeAll(async () => {
  root = tempDir();
  sampleProject(path.join(root, 'shop'));
  writeTree(root, { 'clean/readme.md': 'nothing here\n' });
  proxy = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', target: req.url ?? '', host: req.headers.host, body });
      res.writeHead(req.method === 'DELETE' ? 404 : answer, { 'content-type': 'application/json' }).end(answer === 200 ? '{}' : '{"error":{"message":"denied"}}');
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('gatehouse pipelines report', { timeout: 60_000 }, () => {
  it('publishes a Code Insights report and its annotations on the build commit through the proxy, then exits with the verdict', async () => {
    seen = [];
    answer = 200;
    const result = await run(['pipelines', 'report', '--proxy', proxyUrl], { cwd: path.join(root, 'shop'), env: pipelineEnv() });
    const reportTarget = `http://api.bitbucket.org/2.0/repositories/acme/shop/commit/${'a'.repeat(40)}/reports/gatehouse-security`;
    expect(seen.map((s) => [s.method, s.target, s.host])).toEqual([
      ['DELETE', reportTarget, 'api.bitbucket.org'],
      ['PUT', reportTarget, 'api.bitbucket.org'],
      ['POST', `${reportTarget}/annotations`, 'api.bitbucket.org'],
    ]);
    const report = JSON.parse(seen[1]!.body) as { result: string; report_type: string; data: { title: string; value: unknown }[] };
    expect(report).toMatchObject({ result: 'FAILED', report_type: 'SECURITY' });
    expect(report.data.find((d) => d.title === 'Critical')?.value).toBe(1);
    const annotations = JSON.parse(seen[2]!.body) as { path: string; line: number; severity: string; result: string; external_id: string }[];
    expect(annotations.map((a) => [a.path, a.line, a.severity, a.result])).toEqual([
      ['.env', 2, 'CRITICAL', 'FAILED'],
      ['deploy/notify.yml', 2, 'MEDIUM', 'PASSED'],
    ]);
    for (const request of seen) {
      expect(request.body).not.toContain(AWS_KEY);
      expect(request.body).not.toContain(SLACK_WEBHOOK);
    }
    expect(result.stderr).toContain('published Code Insights report "gatehouse-security" (FAILED)');
    expect(result.code).toBe(1);
  });

  it('a clean tree gets a PASSED report with no annotations, and exit 0', async () => {
    seen = [];
    answer = 200;
    const result = await run(['pipelines', 'report', '--proxy', proxyUrl], { cwd: path.join(root, 'clean'), env: pipelineEnv() });
    expect(seen.map((s) => s.method)).toEqual(['DELETE', 'PUT']);
    expect(JSON.parse(seen[1]!.body)).toMatchObject({ result: 'PASSED' });
    expect(result.code).toBe(0);
  });

  it.each([
    ['outside a pipeline', {}, [], /BITBUCKET_REPO_OWNER is not set: "pipelines report" runs inside a Bitbucket Pipelines step/],
    ['when Bitbucket refuses the report', { answer: 403 }, [], /PUT \/2.0\/repositories\/acme\/shop\/commit\/a+\/reports\/gatehouse-security: Bitbucket answered 403/],
    ['with a proxy that is not http', {}, ['--proxy', 'https://localhost:29418'], /--proxy must be an http:\/\/ URL/],
  ])('exits 2 %s', async (_case, setup: { answer?: number }, extra: string[], message) => {
    answer = setup.answer ?? 200;
    const env = _case === 'outside a pipeline' ? { DATA_DIR: path.join(root, 'no-database') } : pipelineEnv();
    const result = await run(['pipelines', 'report', '--proxy', proxyUrl, ...extra], { cwd: path.join(root, 'clean'), env });
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
  });
});
