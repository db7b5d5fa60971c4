// Store benchmark: does acknowledging a webhook stay as fast at 100,000 stored deliveries as
// on an empty store? Measures acceptDelivery latency (one awaited call at a time, so each
// includes its own fsync) at 0, 10k, 50k and 100k stored deliveries, then open() at 100k.
// Run: node --import tsx bench/store.bench.ts   (writes ~600 MB to a temp dir, removed after)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import type { NewJob } from '../src/store/types.ts';

const LEVELS = [0, 10_000, 50_000, 100_000];
const SAMPLES = 1_000;
const FILL_CONCURRENCY = 500;

/** Shaped like a Bitbucket pullrequest:created body, about 6 KB of JSON. */
function payload(n: number): unknown {
  const uuid = `{${String(n).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd}`;
  const link = (p: string) => ({ href: `https://api.bitbucket.org/2.0/repositories/acme/widgets/${p}` });
  return {
    repository: { type: 'repository', full_name: 'acme/widgets', name: 'widgets', uuid, links: { self: link(''), html: link('html'), avatar: link('avatar') } },
    actor: { type: 'user', display_name: 'Dev Eloper', uuid, account_id: '557058:0000', links: { self: link('user'), avatar: link('u/avatar') } },
    pullrequest: {
      id: n,
      title: `Change ${n}`,
      description: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(80),
      state: 'OPEN',
      source: { branch: { name: `feature/${n}` }, commit: { hash: 'a'.repeat(40) }, repository: { full_name: 'acme/widgets', uuid } },
      destination: { branch: { name: 'main' }, commit: { hash: 'b'.repeat(40) }, repository: { full_name: 'acme/widgets', uuid } },
      links: Object.fromEntries(['self', 'html', 'commits', 'approve', 'diff', 'diffstat', 'comments', 'activity', 'merge', 'decline', 'statuses'].map((k) => [k, link(`pullrequests/${n}/${k}`)])),
      reviewers: [],
      participants: [],
      created_on: '2026-01-01T00:00:00.000000+00:00',
      updated_on: '2026-01-01T00:00:00.000000+00:00',
    },
  };
}

const CLIENT = 'ari:cloud:bitbucket::app/{11111111-2222-3333-4444-555555555555}/gatehouse';
const job = (n: number): NewJob => ({ clientKey: CLIENT, type: 'webhook:pullrequest:created', payload: payload(n), group: `pr:${n}` });
let nextId = 0;
const accept = (store: LowdbStore) => {
  const n = nextId++;
  return store.acceptDelivery({ id: `bench-${n}`, clientKey: CLIENT, event: 'pullrequest:created' }, job(n));
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(store: LowdbStore): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    await accept(store);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function fillTo(store: LowdbStore, target: number): Promise<void> {
  let count = await store.countDeliveries();
  while (count < target) {
    const batch = Math.min(FILL_CONCURRENCY, target - count);
    await Promise.all(Array.from({ length: batch }, () => accept(store)));
    count += batch;
  }
}

const ms = (v: number) => v.toFixed(2).padStart(8);

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-store-bench-'));
  try {
    // Warm the JIT on a throwaway store so that the "0" row measures an empty store, not a cold VM.
    const warmDir = path.join(dataDir, 'warmup');
    const warm = new LowdbStore({ dataDir: warmDir });
    await warm.open();
    await measure(warm);
    await warm.close();
    await rm(warmDir, { recursive: true });

    const store = new LowdbStore({ dataDir: path.join(dataDir, 'main') });
    await store.open();
    console.log(`acceptDelivery latency, ${SAMPLES} sequential calls per row (each waits for its own fsync), ~6 KB payload`);
    console.log('  stored    p50 ms    p99 ms');
    const rows: { level: number; p50: number; p99: number }[] = [];
    for (const level of LEVELS) {
      await fillTo(store, level);
      const { p50, p99 } = await measure(store);
      rows.push({ level, p50, p99 });
      console.log(`${String(level).padStart(8)}  ${ms(p50)}  ${ms(p99)}`);
    }
    const first = rows[0]!;
    const last = rows.at(-1)!;
    console.log(`p50 at ${last.level} vs empty: ${((last.p50 / first.p50 - 1) * 100).toFixed(1)}%; p99: ${((last.p99 / first.p99 - 1) * 100).toFixed(1)}%`);
    const stored = await store.countDeliveries();
    await store.close();

    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const reopened = new LowdbStore({ dataDir: path.join(dataDir, 'main') });
    const start = performance.now();
    await reopened.open();
    const openMs = performance.now() - start;
    globalThis.gc?.();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    console.log(`open() with ${stored} deliveries and jobs: ${openMs.toFixed(0)} ms; index heap ≈ ${heapMb.toFixed(0)} MB${globalThis.gc ? '' : ' (run with --expose-gc for an exact figure)'}`);
    await reopened.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
