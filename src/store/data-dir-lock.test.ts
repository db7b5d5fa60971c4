import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from './data-dir-lock.ts';
import { LowdbStore } from './lowdb-store.ts';

const linux = process.platform === 'linux';

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('lockDataDir', () => {
  let dir: string;
  const lockPath = () => path.join(dir, LOCK_FILE);
  const writeLock = (holder: object | string) => writeFile(lockPath(), typeof holder === 'string' ? holder : JSON.stringify(holder));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second holder while the first runs, and frees the directory on release', async () => {
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(DataDirLockedError);
    await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${process.pid}`);
    await release();
    await (await lockDataDir(dir))();
    // Nothing is left behind: no lock, no temporary file.
    expect(await readdir(dir)).toEqual([]);
  });

  it('of two racing takers, one gets the lock and the other a clear refusal', async () => {
    const outcomes = await Promise.allSettled([lockDataDir(dir), lockDataDir(dir)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(DataDirLockedError);
    await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
    expect(await readdir(dir)).toEqual([]);
  });

  it.runIf(linux)('refuses a lock held by another running process on this host', async () => {
    const child = await sleeper();
    try {
      await writeLock({ pid: child.pid, host: hostname(), started: await startTime(child.pid!) });
      await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    // Once it is gone (as after kill -9), its lock is stale and taken over.
    await (await lockDataDir(dir))();
  });

  it.runIf(linux)('takes over a lock whose pid now belongs to a different process (pid reuse)', async () => {
    const child = await sleeper();
    try {
      await writeLock({ pid: child.pid, host: hostname(), started: '1' });
      await (await lockDataDir(dir))();
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('takes over a lock of this pid from an earlier life (a container restarted as pid 1)', async () => {
    await writeLock({ pid: process.pid, host: hostname(), started: 'an-earlier-start' });
    await (await lockDataDir(dir))();
  });

  it('takes over a lock from another host, whose holder cannot be checked from here', async () => {
    await writeLock({ pid: process.pid, host: `not-${hostname()}`, started: null });
    await (await lockDataDir(dir))();
  });

  it('takes over a lock file it cannot read as one of its own', async () => {
    await writeLock('{"pid":');
    await (await lockDataDir(dir))();
  });

  it("release leaves alone a lock that is no longer its own", async () => {
    const release = await lockDataDir(dir);
    const other = JSON.stringify({ pid: 1, host: `not-${hostname()}`, started: null });
    await writeLock(other);
    await release();
    expect(await readFile(lockPath(), 'utf8')).toBe(other);
  });
});

describe('LowdbStore and the lock', () => {
  it('a second store on the same DATA_DIR is refused while the first is open; the first carries on', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-lock-store-'));
    const first = new LowdbStore({ dataDir });
    await first.open();
    try {
      const second = new LowdbStore({ dataDir });
      await expect(second.open()).rejects.toThrow(DataDirLockedError);
      const accepted = await first.acceptDelivery({ id: 'd-1', clientKey: 'c', event: 'repo:push' }, null);
      expect(accepted.duplicate).toBe(false);
    } finally {
      await first.close();
    }
    const reopened = new LowdbStore({ dataDir });
    await reopened.open();
    expect(await reopened.getDelivery('d-1')).toMatchObject({ id: 'd-1' });
    await reopened.close();
    await rm(dataDir, { recursive: true, force: true });
  });
});
