// PostgreSQL mode with one and with two instances on one database. Each instance is the
// server as `npm start` runs it (node dist/server.js, worker pool on, WORKER_CONCURRENCY at
// its default of 4), behind a round-robin balancer, on a fresh database dropped afterwards,
// against the local Bitbucket simulator:
//   - acknowledgement req/s: signed Connect `pullrequest:created` deliveries (fresh request
//     ids) at full speed, autocannon with 10 connections per instance, summed; their jobs (one
//     pull request's, superseding each other) are then left to drain before the next phase;
//   - jobs/s: BENCH_PG_JOBS pull requests (default 200, each its own group, 100 per
//     repository) opened 20 at a time, clock from the first opening to the last report
//     published; two instances over one, as a ratio;
//   - exactly-once: BENCH_PG_DELIVERIES pull requests (default 10,000) across two instances,
//     one SIGKILLed once half of them are opened; counted at the simulator: reports held per
//     head commit and comments posted per pull request (each should be one), report PUTs
//     repeated by a job rerun after the kill, and deliveries not acknowledged in the end.
//
// What bounds the jobs: every Bitbucket API call answers after BENCH_PG_LATENCY_MS (default
// 30 ms, the order of Bitbucket Cloud's own answers; the simulator's slow fault), and a pull
// request's scan makes about 14 calls one after another, so an instance's four worker slots
// spend most of a job waiting on Bitbucket, as they do in production. A second instance adds
// four more slots; it can only double jobs/s while nothing else runs out of CPU. The simulator
// runs in this process and serves diffs, commits and files from git, a git process per call:
// it costs more CPU per job than an instance does (about 0.35 s against 0.1 s measured under
// load 13), so on a 2-core machine without a spare core it, not the workers, bounds jobs/s.
// The CPU seconds of each side are printed beside the figures to show which it was.
//
// Made to measure the workers, not the guards around them (each a documented per-process
// setting): BITBUCKET_CALL_BUDGET is lifted, since its default (600 calls, then one a
// second, per installation and per instance) would stop one installation's jobs after about
// 43 pull requests (the earlier version of this bench waited on it for minutes) and would
// give two instances twice the budget, a 2x that says nothing about the workers;
// TENANT_QUEUE_LIMIT is lifted because the bench queues jobs for one installation faster than
// a workspace's developers would. Branches are seeded without webhooks, so the app sees only
// the pull requests being measured. Prints figures as each phase ends, asserts nothing.
//
//   npm run bench -- postgres      (BENCH_PG_DELIVERIES=200 BENCH_PG_JOBS=40 for a short run)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import pg from 'pg';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { startBalancer, type Balancer } from '../test/helpers/balancer.ts';
import { createTestDatabase, type TestDatabase } from '../test/helpers/postgres.ts';
import { freePort } from '../test/helpers/server-process.ts';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUTE = '/connect/webhook';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const JOBS = Number(process.env.BENCH_PG_JOBS ?? 200);
const DELIVERIES = Number(process.env.BENCH_PG_DELIVERIES ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_PG_LATENCY_MS ?? 30);
/** Pull requests per simulated repository (one branch each). */
const PER_REPO = 100;
const OPEN_AT_ONCE = 20;
const REPORT = 'gatehouse-security';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const started = performance.now();
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
/** One line per step, with the time since start and the load average, as it happens. */
const say = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s, load ${load()}] ${line}`);

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
    TENANT_QUEUE_LIMIT: '100000',
    BITBUCKET_CALL_BUDGET: '1000000/1000000000',
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

/** CPU seconds (user + system) a live process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds spent from now until the returned function is called, by each live instance and by this process (simulator, balancer, load). */
function cpuMeter(instances: Instance[]): () => string {
  const first = new Map(instances.filter(alive).map((i) => [i.proc.pid!, cpuSeconds(i.proc.pid!)]));
  const bench = process.cpuUsage();
  return () => {
    const servers = instances.filter((i) => alive(i) && first.has(i.proc.pid!)).map((i) => cpuSeconds(i.proc.pid!) - first.get(i.proc.pid!)!);
    const own = process.cpuUsage(bench);
    return `CPU s: live instances ${servers.map((s) => s.toFixed(1)).join(' + ')}, simulator and bench ${((own.user + own.system) / 1e6).toFixed(1)}`;
  };
}

interface Autocannon {
  (opts: object): Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;
}

/** Full-speed acknowledgements on every instance at once; req/s summed over them. */
async function acknowledgements(sim: Simulator, instances: Instance[], baseUrl: string) {
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
        duration: 5,
        headers,
        body: JSON.stringify(delivery.body),
        requests: [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-request-uuid': randomUUID() } }) }],
      }),
    ),
  );
  return {
    rate: runs.reduce((sum, r) => sum + r.requests.average, 0),
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    failed: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

/** Waits until the database holds no queued or running job; the seconds that took. */
async function drained(pool: pg.Pool): Promise<number> {
  const from = performance.now();
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')`);
    if (rows[0]!.n === '0') return (performance.now() - from) / 1000;
    await sleep(250);
  }
}

