// Does the embedded store's cost grow with its history? The server as `npm start` builds it
// (createApp + createPipeline, worker pool on), over a DATA_DIR holding 0, 100,000 and
// 1,000,000 processed deliveries, each size in its own child process:
//   - RSS and DATA_DIR size once the history is built (steady state: 10,000 deliveries a
//     simulated day, so 100,000 is 10 days and 1,000,000 is 100, against a 7-day window);
//   - worker cost per job: 300 pull-request jobs for distinct pull requests, queued and
//     then drained by the pool (each job reads its PR from a local stub API, finds it
//     declined, and records that: the store's part of a job, without a scan);
//   - acknowledgement req/s at full speed (autocannon, 10 connections) and p50/p99 at a
//     paced 500 req/s, while the worker pool runs the jobs those deliveries queue.
// The history goes through the dispatcher and the store API in bulk (500 deliveries
// accepted, claimed and finished per round, sharing fsyncs) on a clock that moves 8.64 s
// per delivery and ends at the real now.
//
//   npm run bench -- history        (BENCH_HISTORY=0,100000 to choose the sizes)
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import { pacedLoad } from './paced-load.ts';

const require = createRequire(import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const ROUTE = '/connect/webhook';
const CLIENT_KEY = 'ari:cloud:bitbucket::app/{7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}/gatehouse';
const SHARED_SECRET = process.env.BENCH_SHARED_SECRET ?? randomBytes(32).toString('base64url');
const BASE_URL = 'http://127.0.0.1';
const FIXTURE = path.resolve(path.dirname(SELF), '../test/fixtures/bitbucket-payloads/cloud/pullrequest-created/toolchain-connect.json');
const SIZES = (process.env.BENCH_HISTORY ?? '0,100000,1000000').split(',').map(Number);
const PER_DAY = 10_000;
const ROUND = 500;
const DRAIN_JOBS = 300;
const RATE = 500;

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size;
  }
  return total;
}

// ---------------------------------------------------------------- the server (child process)

/** A Bitbucket API that knows every pull request as declined: a job reads it and stops. */
function startStubApi(): Promise<Server> {
  const api = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && /\/pullrequests\/\d+$/.test(req.url ?? '')) {
      res.end(JSON.stringify({ id: Number(req.url!.split('/').pop()), state: 'DECLINED', source: {}, destination: {} }));
    } else if (req.method === 'POST' && req.url === '/site/oauth2/access_token') {
      res.end(JSON.stringify({ access_token: 'bench', token_type: 'bearer', expires_in: 3600 }));
    } else {
      res.statusCode = 404;
      res.end('{"type":"error","error":{"message":"not here"}}');
    }
  });
  return new Promise((resolve) => api.listen(0, '127.0.0.1', () => resolve(api)));
}

const repository = { uuid: '{a1b2c3d4-0000-4000-8000-000000000001}', fullName: 'acme/history', workspace: 'acme', name: 'history', isPrivate: true };
const actor = { accountId: '557058:bench', uuid: '{b0000000-0000-4000-8000-000000000001}', displayName: 'Bench Person' };
const side = (branch: string) => ({ branch, commit: 'a1b2c3d4e5f6', repository });

/** A pull-request event as the dispatcher stores it (about 1.5 KB of JSON). */
function prEvent(deliveryId: string, prId: number) {
  return {
    type: 'pull_request' as const,
    action: 'opened' as const,
    deliveryId,
    sourceEvent: 'pullrequest:created',
    repository,
    actor,
    pullRequest: {
      id: prId,
      title: `Change ${prId}: ${'a description of what changed '.repeat(30)}`,
      state: 'OPEN' as const,
      draft: false,
      source: side(`feature-${prId}`),
      destination: side('main'),
      mergeCommit: null,
      author: actor,
    },
  };
}

