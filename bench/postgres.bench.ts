// PostgreSQL mode with one and with two instances on one database. Each instance is the
// server as `npm start` runs it (node dist/server.js, worker pool on, WORKER_CONCURRENCY at
// its default of 4), behind a round-robin balancer, on a fresh database dropped afterwards,
// installed through the Connect lifecycle like any Bitbucket Cloud workspace:
//   - acknowledgement req/s: signed Connect `pullrequest:created` deliveries (fresh request
//     ids) at full speed, autocannon with 10 connections per instance, summed; their jobs (one
//     pull request's, superseding each other) are then left to drain before the next phase;
//   - jobs/s: BENCH_PG_JOBS pull requests (default 200, each its own group, 100 per
//     repository) delivered 20 at a time, clock from the first delivery to the last comment
//     posted (a job's last publication); two instances over one, as a ratio;
//   - exactly-once: BENCH_PG_DELIVERIES pull requests (default 10,000) across two instances,
//     one SIGKILLed once half of them are delivered; counted at Bitbucket once every job has
//     settled: pull requests without a report or comment, with more than one comment held or
//     posted, reports PUT again by a job rerun after the kill, deliveries whose last attempt
//     was not 202, and jobs by status.
// Deliveries are real webhook deliveries: the body Bitbucket sends, a JWT signed with the
// installation's shared secret over the POST, a fresh X-Request-UUID, and up to two retries
// after a failure or a 10 s timeout with the same id (Bitbucket's own rule), so the kill is
// survived as it is in production.
//
// Bitbucket here is bench/fast-bitbucket.ts: in memory, answering every call after
// BENCH_PG_LATENCY_MS (default 30 ms, the order of Bitbucket Cloud's own answers) on a timer.
// A pull request's scan makes about 14 calls one after another, so an instance's four worker
// slots spend most of a job waiting on Bitbucket, as they do in production; a second instance
// adds four more slots, and can double jobs/s while CPU lasts. This bench ran against the
// local simulator before: it serves diffs, commits and files from git, a git process for most
// calls, about 0.35 s of CPU per job against an instance's 0.12 s, so on a 2-core machine it,
// not the instances, bounded jobs/s (0.3 jobs/s, two/one 0.84x). The simulator's realism (every
// call checked against the OpenAPI, a real repository) is covered by the end-to-end tests;
// here the fake checks each kind of call's request once against the same OpenAPI description,
// and the first pull request must end 'done' with its report and comment published before any
// clock starts. CPU seconds of the instances and of this process (fake, balancer, load) are printed
// beside each figure to show which side ran out.
//
// Made to measure the workers, not the guards around them (each a documented setting):
// BITBUCKET_CALL_BUDGET is lifted, since its default (600 calls, then one a second, per
// installation, shared by every instance on the database) would stop one installation's
// jobs after about 43 pull requests, and two instances would then share that one budget, a
// ratio that says nothing about the workers; TENANT_QUEUE_LIMIT is lifted because the bench
// queues jobs for one installation faster than a workspace's developers would. Prints figures as each phase
// ends, asserts nothing about them.
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
import { startBalancer, type Balancer } from '../test/helpers/balancer.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';
import { freePort } from '../test/helpers/server-process.ts';
import { startFastBitbucket, type FastBitbucket, type FastPullRequest } from './fast-bitbucket.ts';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUTE = '/connect/webhook';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const JOBS = Number(process.env.BENCH_PG_JOBS ?? 200);
const DELIVERIES = Number(process.env.BENCH_PG_DELIVERIES ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_PG_LATENCY_MS ?? 30);
/** Who created the database (helpers sharing one server name theirs). */
const DATABASE_PREFIX = process.env.BENCH_PG_DATABASE_PREFIX ?? 'gatehouse_pgbench_';
/** Pull requests per repository. */
const PER_REPO = 100;
const DELIVER_AT_ONCE = 20;
/** Bitbucket's webhook timeout and retries (src/simulator/webhooks.ts says the same). */
const WEBHOOK_TIMEOUT_MS = 10_000;
const WEBHOOK_ATTEMPTS = 3;
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

