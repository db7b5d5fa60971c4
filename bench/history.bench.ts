// Does the embedded store's cost grow with its history? The server exactly as `npm start`
// runs it (node dist/server.js, worker pool on, default settings but for the call budget
// and the per-installation queue limit, which the load would exhaust) over a DATA_DIR holding 0, 100,000 and 1,000,000 processed
// pull-request deliveries (bench/history-builder.ts: 10,000 a day, ending now), against a
// local stub of Bitbucket's API that knows every pull request as declined:
//   - start-up time, RSS and DATA_DIR size (after the run: steady state);
//   - worker cost per job: 300 deliveries for distinct pull requests posted to the webhook
//     and drained by the pool (each job reads its PR from the stub and records it), server
//     CPU per job (its acknowledgement included) and wall time until the stub saw them all;
//   - acknowledgement req/s at full speed (autocannon, 10 connections) and p50/p99 at a
//     paced 500 req/s (bench/paced-load.ts), while the pool runs the jobs they queue;
//   - the same acknowledgement figures for atlassian-connect-express 11 (the server
//     bench/webhook-ack.bench.ts starts), its full-speed runs taking turns with Gatehouse's
//     (3 rounds of 5 s each, the median ratio reported), so the machine's drift hits both.
//
//   npm run bench -- history        (BENCH_HISTORY=0,100000 to choose the sizes)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { freePort } from '../test/helpers/server-process.ts';
import { buildHistory, pullRequestPayload } from './history-builder.ts';
import { pacedLoad } from './paced-load.ts';
import { median } from './percentile.ts';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const ROUTE = '/connect/webhook';
/** The installation bench/webhook-ack.bench.ts gives its ACE server, so one token signs for both. */
const CLIENT_KEY = 'ari:cloud:bitbucket::app/{5f0c6a1e-8a34-4d0e-9a3b-2b6e0f1c7d42}/gatehouse';
const SHARED_SECRET = process.env.BENCH_SHARED_SECRET ?? randomBytes(32).toString('base64url');
const ENCRYPTION_KEY = process.env.BENCH_ENCRYPTION_KEY ?? randomBytes(32).toString('hex');
const BASE_URL = 'http://127.0.0.1';
const SIZES = (process.env.BENCH_HISTORY ?? '0,100000,1000000').split(',').map(Number);
const DRAIN_JOBS = 300;
const RATE = 500;
const CHILD_ENV = { ...process.env, BENCH_SHARED_SECRET: SHARED_SECRET, BENCH_ENCRYPTION_KEY: ENCRYPTION_KEY };

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size;
  }
  return total;
}

// ---------------------------------------------------------------- children

/** Bitbucket's API for the server: every pull request is declined; counts the reads. */
function serveStub(): void {
  let pullRequestReads = 0;
  const api = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && /\/pullrequests\/\d+$/.test(req.url ?? '')) {
      pullRequestReads++;
      res.end(JSON.stringify({ id: Number(req.url!.split('/').pop()), state: 'DECLINED', source: {}, destination: {} }));
    } else if (req.method === 'POST' && req.url === '/site/oauth2/access_token') {
      res.end(JSON.stringify({ access_token: 'bench', token_type: 'bearer', expires_in: 3600 }));
    } else if (req.url === '/bench/count') {
      res.end(JSON.stringify({ pullRequestReads }));
    } else {
      res.statusCode = 404;
      res.end('{"type":"error","error":{"message":"not here"}}');
    }
  });
  api.listen(Number(process.env.BENCH_STUB_PORT ?? 0), '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (api.address() as { port: number }).port }) + '\n'));
  process.on('SIGTERM', () => process.exit(0));
}

async function build(size: number, dataDir: string, apiOrigin: string): Promise<void> {
  const started = performance.now();
  await buildHistory({ dataDir, deliveries: size, clientKey: CLIENT_KEY, sharedSecret: SHARED_SECRET, encryptionKey: Buffer.from(ENCRYPTION_KEY, 'hex'), apiOrigin });
  process.stdout.write(JSON.stringify({ buildSeconds: (performance.now() - started) / 1000 }) + '\n');
}

/** Starts `node <args>` and resolves with the first JSON line it prints. */
async function startChild(args: string[], env: NodeJS.ProcessEnv = CHILD_ENV): Promise<{ child: ChildProcess; info: Record<string, number> }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const info = await new Promise<Record<string, number>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, number>));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, info };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------- measuring (parent)