async function serve(size: number): Promise<void> {
  const { createApp } = await import('../src/app.ts');
  const { createPipeline } = await import('../src/core/pipeline.ts');
  const { createDispatcher } = await import('../src/core/dispatch.ts');
  const { encryptSecret } = await import('../src/crypto.ts');
  const { createLogger, logDestination } = await import('../src/log.ts');
  const { LowdbStore } = await import('../src/store/lowdb-store.ts');
  const { JournalResultsStore } = await import('../src/store/results-store.ts');

  const api = await startStubApi();
  const apiOrigin = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-history-'));
  const encryptionKey = randomBytes(32);
  // History runs on a simulated clock that ends at the real now; afterwards time is real.
  let simulated = Date.now() - (size / PER_DAY) * 86_400_000;
  const now = () => new Date(Math.max(simulated, Date.now()));
  const store = new LowdbStore({ dataDir, now });
  await store.open();
  const results = new JournalResultsStore({ dataDir });
  await results.open();
  const at = new Date().toISOString();
  await store.putInstallation({
    clientKey: CLIENT_KEY,
    key: 'gatehouse',
    baseUrl: apiOrigin,
    baseApiUrl: apiOrigin,
    encryptedSharedSecret: encryptSecret(encryptionKey, SHARED_SECRET),
    state: 'installed',
    installedAt: at,
    updatedAt: at,
  });

  const dispatcher = createDispatcher(store);
  const tenant = { clientKey: CLIENT_KEY };
  const started = performance.now();
  for (let done = 0; done < size; done += ROUND) {
    const n = Math.min(ROUND, size - done);
    await Promise.all(
      Array.from({ length: n }, (_, k) => {
        simulated += 86_400_000 / PER_DAY;
        return dispatcher.dispatch(tenant, prEvent(`history-${done + k}`, (done + k) % 5_000));
      }),
    );
    const claimed = await store.claimJobs(n, now());
    // One job in a thousand dies (kept 30 days); the rest finish.
    await Promise.all(claimed.map((job, k) => store.updateJob(job.id, (done + k) % 1_000 === 0 ? { status: 'dead', lastError: 'bench' } : { status: 'done' })));
  }
  simulated = Date.now();
  const buildSeconds = (performance.now() - started) / 1000;
  // Let segment deletion catch up before measuring what stays.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  globalThis.gc?.();
  const rss = process.memoryUsage().rss;
  const diskBytes = dirBytes(dataDir);
  const remembered = await store.countDeliveries();

  const config = {
    production: false,
    port: 0,
    baseUrl: BASE_URL,
    dataDir,
    appKey: 'gatehouse',
    encryptionKey,
    bitbucketBaseUrls: [apiOrigin],
    bitbucketApiUrls: [apiOrigin],
    osvMirrorUrl: 'https://osv-vulnerabilities.storage.googleapis.com',
    logLevel: 'info' as const,
  };
  const logger = createLogger('info', logDestination(openSync('/dev/null', 'w')));
  const { worker, budget } = createPipeline({ config, store, results, logger, vulnIndex: () => null });

  // Worker cost per job: distinct pull requests, so none is superseded.
  for (let i = 0; i < DRAIN_JOBS; i++) await dispatcher.dispatch(tenant, prEvent(`drain-${i}`, 100_000 + i));
  const drainStart = performance.now();
  const cpuStart = process.cpuUsage();
  worker.start();
  while ((await store.countQueuedJobs(CLIENT_KEY)) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await worker.stop();
  const drainMs = performance.now() - drainStart;
  const cpu = process.cpuUsage(cpuStart);
  const drained = await store.listJobs({ clientKey: CLIENT_KEY, newestFirst: true, limit: DRAIN_JOBS });
  const odd = drained.filter((j) => j.status !== 'done');
  if (odd.length > 0) throw new Error(`${odd.length} drained jobs did not finish: ${JSON.stringify(odd[0]).slice(0, 400)}`);
  worker.start();

  const server = createServer(createApp({ config, store, results, budget, logger, onJobQueued: () => worker.wake() }));
  server.listen(0, '127.0.0.1', () => {
    const report = { port: (server.address() as { port: number }).port, buildSeconds, rss, diskBytes, remembered, drainMsPerJob: drainMs / DRAIN_JOBS, cpuMicrosPerJob: (cpu.user + cpu.system) / DRAIN_JOBS };
    process.stdout.write(JSON.stringify(report) + '\n');
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void worker
      .stop()
      .then(() => Promise.all([results.close(), store.close()]))
      .finally(() => {
        api.close();
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
  });
}

// ---------------------------------------------------------------- the load (parent)

function headers(): Record<string, string> {
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('POST', `${BASE_URL}${ROUTE}`), false, BASE_URL);
  return {
    'content-type': 'application/json',
    authorization: `JWT ${encodeSymmetric({ iss: CLIENT_KEY, iat, exp: iat + 900, qsh }, SHARED_SECRET)}`,
    'x-event-key': 'pullrequest:created',
    'user-agent': 'Bitbucket-Webhooks/2.0',
  };
}

interface Autocannon {
  (opts: object): Promise<{ requests: { average: number }; non2xx: number; errors: number; timeouts: number }>;
}

async function measure(size: number): Promise<Record<string, number>> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, '--serve', String(size)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SHARED_SECRET: SHARED_SECRET },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server for ${size} exited with ${code}`)));
  });
  const info = JSON.parse(line) as Record<string, number>;
  try {
    const port = info.port!;
    // One pull request's deliveries, as in the report: each queues a job the pool runs.
    const { payload } = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { payload: object };
    const body = JSON.stringify(payload);
    const autocannon = require('autocannon') as Autocannon;
    const load = (seconds: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}${ROUTE}`,
        method: 'POST',
        connections: 10,
        duration: seconds,
        headers: headers(),
        body,
        requests: [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, 'x-request-uuid': randomUUID() } }) }],
      });
    await load(2); // warm-up
    const max = await load(5);
    const paced = await pacedLoad({ port, path: ROUTE, rate: RATE, seconds: 8, body: Buffer.from(body), headers: () => ({ ...headers(), 'x-request-uuid': randomUUID() }) });
    // Refusals (429 once a tenant's queue is full, resets) are counted and shown, not hidden.
    if (paced.failures > 0) console.log(`${size}: ${paced.failures} failed requests at ${RATE}/s, first: ${paced.firstFailure}`);
    const failed = max.non2xx + max.errors + max.timeouts + paced.failures;
    return { ...info, maxRate: max.requests.average, p50: paced.p50, p99: paced.p99, achieved: paced.achievedRate, failed };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