async function startInstance(databaseUrl: string, bitbucket: FastBitbucket, baseUrl: string): Promise<Instance> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-pg-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    BASE_URL: baseUrl,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEY,
    BITBUCKET_BASE_URLS: bitbucket.origin,
    BITBUCKET_API_URLS: bitbucket.origin,
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

/** CPU seconds spent from now until the returned function is called, per job if `jobs` is given: each live instance, and this process (fake Bitbucket, balancer, load). */
function cpuMeter(instances: Instance[]): (jobs?: number) => string {
  const first = new Map(instances.filter(alive).map((i) => [i.proc.pid!, cpuSeconds(i.proc.pid!)]));
  const bench = process.cpuUsage();
  return (jobs = 1) => {
    const servers = instances.filter((i) => alive(i) && first.has(i.proc.pid!)).map((i) => (cpuSeconds(i.proc.pid!) - first.get(i.proc.pid!)!) / jobs);
    const own = process.cpuUsage(bench);
    const digits = jobs === 1 ? 1 : 3;
    return `CPU s${jobs === 1 ? '' : ' per job'}: instances ${servers.map((s) => s.toFixed(digits)).join(' + ')}, fake Bitbucket, balancer and bench ${((own.user + own.system) / 1e6 / jobs).toFixed(digits)}`;
  };
}

/** The headers of a Connect webhook delivery to `baseUrl`: a JWT over the POST, signed with the installation's secret. */
function deliveryHeaders(bitbucket: FastBitbucket, baseUrl: string): Record<string, string> {
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('POST', `${baseUrl}${ROUTE}`), false, baseUrl);
  return {
    'content-type': 'application/json',
    authorization: `JWT ${encodeSymmetric({ iss: bitbucket.clientKey, iat, exp: iat + 1800, qsh }, bitbucket.sharedSecret)}`,
    'x-event-key': 'pullrequest:created',
    'user-agent': 'Bitbucket-Webhooks/2.0',
  };
}

/**
 * Delivers one webhook as Bitbucket does (same id on every attempt, retried after a 5xx, a
 * failure or a timeout); the last attempt's status or error, and how long the delivery took.
 */
async function deliver(bitbucket: FastBitbucket, baseUrl: string, body: object): Promise<{ status: string; ms: number }> {
  const from = performance.now();
  const status = await attempts(bitbucket, baseUrl, body);
  return { status, ms: performance.now() - from };
}

async function attempts(bitbucket: FastBitbucket, baseUrl: string, body: object): Promise<string> {
  const id = randomUUID();
  let last = 'none';
  for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
    try {
      const res = await fetch(`${baseUrl}${ROUTE}`, {
        method: 'POST',
        headers: { ...deliveryHeaders(bitbucket, baseUrl), 'x-request-uuid': id, 'x-attempt-number': String(attempt) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      last = String(res.status);
      if (res.status < 500) return last;
    } catch (error) {
      last = (error as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed';
    }
  }
  return last;
}

/** The Connect `installed` lifecycle callback, unsigned as a first install is: the app proves the secret with the JWT bearer grant. */
async function install(bitbucket: FastBitbucket, baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}/connect/lifecycle/installed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(bitbucket.installBody),
  });
  if (res.status !== 204) throw new Error(`install answered ${res.status}: ${await res.text()}`);
}

interface Autocannon {
  (opts: object): Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;
}