function headers(): Record<string, string> {
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('POST', `${BASE_URL}${ROUTE}`), false, BASE_URL);
  return {
    'content-type': 'application/json',
    authorization: `JWT ${encodeSymmetric({ iss: CLIENT_KEY, iat, exp: iat + 1800, qsh }, SHARED_SECRET)}`,
    'x-event-key': 'pullrequest:created',
    'user-agent': 'Bitbucket-Webhooks/2.0',
  };
}

interface Autocannon {
  (opts: object): Promise<{ requests: { average: number; total: number }; non2xx: number; errors: number; timeouts: number }>;
}

const ROUNDS = 3;
/** One pull request's delivery (the fixture's), which every acknowledgement run posts. */
const ACK_BODY = JSON.stringify(pullRequestPayload(9));

/** One full-speed run of 5 s (after `warm` seconds unmeasured): req/s and the server's CPU per request. */
async function fullSpeed(port: number, pid: number, warm = 0): Promise<{ rate: number; cpuMicros: number; failed: number }> {
  const autocannon = require('autocannon') as Autocannon;
  const load = (seconds: number) =>
    autocannon({
      url: `http://127.0.0.1:${port}${ROUTE}`,
      method: 'POST',
      connections: 10,
      duration: seconds,
      headers: headers(),
      body: ACK_BODY,
      requests: [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-request-uuid': randomUUID() } }) }],
    });
  if (warm > 0) await load(warm);
  const cpuBefore = cpuMs(pid);
  const max = await load(5);
  return { rate: max.requests.average, cpuMicros: ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(max.requests.total, 1), failed: max.non2xx + max.errors + max.timeouts };
}

/**
 * Waits (at most 10 s) until a process used under a tenth of a core for 200 ms: the jobs a
 * full-speed run queued are worked off before the other server's run starts, so that neither
 * runs against the other's leftovers.
 */
async function settled(pid: number): Promise<void> {
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const before = cpuMs(pid);
    await sleep(200);
    if (cpuMs(pid) - before < 20) return;
  }
}

/**
 * Full speed: ROUNDS runs of 5 s of each server, alternating (Gatehouse, ACE, Gatehouse...), so
 * that a change in the machine's load hits both; the medians, and the median of the rounds'
 * ratios. Then Gatehouse alone at a paced 500/s. One pull request's deliveries (the fixture's).
 * Also the server's CPU per request at full speed (its acknowledgement and whatever its worker
 * pool does meanwhile): less sensitive than req/s to what else the machine runs.
 */
async function acknowledgements(port: number, pid: number, ace: { port: number; pid: number }): Promise<{ ours: Record<string, number>; ace: Record<string, number>; ratio: number }> {
  const ours: Awaited<ReturnType<typeof fullSpeed>>[] = [];
  const theirs: Awaited<ReturnType<typeof fullSpeed>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await fullSpeed(port, pid, round === 0 ? 2 : 0));
    await settled(pid);
    theirs.push(await fullSpeed(ace.port, ace.pid, round === 0 ? 2 : 0));
    await settled(ace.pid);
  }
  const ratio = median(ours.map((o, i) => o.rate / theirs[i]!.rate));
  const paced = await pacedRun(port);
  const summary = (runs: typeof ours) => ({ maxRate: median(runs.map((r) => r.rate)), cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicros)), failed: runs.reduce((n, r) => n + r.failed, 0) });
  const mine = summary(ours);
  return { ours: { ...mine, ...paced, failed: mine.failed + paced.failed }, ace: summary(theirs), ratio };
}

/**
 * 8 s at a paced RATE: p50, p99, the rate achieved and the failures. Used for ACE once, after
 * the last Gatehouse server: it has no worker pool, so its latency does not depend on history.
 */
