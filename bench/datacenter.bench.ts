// Data Center front door benchmark, two figures:
//
//   1. Webhook acknowledgement: signed `pr:opened` deliveries (a real Data Center body, a fresh
//      X-Request-Id each, so each is recorded with its job) to POST /datacenter/webhook/{id} at
//      full speed (autocannon, 10 connections, BENCH_DC_ACK_SECONDS, default 10): req/s, p50, p99.
//      The server runs in its own process (no job runner, like bench/webhook-ack.bench.ts) so the
//      load generator never shares its event loop.
//   2. Pull request to published: a 2,000-line diff with one secret, from opening the pull
//      request on the local Data Center to its Code Insights report with annotations, against
//      the same on the Cloud simulator in the same run, interleaved (BENCH_RUNS, default 7, after
//      one warm-up run each). Target (issue #13): Data Center p50 and p95 within 1.5x of Cloud.
//
// Run: node --import tsx bench/datacenter.bench.ts
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from './percentile.ts';
import { leakyDiffFile } from './leaky-diff.ts';
import { serveAckApp } from './ack-app.ts';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const FIXTURE = path.resolve(path.dirname(SELF), '../test/fixtures/bitbucket-payloads/datacenter/pr-opened/atlantis.json');
const INSTANCE_ID = 'b0c1d2e3f4a5b6c7d8e9f0a1';
const SECRET = process.env.BENCH_DC_SECRET ?? randomBytes(32).toString('base64url');
const ACK_SECONDS = Number(process.env.BENCH_DC_ACK_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

// ---------------------------------------------------------------- acknowledgement server (child)

async function serve(): Promise<void> {
  const { encryptSecret } = await import('../src/crypto.ts');
  await serveAckApp({
    dirPrefix: 'gatehouse-bench-dc-',
    baseUrl: 'http://127.0.0.1',
    // No job runner drains the queue here: every accepted delivery's job stays queued.
    tenantQueueLimit: 10_000_000,
    async seed(store, encryptionKey) {
      const at = new Date().toISOString();
      await store.putDatacenterInstance({
        instanceId: INSTANCE_ID,
        name: 'bench',
        baseUrl: 'http://127.0.0.1:1/bitbucket',
        encryptedToken: encryptSecret(encryptionKey, 'BBDC-bench-token'),
        encryptedWebhookSecret: encryptSecret(encryptionKey, SECRET),
        status: 'ok',
        createdAt: at,
        updatedAt: at,
      });
    },
  });
}

// ---------------------------------------------------------------- parent: acknowledgement load

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: object) => Promise<AutocannonResult>;

async function acknowledgement(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DC_SECRET: SECRET } });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  try {
    const { sign } = await import('../src/simulator/datacenter/delivery.ts');
    const body = readFileSync(FIXTURE, 'utf8');
    const headers = { 'content-type': 'application/json; charset=UTF-8', 'x-event-key': 'pr:opened', 'x-hub-signature': sign(SECRET, body) };
    const autocannon = require('autocannon') as Autocannon;
    let firstFailure = '';
    const load = (duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}/datacenter/webhook/${INSTANCE_ID}`,
        method: 'POST',
        connections: 10,
        duration,
        headers,
        body,
        requests: [
          {
            setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-request-id': randomUUID() } }),
            onResponse: (status: number, text: string) => {
              if (status !== 202 && !firstFailure) firstFailure = `${status} ${text}`;
            },
          },
        ],
      });
    await load(2); // warm-up: JIT, lazily loaded modules
    const result = await load(ACK_SECONDS);
    const failures = result.non2xx + result.errors + result.timeouts;
    if (failures > 0 || result.requests.total === 0) throw new Error(`${failures} of ${result.requests.total} deliveries were not accepted; first: ${firstFailure}`);
    console.log(`webhook acknowledgement (signed pr:opened, each recorded with its job), ${ACK_SECONDS} s, 10 connections:`);
    console.log(`  ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests, all 202`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

// ---------------------------------------------------------------- parent: pull request to published

async function waitFor(what: string, started: number, done: () => boolean): Promise<number> {
  while (!done()) {
    if (performance.now() - started > 60_000) throw new Error(`no ${what} after 60 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - started;
}

