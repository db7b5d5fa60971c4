// Inventory and advisory-monitoring benchmark (issue #15, "Measured"):
// 1. Re-evaluation of 1,000 stored default-branch inventories (150 npm packages each) after an
//    OSV delta of 100 changed advisories (50 new, 5 of them HIGH; 50 re-rated): time for the
//    refresh's package diff plus the re-evaluation (target < 10 s), how many inventories were
//    touched, how many verdicts changed (each one queued job), and Bitbucket calls made by the
//    re-evaluation itself (the code that runs has no code-host client: calls happen only in
//    the queued jobs, one per changed verdict, so unchanged verdicts cost 0).
// 2. Export of 100,000 findings (1,000 repositories x 100) as JSON Lines through the real
//    GET /api/inventory/export route with an API token, read by a client as fast as it can:
//    rows/s and RSS sampled every 10,000 rows (flat = constant memory), peak RSS.
// Run: node --import tsx --expose-gc bench/inventory.bench.ts   (temp dirs, removed after)
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express, { type RequestHandler } from 'express';
import { apiRouter } from '../src/connect/api-routes.ts';
import { advisoryDelta } from '../src/core/monitoring/delta.ts';
import { reevaluateInventories } from '../src/core/monitoring/reevaluate.ts';
import { createLogger } from '../src/log.ts';
import { openVulnIndex } from '../src/scan/deps/index.ts';
import type { PackageRef } from '../src/scan/types.ts';
import { createOsvMirror } from '../src/simulator/osv-mirror.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import type { StoredFinding } from '../src/store/results-types.ts';
import { newApiToken } from '../src/ui/api-auth.ts';
import { updateVulnDb } from '../src/vulndb/update.ts';

const REPOS = 1_000;
const PACKAGES_PER_REPO = 150;
const PACKAGE_POOL = 3_000;
const BASE_ADVISORIES = 2_000;
const FINDINGS_PER_REPO = 100;
const CLIENT = 'ari:cloud:bitbucket::app/{11111111-2222-3333-4444-555555555555}/gatehouse';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function advisory(i: number, severity: 'LOW' | 'MODERATE' | 'HIGH', modified: string) {
  return {
    id: `GHSA-bench-${String(i).padStart(5, '0')}`,
    modified,
    summary: `synthetic advisory ${i}`,
    affected: [{ package: { ecosystem: 'npm', name: `pkg-${i}` }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] }],
    database_specific: { severity },
  };
}