interface Pr {
  repo: string;
  branch: string;
  /** Once opened: its id, and the source commit, whose report is what gets published. */
  id?: number;
  head?: string;
}

/** Repositories and one leaking branch per pull request, seeded without webhooks before any clock starts. */
async function preparePullRequests(sim: Simulator, prefix: string, count: number): Promise<Pr[]> {
  const prs: Pr[] = [];
  for (let first = 0; first < count; first += PER_REPO) {
    const repo = `acme/${prefix}-${first / PER_REPO}`;
    await sim.createRepository('acme', repo.split('/')[1]!);
    const branches = [];
    for (let k = first; k < Math.min(count, first + PER_REPO); k++) {
      branches.push({ branch: `leak-${k}`, files: { [`src/key${k}.js`]: `export const key = "AKIAZ3MQ7XKPLR4T${String(k % 10_000).padStart(4, '0')}";\n` } });
      prs.push({ repo, branch: `leak-${k}` });
    }
    await sim.seedBranches(repo, branches, 'Add the deploy key');
  }
  return prs;
}

/** Report PUTs and comment POSTs per path, read from the simulator's call log as it grows (never rescanned). */
function publications(sim: Simulator) {
  const counts = new Map<string, number>();
  let seen = 0;
  const count = (path: string) => {
    const calls = sim.apiCalls;
    for (; seen < calls.length; seen++) {
      const call = calls[seen]!;
      if ((call.method === 'PUT' && call.path.endsWith(`/reports/${REPORT}`)) || (call.method === 'POST' && call.path.endsWith('/comments'))) {
        counts.set(`${call.method} ${call.path}`, (counts.get(`${call.method} ${call.path}`) ?? 0) + 1);
      }
    }
    return counts.get(path) ?? 0;
  };
  return {
    reportPuts: (pr: Pr) => (pr.head === undefined ? 0 : count(`PUT /2.0/repositories/${pr.repo}/commit/${pr.head}/reports/${REPORT}`)),
    commentPosts: (pr: Pr) => (pr.id === undefined ? 0 : count(`POST /2.0/repositories/${pr.repo}/pullrequests/${pr.id}/comments`)),
  };
}
type Publications = ReturnType<typeof publications>;

/**
 * Opens every pull request (OPEN_AT_ONCE at a time) and waits until each has a published
 * report, saying how far it got every 30 s; `midway` runs once half are opened.
 */
async function openAndDrain(sim: Simulator, prs: Pr[], published: Publications, midway?: () => void) {
  const from = performance.now();
  let calledMidway = false;
  for (let k = 0; k < prs.length; k += OPEN_AT_ONCE) {
    await Promise.all(
      prs.slice(k, k + OPEN_AT_ONCE).map(async (pr) => {
        const opened = await sim.openPullRequest(pr.repo, { source: pr.branch, title: 'Leak' });
        Object.assign(pr, { id: opened.id, head: opened.sourceHash });
      }),
    );
    if (midway && !calledMidway && k + OPEN_AT_ONCE >= prs.length / 2) {
      calledMidway = true;
      midway();
    }
  }
  const opened = (performance.now() - from) / 1000;
  let told = performance.now();
  let waiting = prs.filter((pr) => published.reportPuts(pr) === 0);
  while (waiting.length > 0) {
    await sleep(200);
    waiting = waiting.filter((pr) => published.reportPuts(pr) === 0);
    if (performance.now() - told > 30_000) {
      told = performance.now();
      say(`  ${prs.length - waiting.length} of ${prs.length} published`);
    }
  }
  return { opened, seconds: (performance.now() - from) / 1000 };
}

