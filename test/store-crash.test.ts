import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import { crashPayload } from './helpers/store-crash-child.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const child = path.join(root, 'test/helpers/store-crash-child.ts');
/** Small enough that every run rolls over many segments and writes their index files. */
const SEGMENT_BYTES = 128 * 1024;

/**
 * Runs the child until it has acknowledged `acks` deliveries, kills it with SIGKILL, and
 * returns every acknowledgement it printed (including any printed between the kill request
 * and its death: those were acknowledged too).
 */
async function acceptUntilKilled(dataDir: string, prefix: string, acks: number): Promise<Map<string, string>> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, prefix, String(SEGMENT_BYTES)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, string>();
  let pending = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const [kind, id, jobId] = pending.slice(0, nl).split(' ');
      pending = pending.slice(nl + 1);
      if (kind === 'ack' && id && jobId) acked.set(id, jobId);
      if (acked.size >= acks && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  });
  const [code, signal] = (await once(proc, 'close')) as [number | null, NodeJS.Signals | null];
  expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
  expect(acked.size).toBeGreaterThanOrEqual(acks);
  return acked;
}

async function expectAllPresent(dataDir: string, acked: Map<string, string>): Promise<void> {
  const store = new LowdbStore({ dataDir });
  await store.open();
  try {
    for (const [id, jobId] of acked) {
      expect(await store.getDelivery(id), id).toMatchObject({ id, jobId });
      const job = await store.getJob(jobId);
      expect(job, `job of ${id}`).toBeDefined();
      expect(job!.payload).toEqual(crashPayload(Number(id.split('-').at(-1))));
    }
    expect(await store.countDeliveries()).toBeGreaterThanOrEqual(acked.size);
    expect(await store.listJobs({ status: 'running' })).toEqual([]);
  } finally {
    await store.close();
  }
}

describe('LowdbStore survives kill -9', () => {
  let dataDir: string;
  const everything = new Map<string, string>();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-crash-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // Successive runs share one data directory, so each also proves that a store reopened
  // after a kill keeps accepting and keeps what earlier runs acknowledged. The test reopens
  // with the default segment size: segment size only decides when to roll over.
  for (const [run, acks] of [[1, 1], [2, 37], [3, 400], [4, 1200]] as const) {
    it(`keeps every acknowledged delivery and job when killed after ${acks} acks`, { timeout: 60_000 }, async () => {
      const acked = await acceptUntilKilled(dataDir, `run${run}`, acks);
      for (const [id, jobId] of acked) everything.set(id, jobId);
      await expectAllPresent(dataDir, everything);
    });
  }
});