/** Full-speed acknowledgements on every instance at once; req/s summed over them. */
async function acknowledgements(bitbucket: FastBitbucket, instances: Instance[], baseUrl: string, body: object) {
  const autocannon = require('autocannon') as Autocannon;
  const runs = await Promise.all(
    instances.map(({ port }) =>
      autocannon({
        url: `http://127.0.0.1:${port}${ROUTE}`,
        method: 'POST',
        connections: 10,
        duration: 5,
        headers: deliveryHeaders(bitbucket, baseUrl),
        body: JSON.stringify(body),
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

/** Jobs by status, a dead job's error standing for all those with the same error. */
async function jobStatuses(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(
    `SELECT status || CASE WHEN status = 'dead' THEN ': ' || coalesce(last_error, '') ELSE '' END AS status, count(*) AS n FROM jobs GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * Delivers `count` new pull requests (DELIVER_AT_ONCE at a time) and waits until each has its
 * comment, the last thing a job publishes, saying how far it got every 30 s; `midway` runs
 * once half are delivered. The last status of each delivery is tallied in `statuses`.
 */
async function deliverAndDrain(bitbucket: FastBitbucket, baseUrl: string, prefix: string, count: number, statuses: Map<string, number>, midway?: () => void) {
  const from = performance.now();
  const prs: FastPullRequest[] = [];
  const took: number[] = [];
  for (let k = 0; k < count; k += DELIVER_AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(DELIVER_AT_ONCE, count - k) }, async (_, j) => {
        const n = k + j;
        const { pr, body } = bitbucket.openPullRequest(`acme/${prefix}-${Math.floor(n / PER_REPO)}`, (n % PER_REPO) + 1);
        prs.push(pr);
        const { status, ms } = await deliver(bitbucket, baseUrl, body);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        took.push(ms);
      }),
    );
    if (midway && k + DELIVER_AT_ONCE >= count / 2 && k < count / 2) midway();
  }
  const delivered = (performance.now() - from) / 1000;
  let told = performance.now();
  let waiting = prs;
  while ((waiting = waiting.filter((pr) => pr.commentPosts === 0)).length > 0) {
    await sleep(50);
    if (performance.now() - told > 30_000) {
      told = performance.now();
      say(`  ${prs.length - waiting.length} of ${prs.length} published`);
    }
  }
  took.sort((a, b) => a - b);
  const at = (q: number) => took[Math.min(took.length - 1, Math.floor(q * took.length))]!.toFixed(0);
  return { prs, delivered, seconds: (performance.now() - from) / 1000, deliveryMs: `delivery p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms` };
}

async function phase(label: string, bitbucket: FastBitbucket, balancer: Balancer, instances: Instance[], pool: pg.Pool, prefix: string) {
  let cpu = cpuMeter(instances);
  const ack = await acknowledgements(bitbucket, instances, balancer.url, bitbucket.openPullRequest(`acme/${prefix}-ack`, 1).body);
  say(`${label}: acknowledgements ${ack.rate.toFixed(0)} req/s, p99 ${ack.p99} ms (${ack.failed} not 202); ${cpu()}`);
  const drainSeconds = await drained(pool);
  say(`${label}: their jobs drained in ${drainSeconds.toFixed(1)} s; jobs so far by status ${JSON.stringify(await jobStatuses(pool))}`);
  cpu = cpuMeter(instances);
  const statuses = new Map<string, number>();
  const { delivered, seconds, deliveryMs } = await deliverAndDrain(bitbucket, balancer.url, prefix, JOBS, statuses);
  const rate = JOBS / seconds;
  say(`${label}: ${JOBS} pull-request jobs in ${seconds.toFixed(1)} s = ${rate.toFixed(2)} jobs/s (all delivered after ${delivered.toFixed(1)} s, ${deliveryMs}, last statuses ${JSON.stringify(Object.fromEntries(statuses))}); ${cpu(JOBS)}`);
  return rate;
}

async function main(): Promise<void> {
  say(`${JOBS} jobs per phase, ${DELIVERIES} for exactly-once, Bitbucket calls answered after ${LATENCY_MS} ms`);
  const db = await createTestDatabase(DATABASE_PREFIX);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const instances: Instance[] = [];
  const balancer = await startBalancer(() => instances.filter(alive).map((i) => i.port));
  const bitbucket = await startFastBitbucket({ latencyMs: LATENCY_MS });
  try {
    instances.push(await startInstance(db.url, bitbucket, balancer.url));
    await install(bitbucket, balancer.url);
    // One pull request first: the fake must be answered as Bitbucket would be, or nothing after means anything.
    const warm = await deliverAndDrain(bitbucket, balancer.url, 'warm', 1, new Map());
    await drained(pool);
    const [pr] = warm.prs;
    const jobs = await jobStatuses(pool);
    say(`first pull request: jobs ${JSON.stringify(jobs)}, report PUTs ${pr!.reportPuts}, comments ${pr!.comments.length}, ${bitbucket.calls().answered} calls answered`);
    const problems = [...bitbucket.violations, ...bitbucket.calls().unexpected.map((c) => `unexpected call ${c}`)];
    if (problems.length > 0 || jobs.done !== 1 || pr!.reportPuts !== 1) throw new Error(`the fast fake is not answering as Bitbucket does: ${problems.join('; ') || 'the job did not end done with its report'}`);

    const one = await phase('one instance', bitbucket, balancer, instances, pool, 'one');
    instances.push(await startInstance(db.url, bitbucket, balancer.url));
    const two = await phase('two instances', bitbucket, balancer, instances, pool, 'two');
    say(`two / one jobs/s: ${(two / one).toFixed(2)}x (target >= 1.6x)`);

    say(`exactly-once: delivering ${DELIVERIES} pull requests`);
    const victim = instances[0]!;
    let killedAt = -1;
    const statuses = new Map<string, number>();
    await drained(pool);
    const before = await jobStatuses(pool);
    const cpu = cpuMeter(instances);
    const { prs, seconds, delivered, deliveryMs } = await deliverAndDrain(bitbucket, balancer.url, 'once', DELIVERIES, statuses, () => {
      killedAt = [...statuses.values()].reduce((a, b) => a + b, 0);
      victim.proc.kill('SIGKILL');
      say(`  SIGKILLed one instance after ${killedAt} pull requests were delivered`);
    });
    const cpuLine = cpu(DELIVERIES);
    // A job killed between its comment and recording itself done runs again: counted once every job is settled.
    const settling = await drained(pool);
    say(`  every job settled ${settling.toFixed(1)} s after the last comment`);
    const after = await jobStatuses(pool);
    const jobsOfRun = Object.fromEntries(Object.entries(after).map(([status, n]) => [status, n - (before[status] ?? 0)]).filter(([, n]) => n !== 0));
    const count = (test: (pr: FastPullRequest) => boolean) => prs.filter(test).length;
    say(
      `exactly-once: ${DELIVERIES} pull requests over two instances, one SIGKILLed after ${killedAt} were delivered; ${seconds.toFixed(1)} s ` +
        `(all delivered after ${delivered.toFixed(1)} s, ${deliveryMs}) ` +
        `(${(DELIVERIES / seconds).toFixed(2)} jobs/s); without a report: ${count((p) => p.reportPuts === 0)}; without a comment: ${count((p) => p.comments.length === 0)}; ` +
        `with more than one comment held: ${count((p) => p.comments.length > 1)}, posted: ${count((p) => p.commentPosts > 1)}; ` +
        `report PUT again by a rerun job: ${count((p) => p.reportPuts > 1)}; last delivery status (200: a redelivery already recorded): ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `jobs of this run by status: ${JSON.stringify(jobsOfRun)}; ${cpuLine}`,
    );
    const problemsAfter = [...bitbucket.violations, ...bitbucket.calls().unexpected.map((c) => `unexpected call ${c}`)];
    if (problemsAfter.length > 0) say(`calls the fake did not expect or found invalid: ${problemsAfter.slice(0, 10).join('; ')}`);
  } finally {
    for (const instance of instances) await stopInstance(instance);
    await bitbucket.close();
    await balancer.close();
    await pool.end();
    await db.drop();
  }
}

await main();