function serve(handler: RequestHandler): Promise<{ server: Server; url: string }> {
  const app = express();
  app.use(handler);
  const server = createServer(app).listen(0, '127.0.0.1');
  return new Promise((resolve) => server.once('listening', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

async function reevaluationBench(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-monitor-'));
  const before = Array.from({ length: BASE_ADVISORIES }, (_, i) => advisory(i, 'LOW', '2026-01-01T00:00:00Z'));
  // The delta: 50 existing advisories re-rated, 50 new ones for packages that had none, 5 of them HIGH (above the threshold).
  const after = [
    ...before.map((a, i) => (i < 50 ? { ...a, database_specific: { severity: 'MODERATE' as const }, modified: '2026-06-01T00:00:00Z' } : a)),
    ...Array.from({ length: 50 }, (_, k) => advisory(BASE_ADVISORIES + k, k < 5 ? 'HIGH' : 'LOW', '2026-06-01T00:00:00Z')),
  ];
  let mirror = createOsvMirror(before);
  const { server, url } = await serve((req, res, next) => mirror(req, res, next));
  const results = new JournalResultsStore({ dataDir: dir });
  await results.open();
  try {
    await updateVulnDb({ mirrorUrl: url, dataDir: dir, ecosystems: ['npm'] });
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const fill = performance.now();
    for (let r = 0; r < REPOS; r++) {
      const uuid = `{${String(r).padStart(8, '0')}-0000-0000-0000-000000000000}`;
      const names = new Set<number>();
      while (names.size < PACKAGES_PER_REPO) names.add(Math.floor(random() * PACKAGE_POOL));
      const packages: PackageRef[] = [...names].map((n, line) => ({ ecosystem: 'npm', name: `pkg-${n}`, version: '1.0.0', path: 'package-lock.json', line: line + 1 }));
      await results.putRepository({ clientKey: CLIENT, uuid, fullName: `acme/repo-${r}`, name: `repo-${r}`, project: null, isPrivate: true, mainBranch: 'main', sizeBytes: 1, language: null, updatedOn: null, discoveredAt: '2026-01-01T00:00:00Z', deletedAt: null });
      await results.putInventory({ clientKey: CLIENT, repoUuid: uuid, repoFullName: `acme/repo-${r}`, branch: 'main', environment: 'production', commit: 'c'.repeat(40), files: {}, packages, sbom: '{}', updatedAt: '2026-01-01T00:00:00Z' });
    }
    console.log(`stored ${REPOS} inventories x ${PACKAGES_PER_REPO} packages in ${((performance.now() - fill) / 1000).toFixed(1)} s; ${BASE_ADVISORIES} advisories in the database`);

    mirror = createOsvMirror(after);
    const refreshStart = performance.now();
    const update = await updateVulnDb({ mirrorUrl: url, dataDir: dir, ecosystems: ['npm'] });
    const refreshMs = performance.now() - refreshStart;
    let jobs = 0;
    const store = {
      listInstallations: async () => [{ clientKey: CLIENT, key: 'gatehouse', baseUrl: 'https://bitbucket.org', baseApiUrl: 'https://api.bitbucket.org', encryptedSharedSecret: null, state: 'installed' as const, installedAt: '', updatedAt: '' }],
      acceptDelivery: async () => ({ duplicate: false, jobId: String(++jobs) }),
    };
    const start = performance.now();
    const index = openVulnIndex(dir)!;
    const delta = await advisoryDelta(dir, update, index);
    const diffMs = performance.now() - start;
    const summary = await reevaluateInventories({ store, results, vulnIndex: index, now: () => new Date(), logger: createLogger('silent') }, delta);
    const totalMs = performance.now() - start;
    const e = update.ecosystems[0]!;
    console.log(`OSV delta: ${e.added} added, ${e.updated} updated, ${e.withdrawn} withdrawn (${delta.packages} packages changed); delta download and apply ${(refreshMs / 1000).toFixed(2)} s`);
    console.log(`re-evaluation: ${summary.inventories} inventories, ${summary.touched} touched, ${summary.appeared} findings appeared, ${summary.verdictChanges} verdicts changed -> ${jobs} jobs queued`);
    console.log(`time: package diff ${diffMs.toFixed(0)} ms + re-evaluation ${(totalMs - diffMs).toFixed(0)} ms = ${(totalMs / 1000).toFixed(2)} s (target < 10 s)`);
    console.log(`Bitbucket calls during re-evaluation: 0 (no code-host client in this path); unchanged verdicts: ${summary.touched - summary.verdictChanges} touched + ${summary.inventories - summary.touched} untouched, no job, no call`);
  } finally {
    await results.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function exportBench(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-bench-export-'));
  const store = new LowdbStore({ dataDir: dir });
  await store.open();
  const results = new JournalResultsStore({ dataDir: dir });
  await results.open();
  let server: Server | undefined;
  try {
    const now = new Date().toISOString();
    await store.putInstallation({ clientKey: CLIENT, key: 'gatehouse', baseUrl: 'https://bitbucket.org', baseApiUrl: 'https://api.bitbucket.org', encryptedSharedSecret: null, state: 'installed', principal: { slug: 'acme' }, installedAt: now, updatedAt: now });
    const { token, hash } = newApiToken();
    await results.putApiToken({ id: randomUUID(), clientKey: CLIENT, name: 'bench', hash, createdBy: null, createdAt: now, lastUsedAt: null });
    const fill = performance.now();
    for (let r = 0; r < REPOS; r++) {
      const uuid = `{${String(r).padStart(8, '0')}-0000-0000-0000-000000000000}`;
      const commit = r.toString(16).padStart(40, '0');
      const findings: StoredFinding[] = Array.from({ length: FINDINGS_PER_REPO }, (_, f) => ({
        kind: 'dependency', ruleId: `GHSA-bench-${f}`, severity: 'high', path: `services/s${f % 7}/package-lock.json`, line: f + 1,
        fingerprint: `${String(r).padStart(4, '0')}${String(f).padStart(4, '0')}`.padEnd(64, 'f'), message: `pkg-${f} 1.0.0 is affected by GHSA-bench-${f}: synthetic; upgrade to 2.0.0 or later.`,
        ecosystem: 'npm', package: `pkg-${f}`, version: '1.0.0', advisory: `GHSA-bench-${f}`, aliases: [], summary: 'synthetic', fixedVersion: '2.0.0', isNew: true,
      }));
      await results.putRepository({ clientKey: CLIENT, uuid, fullName: `acme/repo-${r}`, name: `repo-${r}`, project: { key: `P${r % 20}`, name: `Project ${r % 20}` }, isPrivate: true, mainBranch: 'main', sizeBytes: 1, language: null, updatedOn: null, discoveredAt: now, deletedAt: null });
      await results.putRepositoryCoverage({ clientKey: CLIENT, repoUuid: uuid, runId: 'bench', status: 'scanned', commit, files: 1, bytes: 1, findings: FINDINGS_PER_REPO, skippedFiles: [], reason: null, updatedAt: now });
      await results.putScan({ clientKey: CLIENT, repoUuid: uuid, commit, kind: 'branch', prId: null, result: 'FAILED', counts: { critical: 0, high: FINDINGS_PER_REPO, medium: 0, low: 0, new: FINDINGS_PER_REPO, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: now, findings });
    }
    console.log(`stored ${REPOS * FINDINGS_PER_REPO} findings in ${REPOS} repositories in ${((performance.now() - fill) / 1000).toFixed(1)} s`);
    const app = express();
    app.use(apiRouter({ config: { baseUrl: 'http://127.0.0.1', encryptionKey: Buffer.alloc(32, 7) }, store, results, now: () => new Date(), permissions: { isWorkspaceAdmin: async () => false } as never }));
    server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inventory/export?format=jsonl&type=finding`;

    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const samples: string[] = [];
    const start = performance.now();
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`export answered ${response.status}: ${await response.text()}`);
    let lines = 0;
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) {
        if (byte !== 10) continue;
        lines++;
        if (lines % 10_000 === 0) samples.push(`${lines / 1000}k: ${mb(process.memoryUsage().rss)}`);
      }
    }
    const ms = performance.now() - start;
    clearInterval(sampler);
    console.log(`exported ${lines} findings (${mb(bytes)} of JSON Lines) in ${(ms / 1000).toFixed(1)} s, ${Math.round(lines / (ms / 1000))} rows/s`);
    console.log(`RSS before ${mb(baseline)}, peak during ${mb(peak)}; by rows read: ${samples.join(', ')}`);
  } finally {
    server?.closeAllConnections();
    server?.close();
    await results.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log('--- re-evaluation of stored inventories after an OSV delta ---');
await reevaluationBench();
console.log('--- export of 100,000 findings as JSON Lines ---');
await exportBench();
