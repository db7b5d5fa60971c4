import { constants } from 'node:fs';
import { appendFile, mkdtemp, open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { segmentRecords } from '../../test/helpers/journal-files.ts';
import { storeContract } from './contract.ts';
import { retentionContract } from './retention-contract.ts';
import { DurableJsonFile } from './durable-json-file.ts';
import { DAY_MS } from './job-index.ts';
import { LowdbStore, type LowdbStoreOptions } from './lowdb-store.ts';

async function openStore(dataDir: string, options: Omit<LowdbStoreOptions, 'dataDir'> = {}): Promise<LowdbStore> {
  const store = new LowdbStore({ dataDir, ...options });
  await store.open();
  return store;
}

storeContract('LowdbStore', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-store-'));
  // A small segment size so that the contract also exercises segment rollover.
  const options = { maxSegmentBytes: 4096 };
  let current = await openStore(dataDir, options);
  return {
    store: current,
    reopen: async () => (current = await openStore(dataDir, options)),
    cleanup: async () => {
      await current.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

retentionContract('LowdbStore', async ({ now, retention }) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-retention-'));
  const options = { maxSegmentBytes: 4096, now, retention };
  let current = await openStore(dataDir, options);
  return {
    store: current,
    reopen: async () => (current = await openStore(dataDir, options)),
    cleanup: async () => {
      await current.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('LowdbStore on disk', () => {
  let dataDir: string;
  const journalDir = () => path.join(dataDir, 'journal');
  const segmentPath = (n: number) => path.join(journalDir(), `${String(n).padStart(10, '0')}.jsonl`);
  /** A segment's records, without the zero-filled runway after them (journal.ts). */
  const segmentContent = (n: number) => segmentRecords(segmentPath(n));
  /** Writes bytes where the next record would go, as a write cut short by a crash leaves them. */
  const writeAtEnd = async (n: number, bytes: string | Buffer) => {
    const at = (await segmentContent(n)).length;
    const handle = await open(segmentPath(n), 'r+');
    await handle.write(Buffer.from(bytes), 0, Buffer.byteLength(bytes), at);
    await handle.close();
  };
  const delivery = (id: string) => ({ id, clientKey: 'client-1', event: 'repo:push' });
  const job = (n: number) => ({ clientKey: 'client-1', type: 'webhook:repo:push', payload: { push: n, text: 'tab\there, newline\nthere' } });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-store-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes one journal line per accepted delivery, holding the delivery and its job', async () => {
    const store = await openStore(dataDir);
    const { jobId } = await store.acceptDelivery(delivery('d-1'), job(1));
    await store.close();
    const lines = (await segmentContent(1)).toString('utf8').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const [meta, body] = lines[0]!.split('\t');
    expect(JSON.parse(meta!)).toMatchObject({ t: 'accept', delivery: { id: 'd-1' }, job: { id: jobId } });
    expect(JSON.parse(body!)).toEqual(job(1).payload);
  });

  it('discards a torn last record, then keeps appending after it', async () => {
    let store = await openStore(dataDir);
    const { jobId } = await store.acceptDelivery(delivery('d-1'), job(1));
    await store.close();
    const sizeBefore = (await segmentContent(1)).length;
    await writeAtEnd(1, '{"t":"accept","delivery":{"id":"d-torn","clie');

    store = await openStore(dataDir);
    expect((await segmentContent(1)).length).toBe(sizeBefore);
    expect(await store.getDelivery('d-torn')).toBeUndefined();
    expect((await store.getJob(jobId!))!.payload).toEqual(job(1).payload);
    await store.acceptDelivery(delivery('d-2'), job(2));
    await store.close();

    store = await openStore(dataDir);
    expect(await store.countDeliveries()).toBe(2);
    await store.close();
  });

  it('discards a complete but unreadable last line (zeros left by a lost write)', async () => {
    let store = await openStore(dataDir);
    await store.acceptDelivery(delivery('d-1'), job(1));
    await store.close();
    await writeAtEnd(1, Buffer.concat([Buffer.alloc(64), Buffer.from('\n')]));
    store = await openStore(dataDir);
    expect(await store.countDeliveries()).toBe(1);
    await store.close();
  });

  it('refuses to open when an unreadable record is followed by readable ones', async () => {
    let store = await openStore(dataDir);
    await store.acceptDelivery(delivery('d-1'), job(1));
    await store.acceptDelivery(delivery('d-2'), job(2));
    await store.close();
    const text = await readFile(segmentPath(1), 'utf8');
    await writeFile(segmentPath(1), '#' + text.slice(1));
    store = new LowdbStore({ dataDir });
    await expect(store.open()).rejects.toThrow(/0000000001\.jsonl: unreadable record at byte 0 is followed by readable ones/);
  });

  it('refuses a record of an unknown type with its location', async () => {
    let store = await openStore(dataDir);
    await store.acceptDelivery(delivery('d-1'), null);
    await store.close();
    await writeAtEnd(1, '{"t":"finding"}\n');
    store = new LowdbStore({ dataDir });
    await expect(store.open()).rejects.toThrow(/record at byte \d+: unknown record type "finding"/);
  });

  it('rolls over to new segments and reads payloads from each after reopen', async () => {
    let store = await openStore(dataDir, { maxSegmentBytes: 1024 });
    const ids: string[] = [];
    for (let n = 0; n < 30; n++) ids.push((await store.acceptDelivery(delivery(`d-${n}`), job(n))).jobId!);
    await store.close();
    const segments = (await readdir(journalDir())).filter((f) => f.endsWith('.jsonl'));
    expect(segments.length).toBeGreaterThan(3);

    store = await openStore(dataDir, { maxSegmentBytes: 1024 });
    const jobs = await store.listJobs();
    expect(jobs.map((j) => j.id)).toEqual(ids);
    expect(jobs.map((j) => (j.payload as { push: number }).push)).toEqual(ids.map((_, n) => n));
    await store.close();
  });

  describe('segment indexes', () => {
    const indexPath = (n: number) => path.join(journalDir(), `${String(n).padStart(10, '0')}.idx`);
    async function fill(): Promise<void> {
      const store = await openStore(dataDir, { maxSegmentBytes: 1024 });
      for (let n = 0; n < 12; n++) await store.acceptDelivery(delivery(`d-${n}`), job(n));
      await store.close();
    }

    it('indexes every sealed segment, not the active one', async () => {
      await fill();
      const files = await readdir(journalDir());
      const segments = files.filter((f) => f.endsWith('.jsonl')).length;
      expect(segments).toBeGreaterThan(2);
      expect(files.filter((f) => f.endsWith('.idx'))).toHaveLength(segments - 1);
      const [header, first] = (await readFile(indexPath(1), 'utf8')).split('\n');
      expect(JSON.parse(header!)).toEqual({ segment: 1, bytes: (await stat(segmentPath(1))).size, records: expect.any(Number) });
      expect(first).toMatch(/^\{"t":"accept".*\}\t\d+ \d+$/);
    });

    it('reads a sealed segment through its index when the index matches', async () => {
      await fill();
      const text = await readFile(indexPath(1), 'utf8');
      // Only an open() that reads the index can see this edit.
      await writeFile(indexPath(1), text.replace('"event":"repo:push"', '"event":"from-index"'));
      const store = await openStore(dataDir);
      expect((await store.getDelivery('d-0'))!.event).toBe('from-index');
      expect((await store.getJob((await store.getDelivery('d-0'))!.jobId!))!.payload).toEqual(job(0).payload);
      await store.close();
    });

    it('ignores a stale or missing index, replays the segment and rebuilds the index', async () => {
      await fill();
      const original = await readFile(indexPath(1), 'utf8');
      const [header, ...rest] = original.split('\n');
      const stale = { ...JSON.parse(header!), bytes: 1 };
      await writeFile(indexPath(1), [JSON.stringify(stale), ...rest].join('\n').replace('"event":"repo:push"', '"event":"from-index"'));
      await rm(indexPath(2));

      const store = await openStore(dataDir);
      expect((await store.getDelivery('d-0'))!.event).toBe('repo:push');
      expect(await store.countDeliveries()).toBe(12);
      await store.close();
      expect(await readFile(indexPath(1), 'utf8')).toBe(original);
      expect((await stat(indexPath(2))).size).toBeGreaterThan(0);
    });
  });

  it('refuses to open when a segment in the middle is missing', async () => {
    let store = await openStore(dataDir, { maxSegmentBytes: 512 });
    for (let n = 0; n < 10; n++) await store.acceptDelivery(delivery(`d-${n}`), job(n));
    await store.close();
    await rm(segmentPath(2));
    store = new LowdbStore({ dataDir });
    await expect(store.open()).rejects.toThrow(/segment 0000000002\.jsonl is missing/);
  });

  it.runIf(process.platform === 'linux')('writes the journal through an O_DSYNC descriptor, so an acknowledged append is on disk', async () => {
    const store = await openStore(dataDir);
    await store.acceptDelivery(delivery('d-1'), job(1));
    const fds = await readdir('/proc/self/fd');
    const flags: number[] = [];
    for (const fd of fds) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      if (target !== segmentPath(1)) continue;
      const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
      const octal = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
      if (octal) flags.push(parseInt(octal, 8));
    }
    await store.close();
    const O_ACCMODE = 3; // Linux; node:fs does not export it
    const writers = flags.filter((f) => (f & O_ACCMODE) === constants.O_WRONLY);
    expect(writers).toHaveLength(1);
    expect(writers[0]! & constants.O_DSYNC).toBe(constants.O_DSYNC);
  });

  it('after a failed synced write, refuses every call until reopened, then carries on', async () => {
    let store = await openStore(dataDir);
    await store.acceptDelivery(delivery('d-1'), job(1));
    const probe = await open(path.join(dataDir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { write: () => Promise<unknown> };
    await probe.close();
    // Segments are O_DSYNC: the write is where a sync failure surfaces.
    const spy = vi.spyOn(fileHandle, 'write').mockRejectedValueOnce(new Error('EIO: i/o error, write'));
    try {
      await expect(store.acceptDelivery(delivery('d-2'), job(2))).rejects.toThrow(/journal write failed; reopen the store to recover: EIO/);
      await expect(store.acceptDelivery(delivery('d-3'), job(3))).rejects.toThrow(/journal write failed/);
      await expect(store.getDelivery('d-1')).rejects.toThrow(/journal write failed/);
    } finally {
      spy.mockRestore();
    }
    await expect(store.close()).rejects.toThrow(/journal write failed/);

    store = await openStore(dataDir);
    expect(await store.getDelivery('d-1')).toMatchObject({ id: 'd-1' });
    expect((await store.acceptDelivery(delivery('d-3'), job(3))).duplicate).toBe(false);
    await store.close();
  });

  it('leaves a job queued, writing nothing, while a job of its pull request runs; claims it once that one ends, also after a restart', async () => {
    const pr = (n: number) => ({ ...job(n), group: 'pr:1', supersedes: true });
    let store = await openStore(dataDir);
    const first = (await store.acceptDelivery(delivery('g-1'), pr(1))).jobId!;
    const other = (await store.acceptDelivery(delivery('g-2'), { ...job(2), group: 'pr:2' })).jobId!;
    expect((await store.claimJobs(1, new Date())).map((j) => j.id)).toEqual([first]);
    const second = (await store.acceptDelivery(delivery('g-3'), pr(3))).jobId!;
    const journalBytes = async () => (await segmentContent(1)).length;
    // The other pull request's job is claimed; this one's newer job is passed over, unrecorded.
    expect((await store.claimJobs(5, new Date())).map((j) => j.id)).toEqual([other]);
    const before = await journalBytes();
    expect(await store.claimJobs(5, new Date())).toEqual([]);
    expect(await journalBytes()).toBe(before);
    expect(await store.countQueuedJobs('client-1')).toBe(1);
    expect((await store.getJob(second))!.status).toBe('queued');
    await store.close();

    // A restart puts the running jobs back in the queue: the newer one supersedes the first.
    store = await openStore(dataDir);
    expect((await store.claimJobs(5, new Date())).map((j) => j.id)).toEqual([other, second]);
    expect((await store.getJob(first))!.lastError).toBe(`skipped: superseded by job ${second}`);
    const third = (await store.acceptDelivery(delivery('g-4'), pr(4))).jobId!;
    expect(await store.claimJobs(5, new Date())).toEqual([]);
    await store.updateJob(second, { status: 'done' });
    expect((await store.claimJobs(5, new Date())).map((j) => j.id)).toEqual([third]);
    await store.close();
  });

  it('uses the injected clock for receivedAt, createdAt and updatedAt', async () => {
    let now = new Date('2026-03-04T05:06:07.000Z');
    const store = await openStore(dataDir, { now: () => now });
    const { jobId } = await store.acceptDelivery(delivery('d-1'), job(1));
    expect((await store.getDelivery('d-1'))!.receivedAt).toBe('2026-03-04T05:06:07.000Z');
    now = new Date('2026-03-04T05:07:00.000Z');
    await store.updateJob(jobId!, { attempts: 1 });
    expect(await store.getJob(jobId!)).toMatchObject({ createdAt: '2026-03-04T05:06:07.000Z', updatedAt: '2026-03-04T05:07:00.000Z' });
    await store.close();
  });

  it('explains an installations file that is not JSON', async () => {
    await writeFile(path.join(dataDir, 'installations.json'), '{"installations": [');
    const store = new LowdbStore({ dataDir });
    await expect(store.open()).rejects.toThrow(/installations\.json is not valid JSON/);
  });

  it('appends one record per install instead of rewriting every installation, and folds the log in only once it outgrows the snapshot', async () => {
    const writes = vi.spyOn(DurableJsonFile.prototype, 'write');
    const store = await openStore(dataDir);
    const big = (n: number) => ({
      clientKey: `client-${n}`,
      key: 'gatehouse',
      baseUrl: 'https://bitbucket.org',
      baseApiUrl: 'https://api.bitbucket.org',
      encryptedSharedSecret: 'v1.x.y.z',
      state: 'installed' as const,
      principal: { display_name: String(n).padEnd(100_000, '.') },
      installedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    for (let n = 0; n < 30; n++) await store.putInstallation(big(n));
    await store.close();
    // 3 MB of installations: whole-document rewrites would be 30 writes and 46 MB.
    expect(writes.mock.calls.length).toBeLessThanOrEqual(3);
    writes.mockRestore();
    // A torn last line (a crash mid-append) was never acknowledged and is cut off.
    await appendFile(path.join(dataDir, 'installations.log'), '{"clientKey":"torn');
    const reopened = await openStore(dataDir);
    const listed = await reopened.listInstallations();
    expect(listed.map((i) => i.clientKey)).toEqual(Array.from({ length: 30 }, (_, n) => `client-${n}`));
    expect(listed[29]).toEqual(big(29));
    await reopened.putInstallation({ ...big(3), state: 'uninstalled', encryptedSharedSecret: null });
    await reopened.close();
    const again = await openStore(dataDir);
    expect((await again.getInstallation('client-3'))?.state).toBe('uninstalled');
    expect(await again.listInstallations()).toHaveLength(30);
    await again.close();
  });

  it('deletes journal segments once nothing live is in them, carrying a long-lived dead job forward, so disk stays flat', { timeout: 120_000 }, async () => {
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const options = { maxSegmentBytes: 4096, now: () => new Date(now) };
    let store = await openStore(dataDir, options);
    const { jobId: dead } = await store.acceptDelivery(delivery('dead'), job(0));
    await store.claimJobs(1, new Date(now));
    await store.updateJob(dead!, { status: 'dead', lastError: 'gave up' });
    const diskAt: Record<number, { files: number; first: string }> = {};
    for (let day = 0; day <= 60; day++) {
      for (let n = 0; n < 10; n++) {
        now += DAY_MS / 10;
        const { jobId } = await store.acceptDelivery(delivery(`d-${day}-${n}`), job(day * 10 + n));
        await store.claimJobs(1, new Date(now));
        await store.updateJob(jobId!, { status: 'done' });
      }
      if (day === 20 || day === 29 || day === 60) {
        await store.close();
        const files = (await readdir(journalDir())).filter((f) => f.endsWith('.jsonl')).sort();
        diskAt[day] = { files: files.length, first: files[0]! };
        store = await openStore(dataDir, options);
      }
      if (day === 29) expect(await store.getJob(dead!)).toMatchObject({ status: 'dead', payload: job(0).payload });
    }
    await store.close();
    // Day 0's segments are long gone, although the dead job was accepted in the first one.
    expect(diskAt[29]!.first).not.toBe('0000000001.jsonl');
    expect(diskAt[60]!.files).toBeLessThanOrEqual(Math.ceil(diskAt[20]!.files * 1.2));
  });

  it('forgets a dead job carried forward behind a younger one once its own 30 days are over, across restarts', async () => {
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const options = { maxSegmentBytes: 1024, now: () => new Date(now), retention: { deliveryMs: 60_000, doneJobMs: 60_000 } };
    let store = await openStore(dataDir, options);
    const die = async (id: string) => {
      const { jobId } = await store.acceptDelivery(delivery(id), job(0));
      await store.claimJobs(1, new Date(now));
      await store.updateJob(jobId!, { status: 'dead', lastError: 'gave up' });
      return jobId!;
    };
    const older = await die('older');
    for (let n = 0; n < 6; n++) await store.acceptDelivery(delivery(`filler-${n}`), null);
    now += 3_600_000;
    const younger = await die('younger');
    // Queued jobs never expire: they keep the younger one's segment, so only the older is carried.
    for (let n = 0; n < 6; n++) await store.acceptDelivery(delivery(`queued-${n}`), job(n));
    now += 3_600_000;
    await store.acceptDelivery(delivery('after'), null);
    await store.close();
    expect((await readdir(journalDir())).includes('0000000001.jsonl')).toBe(false);

    now = Date.parse('2026-03-31T00:30:00.000Z');
    store = await openStore(dataDir, options);
    expect(await store.getJob(older)).toBeUndefined();
    expect(await store.getJob(younger)).toMatchObject({ status: 'dead' });
    await store.close();
  });

  it('lets history go while idle: a timer, not the next write, deletes what outlived its retention', async () => {
    let now = Date.parse('2026-03-01T00:00:00.000Z');
    const store = await openStore(dataDir, { maxSegmentBytes: 4096, now: () => new Date(now), maintenanceIntervalMs: 20 });
    for (let n = 0; n < 40; n++) {
      const { jobId } = await store.acceptDelivery(delivery(`idle-${n}`), job(n));
      await store.claimJobs(1, new Date(now));
      await store.updateJob(jobId!, { status: 'done' });
    }
    const segments = async () => (await readdir(journalDir())).filter((f) => f.endsWith('.jsonl')).length;
    const before = await segments();
    expect(before).toBeGreaterThan(3);
    now += 8 * DAY_MS;
    // No call into the store from here on: only its timer can delete anything.
    await vi.waitFor(async () => expect(await segments()).toBe(1), { timeout: 5000, interval: 25 });
    await store.close();
  });

  it('keeps its files private to the owner', async () => {
    const store = await openStore(dataDir);
    await store.putInstallation({
      clientKey: 'client-1',
      key: 'gatehouse',
      baseUrl: 'https://bitbucket.org',
      baseApiUrl: 'https://api.bitbucket.org',
      encryptedSharedSecret: 'v1.x.y.z',
      state: 'installed',
      installedAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    await store.close();
    expect((await stat(path.join(dataDir, 'installations.log'))).mode & 0o077).toBe(0);
    expect((await stat(segmentPath(1))).mode & 0o077).toBe(0);
  });

  it('rejects calls before open and after close', async () => {
    const store = new LowdbStore({ dataDir });
    await expect(store.countDeliveries()).rejects.toThrow(/not open yet/);
    await store.open();
    await store.close();
    await expect(store.acceptDelivery(delivery('d-1'), null)).rejects.toThrow(/closed/);
    await expect(store.open()).rejects.toThrow(/opened once/);
  });
});
