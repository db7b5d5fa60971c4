import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from './data-dir-lock.ts';
import { LowdbStore } from './lowdb-store.ts';

const linux = process.platform === 'linux';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = path.join(root, 'test/helpers/dir-lock-child.ts');

/** A process running test/helpers/dir-lock-child.ts, driven one command at a time. */
class LockChild {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  constructor() {
    this.proc = spawn(process.execPath, ['--import', 'tsx', childScript], { cwd: root });
    this.#lines = createInterface({ input: this.proc.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  send(command: string): Promise<string> {
    const answer = new Promise<string>((resolve) => this.#waiting.push(resolve));
    this.proc.stdin.write(`${command}\n`);
    return answer;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

/** The pid of a process that has exited, for a lock file whose holder is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
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

  it.runIf(linux)('takes over a lock file whose process is gone, from this host', async () => {
    await writeLock({ pid: await deadPid(), host: hostname(), started: '1' });
    const release = await lockDataDir(dir);
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await release();
  });

  it.runIf(linux)('takes over a lock file it cannot read as one of its own', async () => {
    await writeLock('{"pid":');
    await (await lockDataDir(dir))();
  });

  it('refuses a lock written by another host unless told that host is gone', async () => {
    const foreign = JSON.stringify({ pid: process.pid, host: `not-${hostname()}`, started: null });
    await writeLock(foreign);
    await expect(lockDataDir(dir)).rejects.toThrow(/another host.*DATA_DIR_LOCK_OTHER_HOST=take-over/);
    // Refused without touching it.
    expect(await readFile(lockPath(), 'utf8')).toBe(foreign);
    const release = await lockDataDir(dir, { takeOverFromOtherHost: true });
    expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await release();
  });

  it('release leaves alone a lock file that is no longer its own', async () => {
    const release = await lockDataDir(dir);
    const other = JSON.stringify({ pid: 1, host: `not-${hostname()}` });
    await writeLock(other);
    await release();
    expect(await readFile(lockPath(), 'utf8')).toBe(other);
  });
});

describe.runIf(linux)('the lock across processes', { timeout: 180_000 }, () => {
  const CHILDREN = 8;
  const TRIALS = 15;
  let children: LockChild[] = [];
  let base: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'gatehouse-lock-race-'));
    children = Array.from({ length: CHILDREN }, () => new LockChild());
    // Every child has loaded the lock code before the first trial starts.
    await Promise.all(children.map((c) => c.send('release')));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await rm(base, { recursive: true, force: true });
  });

  /** Starts every child's attempt at once; returns how many won. */
  async function race(kind: 'data' | 'vulndb', dir: string): Promise<number> {
    const answers = await Promise.all(children.map((c) => c.send(`lock ${kind} ${dir}`)));
    expect(answers.filter((a) => a !== 'won').every((a) => a.startsWith('lost '))).toBe(true);
    await Promise.all(children.map((c) => c.send('release')));
    return answers.filter((a) => a === 'won').length;
  }

  it.each([
    ['DATA_DIR, no lock file', 'data', null],
    ['DATA_DIR, a stale lock file', 'data', LOCK_FILE],
    ['vulnerability database update, no lock file', 'vulndb', null],
    ['vulnerability database update, a stale lock file', 'vulndb', 'osv/.update.lock'],
  ] as const)('%s: exactly one of the processes starting at once wins, every trial', async (_name, kind, staleFile) => {
    const winners: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = await mkdtemp(path.join(base, 'trial-'));
      if (staleFile) {
        const pid = await deadPid();
        await mkdir(path.dirname(path.join(dir, staleFile)), { recursive: true });
        // Both the old format (a pid) and the current one describe a holder that is gone.
        await writeFile(path.join(dir, staleFile), kind === 'vulndb' ? String(pid) : JSON.stringify({ pid, host: hostname(), started: '1' }));
      }
      winners.push(await race(kind, dir));
    }
    expect(winners).toEqual(Array(TRIALS).fill(1));
  });

  it('a holder killed with SIGKILL frees the lock; while it runs, the lock is refused', async () => {
    const dir = await mkdtemp(path.join(base, 'kill-'));
    const holder = new LockChild();
    try {
      expect(await holder.send(`lock data ${dir}`)).toBe('won');
      await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${holder.proc.pid}`);
      await holder.kill();
      await (await lockDataDir(dir))();
    } finally {
      await holder.kill();
    }
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
