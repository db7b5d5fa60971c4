// Store benchmark: does acknowledging a webhook stay as fast at 100,000 stored deliveries as
// on an empty store? Measures acceptDelivery latency (one awaited call at a time, so each
// includes its own fsync) at 0, 10k, 50k and 100k stored deliveries, then open() at 100k.
//
// fsync latency on a shared disk drifts by several times from one minute to the next, which
// would swamp any effect of store size. So each sample on the growing store is paired with
// one on a reference store that stays nearly empty, alternating, and the table shows both:
// only a gap between the two columns can be blamed on size.
// Run: node --import tsx bench/store.bench.ts   (writes ~600 MB to a temp dir, removed after)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import type { NewJob } from '../src/store/types.ts';
import { percentile } from './percentile.ts';

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

interface Figures {
  p50: number;
  p99: number;
}

async function timeOne(store: LowdbStore, into: number[]): Promise<void> {
  const start = performance.now();
  await accept(store);
  into.push(performance.now() - start);
}

/** Alternates single accepts between the two stores (order swapped every other round). */
async function measurePaired(store: LowdbStore, reference: LowdbStore): Promise<[Figures, Figures]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i % 2 === 0) {
      await timeOne(store, a);
      await timeOne(reference, b);
    } else {
      await timeOne(reference, b);
      await timeOne(store, a);
    }
  }
  const figures = (times: number[]): Figures => {
    times.sort((x, y) => x - y);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  };
  return [figures(a), figures(b)];
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
    // Warm the JIT on throwaway stores so that the "0" row measures an empty store, not a cold VM.
    const warmDirs = [path.join(dataDir, 'warm-a'), path.join(dataDir, 'warm-b')];
    const [warmA, warmB] = warmDirs.map((dir) => new LowdbStore({ dataDir: dir })) as [LowdbStore, LowdbStore];
    await warmA.open();
    await warmB.open();
    await measurePaired(warmA, warmB);
    await warmA.close();
    await warmB.close();
    for (const dir of warmDirs) await rm(dir, { recursive: true });

    const store = new LowdbStore({ dataDir: path.join(dataDir, 'main') });
    const reference = new LowdbStore({ dataDir: path.join(dataDir, 'reference') });
    await store.open();
    await reference.open();
    console.log(`acceptDelivery latency in ms, ${SAMPLES} sequential calls per row (each waits for its own fsync), ~6 KB payload;`);
    console.log(`"reference" is a store that never holds more than ${LEVELS.length * SAMPLES} deliveries, sampled alternately`);
    console.log('  stored       p50       p99   ref p50   ref p99   p50 vs ref   p99 vs ref');
    const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`.padStart(10);
    for (const level of LEVELS) {
      await fillTo(store, level);
      const [main, ref] = await measurePaired(store, reference);
      console.log(`${String(level).padStart(8)}  ${ms(main.p50)}  ${ms(main.p99)}  ${ms(ref.p50)}  ${ms(ref.p99)}  ${pct(main.p50, ref.p50)}  ${pct(main.p99, ref.p99)}`);
    }
    const stored = await store.countDeliveries();
    await store.close();
    await reference.close();

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
