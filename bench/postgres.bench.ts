// PostgreSQL mode with one and with two instances on one database. Each instance is the
// server as `npm start` runs it (node dist/server.js, worker pool on), against the local
// Bitbucket simulator, on a fresh uniquely named database dropped afterwards:
//   - acknowledgement req/s: signed Connect `pullrequest:created` deliveries (fresh request
//     ids) at full speed, autocannon with 10 connections per instance, summed;
//   - jobs/s: BENCH_PG_JOBS pull requests opened at once through a round-robin balancer, until
//     every one has its report published; two instances over one, as a ratio;
//   - exactly-once: BENCH_PG_DELIVERIES pull requests (default 10,000) across two instances,
//     one killed with SIGKILL halfway through; report PUTs counted per commit at the simulator
//     (duplicates: a commit published more than once; missing: never published).
// Prints figures, asserts nothing about time.
//
//   npm run bench -- postgres      (BENCH_PG_DELIVERIES=200 BENCH_PG_JOBS=40 for a short run)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { startBalancer, type Balancer } from '../test/helpers/balancer.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/postgres.ts';
import { freePort } from '../test/helpers/server-process.ts';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUTE = '/connect/webhook';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const JOBS = Number(process.env.BENCH_PG_JOBS ?? 100);
const DELIVERIES = Number(process.env.BENCH_PG_DELIVERIES ?? 10_000);
/** Pull requests per simulated repository (one branch each), so that N PRs need N/100 repositories. */
const PER_REPO = 100;
const REPORT = 'gatehouse-security';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  port: number;
  proc: ChildProcess;
  dataDir: string;
}

const alive = (i: Instance) => i.proc.exitCode === null && i.proc.signalCode === null;

async function startInstance(db: TestDatabase, sim: Simulator, baseUrl: string): Promise<Instance> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-pg-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    BASE_URL: baseUrl,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    ENCRYPTION_KEY,
    BITBUCKET_BASE_URLS: sim.webOrigin,
    BITBUCKET_API_URLS: sim.apiOrigin,
    LOG_LEVEL: 'error',
    // The acknowledgement load queues one job per delivery for one tenant; the default
    // per-tenant queue limit would refuse most of it with 429.
    TENANT_QUEUE_LIMIT: '100000',
  };
  const proc = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 1200; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return { port, proc, dataDir };
    if (proc.exitCode !== null) throw new Error(`instance on ${port} exited ${proc.exitCode}`);
    await sleep(50);
  }
  throw new Error(`instance on ${port} did not start`);
}

async function stopInstance(instance: Instance): Promise<void> {
  if (alive(instance)) {
    const exited = new Promise((resolve) => instance.proc.once('exit', resolve));
    instance.proc.kill('SIGTERM');
    await exited;
  }
  rmSync(instance.dataDir, { recursive: true, force: true });
}

interface Autocannon {
  (opts: object): Promise<{ requests: { average: number }; non2xx: number; errors: number }>;
}

/** Full-speed acknowledgements on every instance at once; req/s summed over them. */
async function acknowledgements(sim: Simulator, instances: Instance[], baseUrl: string): Promise<{ rate: number; failed: number }> {
  const inst = sim.installation();
  const delivery = sim.deliveries.find((d) => d.event === 'pullrequest:created');
  if (!inst || !delivery) throw new Error('no installation or delivery to replay');
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('POST', `${baseUrl}${ROUTE}`), false, baseUrl);
  const headers = {
    'content-type': 'application/json',
    authorization: `JWT ${encodeSymmetric({ iss: inst.clientKey, iat, exp: iat + 1800, qsh }, inst.sharedSecret)}`,
    'x-event-key': 'pullrequest:created',
    'user-agent': 'Bitbucket-Webhooks/2.0',
  };
  const autocannon = require('autocannon') as Autocannon;
  const runs = await Promise.all(
    instances.map(({ port }) =>
      autocannon({
        url: `http://127.0.0.1:${port}${ROUTE}`,
        method: 'POST',
        connections: 10,
        duration: 4,
        headers,
        body: JSON.stringify(delivery.body),
        requests: [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-request-uuid': randomUUID() } }) }],
      }),
    ),
  );
  return { rate: runs.reduce((sum, r) => sum + r.requests.average, 0), failed: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0) };
}

interface Pr {
  repo: string;
  branch: string;
  id?: number;
}