if (process.argv[2] === '--serve') {
  await serve(Number(process.argv[3]));
} else {
  const rows: [number, Record<string, number>][] = [];
  for (const size of SIZES) rows.push([size, await measure(size)]);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log('  history  build     RSS  DATA_DIR  remembered  worker per job (wall, CPU)  ack max req/s  p50 / p99 at 500/s  failed');
  for (const [size, r] of rows) {
    console.log(
      `${String(size).padStart(9)}  ${r.buildSeconds!.toFixed(0).padStart(4)} s  ${mb(r.rss!).padStart(5)} MB  ${mb(r.diskBytes!).padStart(5)} MB  ${String(r.remembered).padStart(10)}  ` +
        `${r.drainMsPerJob!.toFixed(2)} ms, ${(r.cpuMicrosPerJob! / 1000).toFixed(2)} ms  ${r.maxRate!.toFixed(0).padStart(13)}  ${r.p50!.toFixed(1)} / ${r.p99!.toFixed(1)} ms (${r.achieved!.toFixed(0)}/s)  ${r.failed}`,
    );
  }
  const [first] = rows;
  for (const [size, r] of rows.slice(1)) {
    console.log(`${size} vs ${first![0]}: ack max ${(r.maxRate! / first![1].maxRate!).toFixed(2)}x, p99 ${(r.p99! / first![1].p99!).toFixed(2)}x, worker CPU per job ${(r.cpuMicrosPerJob! / first![1].cpuMicrosPerJob!).toFixed(2)}x`);
  }
}
