// Does the embedded store's footprint follow its retention window or its history? For each
// size in BENCH_FOOTPRINT (default 100,000 and 1,000,000 processed deliveries), builds a
// DATA_DIR with bench/history-builder.ts (or takes the directories named in
// BENCH_FOOTPRINT_DIRS, one per size, built earlier), then opens both stores in a fresh
// process, as the server does at start-up, and reports:
//   - open time (wall and CPU) and RSS, V8 heap used and peak RSS once maintenance settled;
//   - how many entries each in-memory structure holds (LowdbStore/JournalResultsStore
//     footprint()), so a structure that grows with the history shows by name;
//   - DATA_DIR size by kind of file (journal segments and their indexes, results, the rest).
//
//   npm run bench -- store-footprint
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { JournalResultsStore } from '../src/store/results-store.ts';
import { buildHistory } from './history-builder.ts';

const SELF = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_FOOTPRINT ?? '100000,1000000').split(',').map(Number);
const DIRS = process.env.BENCH_FOOTPRINT_DIRS?.split(',');
const CLIENT_KEY = 'ari:cloud:bitbucket::app/{5f0c6a1e-8a34-4d0e-9a3b-2b6e0f1c7d42}/gatehouse';
const MB = 1024 * 1024;

/** Bytes per kind of file: `journal/.jsonl`, `journal/.idx`, `results/.jsonl`, ... */
function sizesByKind(dir: string, under = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const rel = path.join(under, entry.name);
    if (entry.isDirectory()) {
      for (const [kind, bytes] of Object.entries(sizesByKind(dir, rel))) out[kind] = (out[kind] ?? 0) + bytes;
      continue;
    }
    const kind = under === '' ? 'other' : `${under}/${path.extname(entry.name)}`;
    out[kind] = (out[kind] ?? 0) + statSync(path.join(dir, rel)).size;
  }
  return out;
}

/** In the child: open both stores as the server does, let maintenance finish, measure. */
async function measureOpen(dataDir: string): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const store = new LowdbStore({ dataDir });
  const results = new JournalResultsStore({ dataDir });
  await store.open();
  await results.open();
  const openMs = performance.now() - started;
  const openCpuMs = process.cpuUsage(cpu);
  // Maintenance (sweep, segment deletion) starts at open: wait until the directory stops changing.
  for (let last = '', same = 0; same < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = JSON.stringify(sizesByKind(dataDir));
    same = now === last ? same + 1 : 0;
    last = now;
  }
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const figures = {
    openSeconds: openMs / 1000,
    openCpuSeconds: (openCpuMs.user + openCpuMs.system) / 1e6,
    rssMB: memory.rss / MB,
    heapUsedMB: memory.heapUsed / MB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    deliveriesLive: await store.countDeliveries(),
    jobs: store.footprint(),
    results: results.footprint(),
  };
  await results.close();
  await store.close();
  process.stdout.write(JSON.stringify(figures) + '\n');
}

async function main(): Promise<void> {
  for (const [i, size] of SIZES.entries()) {
    const given = DIRS?.[i];
    const dataDir = given ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-footprint-'));
    try {
      if (!given) {
        const started = performance.now();
        await buildHistory({ dataDir, deliveries: size, clientKey: CLIENT_KEY, sharedSecret: randomBytes(32).toString('base64url'), encryptionKey: randomBytes(32), apiOrigin: 'http://127.0.0.1:9' });
        console.log(`${size.toLocaleString('en')} deliveries: built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', SELF, 'open', dataDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.status !== 0) throw new Error(`opening ${dataDir} exited with ${child.status ?? child.signal}`);
      const f = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      const disk = Object.entries(sizesByKind(dataDir)).map(([kind, bytes]) => `${kind} ${(bytes / MB).toFixed(1)}`).join(', ');
      const total = Object.values(sizesByKind(dataDir)).reduce((a, b) => a + b, 0) / MB;
      console.log(`${size.toLocaleString('en')} deliveries: ${JSON.stringify(f)}`);
      console.log(`  DATA_DIR ${total.toFixed(1)} MB (${disk})`);
    } finally {
      if (!given) rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

if (process.argv[2] === 'open') await measureOpen(process.argv[3]!);
else await main();