/** Repositories and leaking branches for `count` pull requests, created before any clock starts. */
async function preparePullRequests(sim: Simulator, prefix: string, count: number): Promise<Pr[]> {
  const prs: Pr[] = [];
  for (let k = 0; k < count; k++) {
    const repo = `acme/${prefix}-${Math.floor(k / PER_REPO)}`;
    if (k % PER_REPO === 0) await sim.createRepository('acme', repo.split('/')[1]!);
    const branch = `leak-${k}`;
    await sim.createBranch(repo, branch);
    await sim.commit(repo, branch, { [`key${k}.js`]: `export const key = "AKIAZ3MQ7XKPLR4T${String(k).padStart(4, '0').slice(-4)}";\n` }, 'Leak');
    prs.push({ repo, branch });
  }
  return prs;
}

/** Report PUTs per pull request head, counted at the simulator. */
function reportPuts(sim: Simulator, pr: Pr): number {
  const head = sim.pullRequest(pr.repo, pr.id!).sourceHash;
  return sim.apiCalls.filter((c) => c.method === 'PUT' && c.path === `/2.0/repositories/${pr.repo}/commit/${head}/reports/${REPORT}`).length;
}

/** Opens every pull request (20 at a time) and waits until each has a published report. */
async function openAndDrain(sim: Simulator, prs: Pr[], midway?: () => void, timeoutMs = 1_800_000): Promise<number> {
  const started = performance.now();
  for (let k = 0; k < prs.length; k += 20) {
    await Promise.all(prs.slice(k, k + 20).map(async (pr) => (pr.id = (await sim.openPullRequest(pr.repo, { source: pr.branch, title: 'Leak' })).id)));
    if (midway && k + 20 >= prs.length / 2 && k < prs.length / 2) midway();
  }
  const deadline = Date.now() + timeoutMs;
  while (prs.some((pr) => reportPuts(sim, pr) === 0) && Date.now() < deadline) await sleep(200);
  return (performance.now() - started) / 1000;
}

async function phase(label: string, count: number, sim: Simulator, balancer: Balancer, instances: Instance[], prefix: string): Promise<number> {
  const ack = await acknowledgements(sim, instances, balancer.url);
  // Let the acknowledgement load's jobs (one pull request's, superseding each other) drain first.
  await sleep(3000);
  const prs = await preparePullRequests(sim, prefix, count);
  const seconds = await openAndDrain(sim, prs);
  const jobsPerSecond = count / seconds;
  console.log(`${label}: acknowledgements ${ack.rate.toFixed(0)} req/s (${ack.failed} not 202); ${count} PR jobs in ${seconds.toFixed(1)} s = ${jobsPerSecond.toFixed(1)} jobs/s`);
  return jobsPerSecond;
}

async function main(): Promise<void> {
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (figures taken under this load)`);
  const db = await createTestDatabase();
  const instances: Instance[] = [];
  const balancer = await startBalancer(() => instances.filter(alive).map((i) => i.port));
  const sim = await startSimulator({ appBaseUrl: balancer.url, retryDelayMs: 0 });
  try {
    instances.push(await startInstance(db, sim, balancer.url));
    await sim.install();
    // A first pull request gives the acknowledgement load a real delivery to replay.
    await openAndDrain(sim, await preparePullRequests(sim, 'warm', 1));
    const one = await phase('one instance', JOBS, sim, balancer, instances, 'one');
    instances.push(await startInstance(db, sim, balancer.url));
    const two = await phase('two instances', JOBS, sim, balancer, instances, 'two');
    console.log(`two / one jobs/s: ${(two / one).toFixed(2)}x (target >= 1.6x)`);

    const prs = await preparePullRequests(sim, 'once', DELIVERIES);
    const victim = instances[0]!;
    let killedAt = -1;
    const seconds = await openAndDrain(sim, prs, () => {
      killedAt = sim.deliveries.length;
      victim.proc.kill('SIGKILL');
    });
    const counts = prs.map((pr) => (pr.id === undefined ? 0 : reportPuts(sim, pr)));
    const duplicates = counts.filter((n) => n > 1).length;
    const missing = counts.filter((n) => n === 0).length;
    const refused = sim.deliveries.filter((d) => d.attempts.at(-1)?.status !== 202).length;
    console.log(
      `exactly-once: ${DELIVERIES} pull requests over two instances, one SIGKILLed after ${killedAt} deliveries; ` +
        `${seconds.toFixed(1)} s; commits published more than once: ${duplicates}, never published: ${missing}; deliveries not acknowledged 202 in the end: ${refused}`,
    );
  } finally {
    for (const instance of instances) await stopInstance(instance);
    await sim.stop();
    await balancer.close();
    await db.drop();
  }
}

await main();
