// A pathological pull request must not make other tenants wait, nor run the server out of memory.
//
//   node --import tsx bench/pathological-pr.bench.ts      (BENCH_DIFF_MB, BENCH_RATE to resize)
//
// The server runs as `npm start` runs it (src/server.ts: createApp + the pipeline with its scan
// threads), in a child process whose memory is read from /proc; the local Bitbucket simulator
// and the load generators run here. One tenant opens a pull request that adds a single
// BENCH_DIFF_MB file (150 MB) with a repository `.gitleaks.toml` rule that is slow but linear
// (no keyword, so it runs on every line kept). While that scan runs, another tenant's webhooks
// arrive at a fixed rate and /healthz is polled. Printed: acknowledgement and /healthz latency
// (targets: p99 < 50 ms, nothing over 1 s), the server's peak RSS (target < 512 MB), and how
// the scan ended with what its report says was not scanned.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { startSimulator } from '../src/simulator/simulator.ts';
import { pacedLoad } from './paced-load.ts';
import { percentile } from './percentile.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIFF_MB = Number(process.env.BENCH_DIFF_MB ?? 150);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const MAX_SECONDS = 110;
const MB = 1024 * 1024;

/**
 * Slow: no keyword (so it runs on every kept line), a leading class that can start a match at
 * every position, a long bounded run; no nested repetition, so linear all the same.
 */
const GITLEAKS_TOML = `
[[rules]]
id = "slow-but-linear"
description = "Internal token"
regex = '''[a-z0-9_-]{4,200}[A-H]{8}zz[0-9]{3}'''
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set of a process now and its peak (VmHWM), in MB; threads included. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** GET /healthz every `everyMs` until stopped; latencies in ms (a failure counts as Infinity). */
function pollHealth(port: number, everyMs: number): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(res.statusCode === 200 ? performance.now() - started : Infinity);
          resolve();
        });
      }).on('error', () => {
        latencies.push(Infinity);
        resolve();
      });
    });
    pending.add(done);
    void done.finally(() => pending.delete(done));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return latencies.sort((a, b) => a - b);
    },
  };
}

const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-pathological-'));
const sim = await startSimulator({ appBaseUrl: baseUrl, retryDelayMs: 0 });
const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/server.ts')], {
  cwd: ROOT,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PORT: String(port),
    BASE_URL: baseUrl,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    BITBUCKET_BASE_URLS: sim.webOrigin,
    BITBUCKET_API_URLS: sim.apiOrigin,
    LOG_LEVEL: 'warn',
  },
});

try {
  for (let ready = false; !ready; ) {
    ready = await new Promise<boolean>((resolve) => get(`${baseUrl}/healthz`, (res) => resolve(res.statusCode === 200)).on('error', () => resolve(false)));
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  await sim.install({ workspace: 'evil' });
  await sim.install({ workspace: 'calm' });
  const calm = sim.installation('calm')!;

  // The pathological change: configuration on the destination branch, one huge file on the PR branch.
  await sim.createRepository('evil', 'repo', { files: { 'README.md': 'evil\n', '.gitleaks.toml': GITLEAKS_TOML } });
  await sim.createBranch('evil/repo', 'huge');
  const line = 'abc123-deadbeef qwerty9_ABCDEFGH zz abc123def456_0123456789abcdef\n';
  const huge = line.repeat(Math.ceil((DIFF_MB * MB) / line.length));
  await sim.commit('evil/repo', 'huge', { 'data/huge.txt': huge }, 'One huge file');
  const idle = memoryOf(server.pid!);

  // Another tenant's deliveries: signed as its installation, a real payload, a fresh id each.
  const route = '/connect/webhook';
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('POST', `${baseUrl}${route}`), false, baseUrl);
  const jwt = encodeSymmetric({ iss: calm.clientKey, iat, exp: iat + 900, qsh }, calm.sharedSecret);
  const fixture = path.join(ROOT, 'test/fixtures/bitbucket-payloads/cloud/pullrequest-created/toolchain-connect.json');
  const body = Buffer.from(JSON.stringify((JSON.parse(readFileSync(fixture, 'utf8')) as { payload: object }).payload));

  const load = async (seconds: number) => {
    const health = pollHealth(port, 50);
    const ack = await pacedLoad({
      port,
      path: route,
      rate: RATE,
      seconds,
      body,
      headers: () => ({ 'content-type': 'application/json', authorization: `JWT ${jwt}`, 'x-event-key': 'pullrequest:created', 'x-request-uuid': randomUUID() }),
    });
    return { ack, health: await health.stop() };
  };
  const describe = (what: string, { ack, health }: Awaited<ReturnType<typeof load>>) => {
    console.log(
      `${what}: webhook acks at ${RATE}/s: ${ack.sent} sent, ${ack.failures} failed${ack.firstFailure ? ` (${ack.firstFailure.slice(0, 120)})` : ''}; p50 ${ack.p50.toFixed(1)} ms, p99 ${ack.p99.toFixed(1)} ms, max ${ack.max.toFixed(1)} ms` +
        ` | /healthz every 50 ms: p50 ${percentile(health, 50).toFixed(1)} ms, p99 ${percentile(health, 99).toFixed(1)} ms, max ${(health.at(-1) ?? NaN).toFixed(1)} ms`,
    );
  };

  // The same load with nothing being scanned: what this machine gives at the moment.
  describe('baseline, no scan running', await load(5));

  let peakSampled = idle.rss;
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, memoryOf(server.pid!).rss)), 20);
  const started = performance.now();
  const { id } = await sim.openPullRequest('evil/repo', { source: 'huge', title: 'Huge' });
  const head = sim.pullRequest('evil/repo', id).sourceHash;
  const repo = sim.repository('evil/repo');
  const report = () => repo.reports.get(head)?.find((r) => r.externalId === 'gatehouse-security');
  let scanSeconds = NaN;
  const finished = (async () => {
    while (!report() && performance.now() - started < MAX_SECONDS * 1000) await new Promise((r) => setTimeout(r, 50));
    scanSeconds = (performance.now() - started) / 1000;
  })();
  const during = await load(20);
  await finished;
  clearInterval(sampler);
  const peak = memoryOf(server.pid!).peak;

  const published = report();
  const details = String(published?.body.details ?? '(no report)');
  console.log(`pathological PR: one ${DIFF_MB} MB file, a keywordless .gitleaks.toml rule; scan ${published ? `published ${published.body.result}` : 'NOT published'} after ${scanSeconds.toFixed(1)} s`);
  console.log(`  report says: ${details.replace(/\n+/g, ' | ')}`);
  describe(`another tenant while the scan runs (${Math.min(20, scanSeconds).toFixed(0)} s of the load overlap it; targets p99 < 50 ms, none over 1000 ms)`, during);
  console.log(
    `server RSS: ${idle.rss.toFixed(0)} MB before the PR, peak ${peak.toFixed(0)} MB (VmHWM, process lifetime; sampled peak during the scan ${peakSampled.toFixed(0)} MB; target < 512 MB); load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`,
  );
  if (!published || during.ack.failures > 0 || peak >= 512) process.exitCode = 1;
} finally {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
  await sim.stop();
  await rm(dataDir, { recursive: true, force: true });
}
