// Whole-workspace coverage on the simulator, with the server run as `npm start` runs it
// (node dist/server.js; run `npm run build` first when src/ changed):
//   - a generated workspace (src/simulator/workspace-generator.ts): BENCH_COVERAGE_REPOS
//     repositories (default 500) of real source text from node_modules, mixed sizes,
//     BENCH_COVERAGE_LOCKFILES of them (default 20) with a package-lock.json of
//     BENCH_COVERAGE_PACKAGES packages (default 1,000);
//   - 429 (with Retry-After: 1) on 5 % of the API calls, the whole run;
//   - discovery on demand, then the backfill: repositories/minute, MB scanned/s, peak RSS
//     (VmHWM of each server process), API calls per repository, broken down by kind (listings,
//     file reads, publication, the calls answered 429 and so made again) so the figure is explained;
//   - at the end, the inventory exported as JSON Lines: every repository listed, how many with
//     findings and with components;
//   - at 50 % the server is killed with SIGKILL and started again on the same DATA_DIR: the
//     backfill must go on without scanning a finished repository again (counted at the
//     simulator: a repository whose branch report was published before the kill and one of
//     whose files is read after it; the repository in flight at the kill is counted apart).
//   npm run bench -- coverage            (BENCH_COVERAGE_REPOS=60 BENCH_COVERAGE_LOCKFILES=4 for a short run)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '../src/simulator/simulator.ts';
import { generateWorkspace } from '../src/simulator/workspace-generator.ts';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';
import { signedCall } from '../test/helpers/pipeline-app.ts';
import { freePort } from '../test/helpers/server-process.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPOS = Number(process.env.BENCH_COVERAGE_REPOS ?? 500);
const LOCKFILES = Number(process.env.BENCH_COVERAGE_LOCKFILES ?? 20);
const PACKAGES = Number(process.env.BENCH_COVERAGE_PACKAGES ?? 1000);
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const BRANCH_REPORT = 'gatehouse-branch';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Coverage {
  state: string;
  repositories: { total: number; scanned: number; failed: number; skipped: number; pending: number; done: number };
  bytes: number;
  files: number;
  findings: number;
  errors: { repository: string; reason: string }[];
}

async function startServer(sim: Simulator, port: number, dataDir: string): Promise<ChildProcess> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY,
    BITBUCKET_BASE_URLS: sim.webOrigin,
    BITBUCKET_API_URLS: sim.apiOrigin,
    LOG_LEVEL: 'error',
    // A large backfill raises the per-installation budget (README); the 429s still slow it.
    BITBUCKET_CALL_BUDGET: '100000/10000000',
  };
  const proc = spawn(process.execPath, ['dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 1200; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return proc;
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}`);
    await sleep(50);
  }
  throw new Error('server did not start');
}

/** What an API call of the backfill is for: the breakdown of calls per repository. */
const CALL_KINDS = ['workspace listing', 'repository and branch head', 'directory listings', 'file reads', 'report, annotations, build status', 'other'] as const;
type CallKind = (typeof CALL_KINDS)[number];

function callKind(method: string, urlPath: string): CallKind {
  const p = urlPath.split('?')[0]!;
  if (/\/reports\/|\/statuses\/build/.test(p)) return 'report, annotations, build status';
  if (/^\/2\.0\/repositories\/[^/]+\/?$/.test(p)) return 'workspace listing';
  if (/^\/2\.0\/repositories\/[^/]+\/[^/]+\/?$/.test(p) || /\/refs\/branches\//.test(p)) return 'repository and branch head';
  if (method === 'GET' && /\/src\/[0-9a-f]{40}\/(.*\/)?$/.test(p)) return 'directory listings';
  if (method === 'GET' && /\/src\/[0-9a-f]{40}\/./.test(p)) return 'file reads';
  return 'other';
}

/** Calls of each kind per repository, and how many of them were answered 429 (each made again after its Retry-After). */
function callBreakdown(calls: readonly { method: string; path: string }[], throttled: readonly { method: string; url: string }[], repositories: number, killIndex: number): string[] {
  const count = new Map<CallKind, number>(CALL_KINDS.map((k) => [k, 0]));
  const refused = new Map<CallKind, number>(CALL_KINDS.map((k) => [k, 0]));
  for (const c of calls) count.set(callKind(c.method, c.path), count.get(callKind(c.method, c.path))! + 1);
  for (const t of throttled) refused.set(callKind(t.method, t.url), refused.get(callKind(t.method, t.url))! + 1);
  const lines = CALL_KINDS.filter((k) => count.get(k)! > 0).map((k) => `    ${k}: ${(count.get(k)! / repositories).toFixed(1)} per repository (${count.get(k)} calls, ${refused.get(k)} of them answered 429 and made again)`);
  // A file read more than once and not because of a 429: its repository's scan was started
  // again, because it was in flight at the kill (first read before it, again after), or because
  // an attempt of its job failed (both reads on the same side of the kill).
  const firstRead = new Map<string, number>();
  let afterKill = 0;
  let sameSide = 0;
  calls.forEach((c, index) => {
    if (callKind(c.method, c.path) !== 'file reads') return;
    const first = firstRead.get(c.path);
    if (first === undefined) firstRead.set(c.path, index);
    else if (first < killIndex && index >= killIndex) afterKill++;
    else sameSide++;
  });
  lines.push(`    of the file reads, read again: ${afterKill} of repositories in flight at the kill, ${Math.max(0, sameSide - refused.get('file reads')!)} after a failed attempt of a repository's job`);
  return lines;
}