async function phase(label: string, sim: Simulator, balancer: Balancer, instances: Instance[], pool: pg.Pool, published: Publications, prefix: string) {
  let cpu = cpuMeter(instances);
  const ack = await acknowledgements(sim, instances, balancer.url);
  say(`${label}: acknowledgements ${ack.rate.toFixed(0)} req/s, p99 ${ack.p99} ms (${ack.failed} not 202); ${cpu()}`);
  const drainSeconds = await drained(pool);
  say(`${label}: their jobs drained in ${drainSeconds.toFixed(1)} s`);
  const prs = await preparePullRequests(sim, prefix, JOBS);
  cpu = cpuMeter(instances);
  const { opened, seconds } = await openAndDrain(sim, prs, published);
  const rate = JOBS / seconds;
  say(`${label}: ${JOBS} pull-request jobs in ${seconds.toFixed(1)} s = ${rate.toFixed(1)} jobs/s (all opened after ${opened.toFixed(1)} s); ${cpu()}`);
  return rate;
}

async function main(): Promise<void> {
  say(`${JOBS} jobs per phase, ${DELIVERIES} for exactly-once, Bitbucket calls answered after ${LATENCY_MS} ms`);
  const db = await createTestDatabase('gatehouse_pgbench_');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const instances: Instance[] = [];
  const balancer = await startBalancer(() => instances.filter(alive).map((i) => i.port));
  const sim = await startSimulator({ appBaseUrl: balancer.url, retryDelayMs: 0 });
  const published = publications(sim);
  try {
    instances.push(await startInstance(db, sim, balancer.url));
    await sim.install();
    sim.faults.add({ pathPattern: /^\/2\.0\//, kind: 'slow', delayMs: LATENCY_MS, count: Number.MAX_SAFE_INTEGER });
    // A first pull request gives the acknowledgement load a real delivery to replay.
    await openAndDrain(sim, await preparePullRequests(sim, 'warm', 1), published);
    const one = await phase('one instance', sim, balancer, instances, pool, published, 'one');
    instances.push(await startInstance(db, sim, balancer.url));
    const two = await phase('two instances', sim, balancer, instances, pool, published, 'two');
    say(`two / one jobs/s: ${(two / one).toFixed(2)}x (target >= 1.6x)`);

    const prs = await preparePullRequests(sim, 'once', DELIVERIES);
    say(`exactly-once: ${DELIVERIES} pull requests seeded; opening them`);
    const victim = instances[0]!;
    let killedAt = -1;
    const cpu = cpuMeter(instances);
    const { seconds } = await openAndDrain(sim, prs, published, () => {
      killedAt = prs.filter((pr) => pr.head !== undefined).length;
      victim.proc.kill('SIGKILL');
      say(`  SIGKILLed one instance after ${killedAt} pull requests were opened`);
    });
    // A pull request's comment is posted after its report: counted once every job is settled.
    const settling = await drained(pool);
    say(`  every job settled ${settling.toFixed(1)} s after the last report`);
    // What users see: the reports Bitbucket holds per head commit (a PUT replaces the same
    // report) and the comments posted per pull request. A job killed between publishing and
    // recording it runs again elsewhere and PUTs its report again: counted apart.
    const reports = prs.map((pr) => (sim.repository(pr.repo).reports.get(pr.head!) ?? []).filter((r) => r.externalId === REPORT).length);
    const comments = prs.map(published.commentPosts);
    const puts = prs.map(published.reportPuts);
    const statuses = new Map<string, number>();
    for (const d of sim.deliveries) {
      const status = String(d.attempts.at(-1)?.status ?? d.attempts.at(-1)?.error ?? 'none');
      if (status !== '202') statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    say(
      `exactly-once: ${DELIVERIES} pull requests over two instances, one SIGKILLed after ${killedAt} were opened; ${seconds.toFixed(1)} s ` +
        `(${(DELIVERIES / seconds).toFixed(1)} jobs/s); commits with more than one report: ${reports.filter((n) => n > 1).length}, with none: ${reports.filter((n) => n === 0).length}; ` +
        `pull requests with more than one comment posted: ${comments.filter((n) => n > 1).length}, with none: ${comments.filter((n) => n === 0).length}; ` +
        `reports PUT again by a rerun job: ${puts.filter((n) => n > 1).length}; deliveries whose last attempt was not 202 ` +
        `(200: a redelivery already recorded): ${JSON.stringify(Object.fromEntries(statuses))}; ${cpu()}`,
    );
  } finally {
    for (const instance of instances) await stopInstance(instance);
    await sim.stop();
    await balancer.close();
    await pool.end();
    await db.drop();
  }
}

await main();
