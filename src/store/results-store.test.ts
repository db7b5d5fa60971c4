import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { resultsStoreContract } from './results-contract.ts';
import { JournalResultsStore } from './results-store.ts';
import type { ScanRecord } from './results-types.ts';

resultsStoreContract('JournalResultsStore', async () => {
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
});

it('JournalResultsStore: a write appends one record, whatever is already stored', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-results-size-'));
  const store = new JournalResultsStore({ dataDir });
  await store.open();
  const scan = (commit: string): ScanRecord => ({
    clientKey: 'c', repoUuid: '{r}', commit, kind: 'push', prId: null, result: 'PASSED',
    counts: { critical: 0, high: 0, medium: 0, low: 0, new: 0, existing: 0, triaged: 0 }, durationMs: 1, skipped: [], notices: [], createdAt: '2026-01-01T00:00:00.000Z', findings: [],
  });
  const size = async () => (await stat(path.join(dataDir, 'results', '0000000001.jsonl'))).size;
  await store.putScan(scan('0'.repeat(40)));
  const one = await size();
  for (let i = 1; i <= 200; i++) await store.putScan(scan(i.toString(16).padStart(40, '0')));
  const before = await size();
  await store.putScan(scan('f'.repeat(40)));
  expect((await size()) - before).toBe(one);
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});