/**
 * What the security lead exports at the end: the inventory as JSON Lines, read line by line.
 * Counts the entities by type, and the repositories that appear with their findings and components.
 */
async function exportInventory(baseUrl: string, tenant: { clientKey: string; sharedSecret: string }): Promise<{ seconds: number; bytes: number; byType: Map<string, number>; repositories: Set<string>; withFindings: Set<string>; withComponents: Set<string> }> {
  const started = Date.now();
  const pathAndQuery = '/api/inventory/export?format=jsonl';
  const now = Math.floor(Date.now() / 1000);
  const url = new URL(pathAndQuery, baseUrl);
  const qsh = createQueryStringHash(fromMethodAndUrl('GET', url.pathname + url.search), false, baseUrl);
  const jwt = encodeSymmetric({ iss: tenant.clientKey, sub: 'bench-admin', iat: now, exp: now + 600, qsh }, tenant.sharedSecret, SymmetricAlgorithm.HS256);
  const response = await fetch(url, { headers: { Authorization: `JWT ${jwt}` } });
  if (!response.ok) throw new Error(`inventory export answered ${response.status}: ${await response.text()}`);
  const text = await response.text();
  const byType = new Map<string, number>();
  const repositories = new Set<string>();
  const withFindings = new Set<string>();
  const withComponents = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const entity = JSON.parse(line) as { type: string; fullName?: string; repositoryFullName?: string; repositories?: string[] };
    byType.set(entity.type, (byType.get(entity.type) ?? 0) + 1);
    if (entity.type === 'repository') repositories.add(entity.fullName!);
    if (entity.type === 'finding') withFindings.add(entity.repositoryFullName!);
    if (entity.type === 'component') for (const r of entity.repositories ?? []) withComponents.add(r);
  }
  return { seconds: (Date.now() - started) / 1000, bytes: Buffer.byteLength(text), byType, repositories, withFindings, withComponents };
}

