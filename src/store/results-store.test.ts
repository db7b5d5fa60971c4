import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it, vi } from 'vitest';
import { segmentRecords } from '../../test/helpers/journal-files.ts';
import { DAY_MS } from './job-index.ts';
import { coverageStoreContract } from './coverage-contract.ts';
import { resultsStoreContract, type ResultsStoreFactory } from './results-contract.ts';
import { resultsRetentionContract } from './results-retention-contract.ts';
import { JournalResultsStore, type JournalResultsStoreOptions } from './results-store.ts';
import type { ScanRecord } from './results-types.ts';

const journalStore: ResultsStoreFactory = async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-contract-'));
  let current = new JournalResultsStore({ dataDir });
  await current.open();
  return {
    store: current,
    reopen: async () => {
      current = new JournalResultsStore({ dataDir });
      await current.open();
      return current;
    },
    cleanup: async () => {
      await current.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};
resultsStoreContract('JournalResultsStore', journalStore);
coverageStoreContract('JournalResultsStore', journalStore);

resultsRetentionContract('JournalResultsStore', async ({ now, supersededScanMs }) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-retention-'));
  // Small segments, so that letting scans go also deletes and carries segments.
  const options = { dataDir, now, supersededScanMs, maxSegmentBytes: 2048 };
  let current = new JournalResultsStore(options);
  await current.open();
  return {
    store: current,
    reopen: async () => {
      current = new JournalResultsStore(options);
      await current.open();
      return current;
    },
    cleanup: async () => {
      await current.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const scanOf = (commit: string, extra: Partial<ScanRecord> = {}): ScanRecord => ({
  clientKey: 'c', repoUuid: '{r}', commit, kind: 'push', prId: null, result: 'PASSED',
  counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: '2026-01-01T00:00:00.000Z', findings: [],
  ...extra,
});

async function openResults(options: JournalResultsStoreOptions): Promise<JournalResultsStore> {
  const store = new JournalResultsStore(options);
  await store.open();
  return store;
}

it('JournalResultsStore: disk follows what is current, not every scan ever made (segments deleted, survivors carried)', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-disk-'));
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const options = { dataDir, now: () => new Date(now), supersededScanMs: 7 * DAY_MS, maxSegmentBytes: 4096 };
  let store = await openResults(options);
  const finding = { kind: 'secret', ruleId: 'r', severity: 'high', path: 'a', line: 1, fingerprint: 'f', message: 'm', description: 'd', preview: 'p', isNew: true } as ScanRecord['findings'][number];
  const files: Record<number, number> = {};
  // 20 pull requests rescanned twice a day for 60 days; one branch pushed to as often.
  for (let day = 0; day < 60; day++) {
    for (let n = 0; n < 2; n++) {
      now += DAY_MS / 2;
      const at = new Date(now).toISOString();
      for (let prId = 1; prId <= 20; prId++) {
        await store.putScan(scanOf(`${day}-${n}-${prId}`.padEnd(40, '0'), { kind: 'pull_request', prId, createdAt: at, findings: [finding] }));
      }
      await store.putScan(scanOf(`${day}-${n}-main`.padEnd(40, '0'), { branch: 'main', createdAt: at, findings: [finding] }));
    }
    if (day === 20 || day === 59) {
      await store.close();
      files[day] = (await readdir(path.join(dataDir, 'results'))).filter((f) => f.endsWith('.jsonl')).length;
      store = await openResults(options);
    }
  }
  // Kept: 21 newest scans plus those replaced in the last 7 days (15 each): 336 of the 2,520
  // written. Copies carried forward go with the rest, not behind younger releases.
  expect((await store.listScans('c', '{r}')).length).toBeLessThanOrEqual(21 * 16);
  expect(await store.getScan('c', '{r}', '59-1-7'.padEnd(40, '0'), 'pull_request', 7)).toMatchObject({ findings: [finding] });
  expect(files[59]!).toBeLessThanOrEqual(Math.ceil(files[20]! * 1.2));
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('JournalResultsStore: lets superseded scans go while idle (a timer, not the next write)', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-idle-'));
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const store = await openResults({ dataDir, now: () => new Date(now), maxSegmentBytes: 1024, maintenanceIntervalMs: 20 });
  for (let n = 0; n < 30; n++) await store.putScan(scanOf(String(n).padStart(40, '0'), { branch: 'main' }));
  const segments = async () => (await readdir(path.join(dataDir, 'results'))).filter((f) => f.endsWith('.jsonl')).length;
  expect(await segments()).toBeGreaterThan(3);
  now += 8 * DAY_MS;
  await vi.waitFor(async () => expect(await segments()).toBeLessThanOrEqual(2), { timeout: 5000, interval: 25 });
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('JournalResultsStore: a write appends one record, whatever is already stored', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-size-'));
  const store = new JournalResultsStore({ dataDir });
  await store.open();
  const scan = (commit: string): ScanRecord => ({
    clientKey: 'c', repoUuid: '{r}', commit, kind: 'push', prId: null, result: 'PASSED',
    counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: '2026-01-01T00:00:00.000Z', findings: [],
  });
  const size = async () => (await segmentRecords(path.join(dataDir, 'results', '0000000001.jsonl'))).length;
  await store.putScan(scan('0'.repeat(40)));
  const one = await size();
  for (let i = 1; i <= 200; i++) await store.putScan(scan(i.toString(16).padStart(40, '0')));
  const before = await size();
  await store.putScan(scan('f'.repeat(40)));
  expect((await size()) - before).toBe(one);
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});