async function pacedRun(port: number): Promise<{ p50: number; p99: number; achieved: number; failed: number }> {
  const paced = await pacedLoad({ port, path: ROUTE, rate: RATE, seconds: 8, body: Buffer.from(ACK_BODY), headers: () => ({ ...headers(), 'x-request-uuid': randomUUID() }) });
  // Refusals (429 once a tenant's queue is full, resets) are counted and shown, not hidden.
  if (paced.failures > 0) console.log(`  port ${port}: ${paced.failures} failed requests at ${RATE}/s, first: ${paced.firstFailure}`);
  return { p50: paced.p50, p99: paced.p99, achieved: paced.achievedRate, failed: paced.failures };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** User + system CPU of a process in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function stubCount(stubOrigin: string): Promise<number> {
  return ((await (await fetch(`${stubOrigin}/bench/count`)).json()) as { pullRequestReads: number }).pullRequestReads;
}

/** Posts DRAIN_JOBS deliveries of distinct pull requests and waits until the pool has read every one. */
async function drain(port: number, pid: number, stubOrigin: string): Promise<{ drainMsPerJob: number; cpuMsPerJob: number }> {
  const before = await stubCount(stubOrigin);
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  for (let i = 0; i < DRAIN_JOBS; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, k) => {
        const res = await fetch(`http://127.0.0.1:${port}${ROUTE}`, {
          method: 'POST',
          headers: { ...headers(), 'x-request-uuid': randomUUID() },
          body: JSON.stringify(pullRequestPayload(100_000 + i + k)),
        });
        if (res.status !== 202) throw new Error(`drain delivery answered ${res.status}: ${await res.text()}`);
      }),
    );
  }
  while ((await stubCount(stubOrigin)) - before < DRAIN_JOBS) await sleep(5);
  const wall = performance.now() - started;
  // The last jobs record what they read; let them finish before reading the CPU clock.
  await sleep(200);
  return { drainMsPerJob: wall / DRAIN_JOBS, cpuMsPerJob: (cpuMs(pid) - cpuBefore) / DRAIN_JOBS };
}

/**
 * BENCH_HISTORY_DIRS=1000000=/path,... measures directories built earlier by
 * `node --import tsx bench/history.bench.ts --build SIZE DIR STUB_ORIGIN` (with the same
 * BENCH_SHARED_SECRET, BENCH_ENCRYPTION_KEY and BENCH_STUB_PORT), so that a slow build on a
 * busy machine need not sit between the measurements. Each run works on a copy, so one build
 * serves any number of runs.
 */
const PREBUILT = new Map((process.env.BENCH_HISTORY_DIRS ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]));