async function publishedLatency(): Promise<void> {
  const { REPORT_ID } = await import('../src/core/publish.ts');
  const { startSession } = await import('../src/simulator/session.ts');
  const { newAccessToken, startDatacenterSession } = await import('../src/simulator/datacenter/session.ts');
  const dcDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-dcpr-'));
  const cloudDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-cloudpr-'));
  const dcSession = await startDatacenterSession({ dataDir: dcDir, logLevel: 'error' });
  const cloud = await startSession({ appPort: 0, webPort: 0, apiPort: 0, dataDir: cloudDir, logLevel: 'error', simulator: { workspace: 'acme', retryDelayMs: 0 } });
  try {
    const { dc } = dcSession;
    await dc.createRepository('SEC', 'svc', { files: { 'README.md': 'bench\n' } });
    const token = newAccessToken();
    dc.addToken(token, 'PROJECT_ADMIN');
    await dcSession.register({ name: 'bench', token, project: 'SEC' });
    const { sim } = cloud;
    await sim.createRepository('acme', 'svc', { files: { 'README.md': 'bench\n' } });

    const onDc = async (run: number) => {
      const branch = `change-${run}`;
      await dc.createBranch('SEC/svc', branch);
      await dc.commit('SEC/svc', branch, { [`src/generated${run}.js`]: leakyDiffFile(run) }, 'Two thousand lines');
      // Let the push scan of the new branch finish first: it is not what is measured.
      await new Promise((r) => setTimeout(r, 1500));
      const started = performance.now();
      const pr = await dc.openPullRequest('SEC/svc', { from: branch, title: `Run ${run}` });
      return waitFor('Data Center report', started, () => (dc.report('SEC/svc', pr.fromHash, REPORT_ID)?.annotations.length ?? 0) > 0);
    };
    const onCloud = async (run: number) => {
      const branch = `change-${run}`;
      await sim.createBranch('acme/svc', branch);
      await sim.commit('acme/svc', branch, { [`src/generated${run}.js`]: leakyDiffFile(run) }, 'Two thousand lines');
      await new Promise((r) => setTimeout(r, 1500));
      const started = performance.now();
      const { id } = await sim.openPullRequest('acme/svc', { source: branch, title: `Run ${run}` });
      const head = sim.pullRequest('acme/svc', id).sourceHash;
      const repo = sim.repository('acme/svc');
      return waitFor('Cloud report', started, () => Boolean(repo.reports.get(head)?.find((r) => r.externalId === REPORT_ID)?.annotations.length));
    };

    const dcTimes: number[] = [];
    const cloudTimes: number[] = [];
    // Run 0 of each warms the JIT and the rule automaton; it is not counted.
    for (let run = 0; run <= RUNS; run++) {
      const d = await onDc(run);
      const c = await onCloud(run);
      if (run > 0) {
        dcTimes.push(d);
        cloudTimes.push(c);
      }
    }
    dcTimes.sort((a, b) => a - b);
    cloudTimes.sort((a, b) => a - b);
    const line = (name: string, xs: number[]) => `${name.padEnd(12)} p50 ${percentile(xs, 50).toFixed(0)} ms, p95 ${percentile(xs, 95).toFixed(0)} ms, max ${xs.at(-1)!.toFixed(0)} ms`;
    console.log(`pull request opened -> Code Insights report with annotations, 2,000-line diff, ${RUNS} runs each, interleaved:`);
    console.log(`  ${line('Cloud', cloudTimes)}`);
    console.log(`  ${line('Data Center', dcTimes)}`);
    console.log(`  Data Center / Cloud: p50 ${(percentile(dcTimes, 50) / percentile(cloudTimes, 50)).toFixed(2)}x, p95 ${(percentile(dcTimes, 95) / percentile(cloudTimes, 95)).toFixed(2)}x (target <= 1.5x)`);
    const refused = [...dc.violations.map((v) => v.reason), ...sim.violations.map((v) => v.reason)];
    if (refused.length > 0) console.log(`  ${refused.length} call(s) the host would refuse; first: ${refused[0]}`);
  } finally {
    await dcSession.stop();
    await cloud.stop();
    await rm(dcDir, { recursive: true, force: true });
    await rm(cloudDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') {
  await serve();
} else {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await acknowledgement();
  await publishedLatency();
  console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