/** Peak resident set of a live process, in MB (Linux VmHWM). */
function peakRssMb(proc: ChildProcess): number {
  const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main(): Promise<void> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-coverage-'));
  const sim = await startSimulator({ appBaseUrl: baseUrl, retryDelayMs: 0 });
  let server: ChildProcess | null = null;
  try {
    const started = Date.now();
    const workspace = await generateWorkspace(sim, { workspace: 'acme', repositories: REPOS, lockfileRepositories: LOCKFILES, lockfilePackages: PACKAGES, sourceRoot: path.join(ROOT, 'node_modules') });
    console.log(`workspace: ${REPOS} repositories (${LOCKFILES} with ${PACKAGES}-package lockfiles), ${workspace.files} files, ${(workspace.bytes / 1e6).toFixed(1)} MB, generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    server = await startServer(sim, port, dataDir);
    await sim.install();
    const tenant = sim.installation()!;
    sim.faults.add({ pathPattern: '/2.0/', count: 1e9, kind: '429-retry-after', retryAfterSeconds: 1, share: 0.05 });
    const callsBefore = sim.site.apiCalls.length;
    const throttledBefore = sim.site.faults.triggered.length;
    const coverage = async () => (await signedCall(baseUrl, tenant, 'GET', '/api/coverage')).body as Coverage;

    const t0 = Date.now();
    await signedCall(baseUrl, tenant, 'POST', '/api/coverage', { body: { action: 'discover' } });
    let peak = 0;
    let killedAt: number | null = null;
    let killIndex = Infinity;
    let restartMs = 0;
    let state: Coverage | null = null;
    for (;;) {
      await sleep(1000);
      state = await coverage().catch(() => null);
      if (!state) continue;
      const { total, done } = state.repositories;
      if (killedAt === null && total >= REPOS && done >= total / 2) {
        peak = Math.max(peak, peakRssMb(server));
        const exited = new Promise((resolve) => server!.once('exit', resolve));
        server.kill('SIGKILL');
        await exited;
        killIndex = sim.site.apiCalls.length;
        killedAt = done;
        const restart = Date.now();
        server = await startServer(sim, port, dataDir);
        restartMs = Date.now() - restart;
        console.log(`killed with SIGKILL at ${done}/${total} repositories; restarted in ${(restartMs / 1000).toFixed(1)} s`);
        continue;
      }
      if (state.state === 'done' && total >= REPOS) break;
      if (Date.now() - t0 > 6 * 3600_000) throw new Error('the backfill did not finish within 6 hours');
    }
    peak = Math.max(peak, peakRssMb(server));
    const seconds = (Date.now() - t0) / 1000;
    const calls = sim.site.apiCalls.length - callsBefore;

    // Finished before the kill: its branch report was published before it. Scanned again after
    // the restart: one of its files was read again after it.
    const repoOf = (p: string) => /^\/2\.0\/repositories\/([^/]+\/[^/]+)\//.exec(p)?.[1] ?? '';
    const isReport = (c: { method: string; path: string }) => c.method === 'PUT' && c.path.endsWith(`/reports/${BRANCH_REPORT}`);
    const isFileRead = (c: { method: string; path: string }) => c.method === 'GET' && /\/src\/[0-9a-f]{40}\/.*[^/]$/.test(c.path);
    const finishedBeforeKill = new Set(sim.site.apiCalls.slice(0, killIndex).filter(isReport).map((c) => repoOf(c.path)));
    const readAfterKill = new Set(sim.site.apiCalls.slice(killIndex).filter(isFileRead).map((c) => repoOf(c.path)));
    const twice = [...finishedBeforeKill].filter((r) => readAfterKill.has(r)).length;
    const inFlight = [...readAfterKill].filter((r) => !finishedBeforeKill.has(r) && sim.site.apiCalls.slice(0, killIndex).some((c) => isFileRead(c) && repoOf(c.path) === r)).length;
    const r = state!.repositories;
    console.log(`backfill: ${r.total} repositories (${r.scanned} scanned, ${r.skipped} skipped, ${r.failed} failed) in ${seconds.toFixed(0)} s, restart included`);
    console.log(`  ${(r.total / (seconds / 60)).toFixed(1)} repositories/minute; ${(state!.bytes / 1e6 / seconds).toFixed(2)} MB scanned/s (${(state!.bytes / 1e6).toFixed(1)} MB, ${state!.files} files, ${state!.findings} findings)`);
    const throttled = sim.site.faults.triggered.slice(throttledBefore);
    console.log(`  ${(calls / r.total).toFixed(1)} API calls per repository (${calls} calls, ${throttled.length} answered 429); ${(workspace.files / REPOS).toFixed(1)} files per repository on average:`);
    for (const line of callBreakdown(sim.site.apiCalls.slice(callsBefore), throttled, r.total, killIndex - callsBefore)) console.log(line);
    console.log(`  peak RSS ${peak.toFixed(0)} MB (largest VmHWM of the two server processes)`);
    console.log(`  resume after SIGKILL at ${killedAt}/${r.total}: finished repositories scanned again: ${twice} (target 0); repositories in flight at the kill, read again: ${inFlight}`);
    for (const e of state!.errors.slice(0, 5)) console.log(`  failed: ${e.repository}: ${e.reason}`);
    const inventory = await exportInventory(baseUrl, tenant);
    const missing = workspace.repositories.filter((name) => !inventory.repositories.has(name));
    console.log(
      `  inventory export (JSON Lines): ${(inventory.bytes / 1e6).toFixed(1)} MB in ${inventory.seconds.toFixed(1)} s; ${[...inventory.byType].map(([t, n]) => `${n} ${t}`).join(', ')}; ` +
        `${inventory.repositories.size} of ${REPOS} repositories listed${missing.length ? ` (missing: ${missing.slice(0, 5).join(', ')})` : ''}, ${inventory.withFindings.size} with findings, ${inventory.withComponents.size} with components`,
    );
    console.log(`  load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).cpus().length} cores`);
  } finally {
    if (server && server.exitCode === null) server.kill('SIGTERM');
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