async function measure(size: number, stubOrigin: string, ace: { port: number; pid: number }): Promise<{ row: Record<string, number>; ace: Record<string, number> }> {
  const prebuilt = PREBUILT.get(String(size));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-history-'));
  try {
    if (prebuilt) cpSync(prebuilt, dataDir, { recursive: true });
    let buildSeconds = NaN;
    if (!prebuilt) {
      const built = await startChild(['--max-old-space-size=4096', '--import', 'tsx', SELF, '--build', String(size), dataDir, stubOrigin]);
      await new Promise((resolve) => built.child.once('exit', resolve));
      buildSeconds = built.info.buildSeconds!;
    }
    const builtBytes = dirBytes(dataDir);

    const port = await freePort();
    const startedAt = performance.now();
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. --cpu-prof to profile it.
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const server = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/server.js')], {
      cwd: ROOT,
      // stdout (info lines, LOG_LEVEL's default) to /dev/null, as `npm start > /dev/null` would.
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        BASE_URL,
        DATA_DIR: dataDir,
        ENCRYPTION_KEY,
        BITBUCKET_BASE_URLS: stubOrigin,
        BITBUCKET_API_URLS: stubOrigin,
        // 600 calls an hour (the default) would hold the drained jobs back for an hour.
        BITBUCKET_CALL_BUDGET: '1000000/3600',
        // 500 queued jobs (the default) is one second of the paced load for one installation.
        TENANT_QUEUE_LIMIT: '100000',
      },
    });
    try {
      for (;;) {
        if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
        const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (up) break;
        await sleep(100);
      }
      const startSeconds = (performance.now() - startedAt) / 1000;
      const worker = await drain(port, server.pid!, stubOrigin);
      const ack = await acknowledgements(port, server.pid!, ace);
      await sleep(3000);
      return { row: { buildSeconds, builtBytes, startSeconds, ...worker, ...ack.ours, aceRatio: ack.ratio, rss: rssBytes(server.pid!), diskBytes: dirBytes(dataDir) }, ace: ack.ace };
    } finally {
      await stop(server);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`load average before the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  // As `npm start` does first (its prestart script): dist/ rebuilt if a source is newer.
  spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.js'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  const stub = await startChild(['--import', 'tsx', SELF, '--stub']);
  const stubOrigin = `http://127.0.0.1:${stub.info.port}`;
  const rows: [string, Record<string, number>][] = [];
  // ACE runs beside each Gatehouse server and takes turns with it (acknowledgements()).
  const ace = await startChild(['--import', 'tsx', path.join(ROOT, 'bench/webhook-ack.bench.ts'), '--serve', 'ace']);
  const aceRuns: Record<string, number>[] = [];
  try {
    for (const size of SIZES) {
      const measured = await measure(size, stubOrigin, { port: ace.info.port!, pid: ace.child.pid! });
      rows.push([String(size), measured.row]);
      aceRuns.push(measured.ace);
    }
    rows.push(['ACE 11', { ...aceRuns[0]!, ...(await pacedRun(ace.info.port!)) }]);
  } finally {
    await stop(ace.child);
    await stop(stub.child);
  }

  const mb = (bytes: number | undefined) => (bytes === undefined ? '' : (bytes / 1024 / 1024).toFixed(1) + ' MB');
  const n = (v: number | undefined, digits = 0) => (v === undefined ? '' : v.toFixed(digits));
  console.log(`load average after the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (figures taken under that load)`);
  console.log('  history   build   start    RSS        DATA_DIR built / after   worker per job (wall, CPU)   ack max req/s (CPU/req)   p50 / p99 at 500/s   failed');
  for (const [name, r] of rows) {
    console.log(
      `${name.padStart(9)}  ${n(r.buildSeconds).padStart(4)} s  ${n(r.startSeconds, 1).padStart(5)} s  ${mb(r.rss).padStart(9)}  ${mb(r.builtBytes).padStart(9)} / ${mb(r.diskBytes).padStart(9)}  ` +
        `${r.drainMsPerJob === undefined ? ''.padEnd(26) : `${n(r.drainMsPerJob, 2)} ms, ${n(r.cpuMsPerJob, 2)} ms`.padEnd(26)}  ${n(r.maxRate).padStart(13)} (${n(r.cpuMicrosPerRequest)} µs)   ` +
        `${n(r.p50, 1)} / ${n(r.p99, 1)} ms (${n(r.achieved)}/s)  ${r.failed}`,
    );
  }
  const base = rows.find(([name]) => name === String(SIZES[0]))?.[1];
  for (const [name, r] of rows.filter(([name]) => name !== 'ACE 11' && name !== String(SIZES[0]))) {
    console.log(
      `${name} vs ${SIZES[0]}: ack max ${(r.maxRate! / base!.maxRate!).toFixed(2)}x, p99 ${(r.p99! / base!.p99!).toFixed(2)}x, ` +
        `worker CPU per job ${(r.cpuMsPerJob! / base!.cpuMsPerJob!).toFixed(2)}x, wall per job ${(r.drainMsPerJob! / base!.drainMsPerJob!).toFixed(2)}x`,
    );
  }
  const sized = rows.filter(([name]) => name !== 'ACE 11' && Number(name) > 0);
  if (sized.length === 2) {
    const [[a, ra], [b, rb]] = sized as [[string, Record<string, number>], [string, Record<string, number>]];
    console.log(`${b} vs ${a} deliveries: RSS ${(rb.rss! / ra.rss!).toFixed(2)}x, DATA_DIR ${(rb.diskBytes! / ra.diskBytes!).toFixed(2)}x (target: within 20 %)`);
  }
  for (const [i, [name, r]] of rows.filter(([name]) => name !== 'ACE 11').entries()) {
    const theirs = aceRuns[i]!;
    console.log(
      `${name}: ack max vs ACE ${r.aceRatio!.toFixed(2)}x, the median of ${ROUNDS} alternating rounds (${n(r.maxRate)} vs ${n(theirs.maxRate)} req/s; target >= 1.25x); ` +
        `server CPU per request ${(r.cpuMicrosPerRequest! / theirs.cpuMicrosPerRequest!).toFixed(2)}x ACE's; p99 at ${RATE}/s ${n(r.p99, 1)} ms (target < 10 ms)`,
    );
  }
}

const mode = process.argv[2];
if (mode === '--stub') serveStub();
else if (mode === '--build') await build(Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
else await main();
