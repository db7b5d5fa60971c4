// Pull-request panel render benchmark: the server-side cost of one panel load when the
// pull request's scan holds 1,000 findings (new and existing, secrets and packages) and the
// repository has 100 triage marks. Each sample is a real iframe load over loopback HTTP:
// Bitbucket's JWT verified with its qsh, installation read, page session minted, results read
// from the journal store, view model built, eta template rendered. Permission checks answer
// from memory (in production they are cached Bitbucket calls, not rendering).
// Target: p95 < 50 ms. Run: node --import tsx bench/panel-render.bench.ts
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createQueryStringHash, encodeSymmetric, fromMethodAndUrl } from 'atlassian-jwt';
import express from 'express';
import { encryptSecret } from '../src/crypto.ts';
import { createLogger } from '../src/log.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { storeDataSource } from '../src/ui/data-source.ts';
import { addUiRoutes, UI_PATHS } from '../src/ui/routes.ts';
import { manyFindings, scanOf } from '../test/helpers/ui-fixtures.ts';
import { percentile } from './percentile.ts';

const FINDINGS = 1_000;
const MARKS = 100;
const WARMUP = 100;
const SAMPLES = 1_000;
const TARGET_P95_MS = 50;

const BASE_URL = 'http://127.0.0.1:1';
const BITBUCKET = 'http://127.0.0.1:2';
const CLIENT_KEY = 'ari:cloud:bitbucket::app/{00000000-0000-4000-8000-000000000001}/gatehouse';
const SECRET = randomBytes(32).toString('base64url');
const REPO = '{00000000-0000-4000-8000-0000000000aa}';
const COMMIT = 'a1'.repeat(20);

const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-panel-bench-'));
const store = new LowdbStore({ dataDir: dir });
const results = new JournalResultsStore({ dataDir: dir });
await store.open();
await results.open();
try {
  const encryptionKey = randomBytes(32);
  const at = new Date().toISOString();
  await store.putInstallation({
    clientKey: CLIENT_KEY,
    key: 'gatehouse',
    baseUrl: BITBUCKET,
    baseApiUrl: BITBUCKET,
    encryptedSharedSecret: encryptSecret(encryptionKey, SECRET),
    state: 'installed',
    principal: { type: 'workspace', slug: 'acme', display_name: 'Acme' },
    installedAt: at,
    updatedAt: at,
  });
  const findings = manyFindings(FINDINGS);
  await results.putScan(scanOf(findings, { clientKey: CLIENT_KEY, repoUuid: REPO, commit: COMMIT, kind: 'pull_request', prId: 1 }));
  for (const f of findings.slice(0, MARKS)) {
    await results.putTriage({ clientKey: CLIENT_KEY, repoUuid: REPO, fingerprint: f.fingerprint, status: 'ignored', by: '{u}', at, reason: 'accepted' });
  }

  const app = express();
  // As createApp sets them.
  app.set('query parser', 'simple');
  app.set('etag', false);
  const router = express.Router();
  addUiRoutes(router, {
    config: { baseUrl: BASE_URL, encryptionKey, bitbucketBaseUrls: [BITBUCKET] },
    store,
    data: storeDataSource(results, store),
    permissions: { isWorkspaceAdmin: async () => true, canTriage: async () => true },
    repositories: { mainBranch: async () => 'main', fullName: async () => null },
    people: { displayName: async () => 'Dev Eloper' },
    now: () => new Date(),
    logger: createLogger('silent'),
  });
  app.use(router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const query = new URLSearchParams({ repoUuid: REPO, repoFullName: 'acme/web', prId: '1', commit: COMMIT.slice(0, 12), sourceBranch: 'feature', destinationBranch: 'main' });
  const pathAndQuery = `${UI_PATHS.pullRequestPanel}?${query}`;
  const iat = Math.floor(Date.now() / 1000);
  const qsh = createQueryStringHash(fromMethodAndUrl('GET', pathAndQuery), false, BASE_URL);
  const jwt = encodeSymmetric({ iss: CLIENT_KEY, sub: '{00000000-0000-4000-8000-0000000000bb}', iat, exp: iat + 600, qsh }, SECRET);
  const url = `${origin}${pathAndQuery}&jwt=${jwt}`;

  let bytes = 0;
  const load = async (): Promise<number> => {
    const started = performance.now();
    const res = await fetch(url);
    const html = await res.text();
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`panel answered ${res.status}: ${html.slice(0, 200)}`);
    bytes = Buffer.byteLength(html);
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await load();
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) times.push(await load());
  times.sort((a, b) => a - b);
  server.close();

  const p95 = percentile(times, 95);
  console.log(`PR panel, ${FINDINGS} findings (${findings.filter((f) => f.isNew).length} new), ${MARKS} triage marks, ${SAMPLES} sequential loads after ${WARMUP} warm-up`);
  console.log(`page size          ${(bytes / 1024).toFixed(0)} KiB`);
  console.log(`p50                ${percentile(times, 50).toFixed(1)} ms`);
  console.log(`p95                ${p95.toFixed(1)} ms   (target < ${TARGET_P95_MS} ms: ${p95 < TARGET_P95_MS ? 'met' : 'NOT met'})`);
  console.log(`p99                ${percentile(times, 99).toFixed(1)} ms`);
  console.log(`max                ${times.at(-1)!.toFixed(1)} ms`);
} finally {
  await results.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
