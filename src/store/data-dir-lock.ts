import { randomUUID } from 'node:crypto';
import { link, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One process per DATA_DIR. Two LowdbStores over the same files would each keep their own
 * index of the journal and append to it independently: records planned at the same
 * offsets, deliveries accepted twice, jobs run twice, and nothing in the files to tell
 * afterwards. The usual way to get there is an accident: a second `npm start` in the same
 * checkout, or a restart script that does not wait for the old process.
 *
 * The lock is a file naming its holder (pid, host, and on Linux the process's start time,
 * so a reused pid is not mistaken for the holder). It is created whole or not at all: written
 * under a temporary name, then hard-linked into place, which fails if a lock exists.
 * A lock whose holder is gone (kill -9, a crash, a reboot, a container restarted under the
 * same pid) is taken over. A lock from another host is taken over too: whether its holder
 * lives cannot be seen from here, and refusing would stop every restart on a new host (a
 * replaced container with the same volume) until someone deletes the file by hand. So this
 * guards one machine against accidents; it is not a lock between hosts, and DATA_DIR must
 * not be shared between hosts (README, Configuration).
 */

export const LOCK_FILE = 'gatehouse.lock';

interface Holder {
  pid: number;
  host: string;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux. */
  started: string | null;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

/** The start time of a running pid; null when it runs but that cannot be read; undefined when it does not run. */
async function startTimeOf(pid: number): Promise<string | null | undefined> {
  if (process.platform === 'linux') {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
    } catch {
      return undefined;
    }
  }
  try {
    process.kill(pid, 0);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? null : undefined;
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (Number.isSafeInteger(value.pid) && typeof value.host === 'string' && (value.started === null || typeof value.started === 'string')) {
      return value as Holder;
    }
  } catch {
    // Not a lock this code wrote: treated as stale below.
  }
  return undefined;
}

async function holderRuns(holder: Holder, me: Holder): Promise<boolean> {
  if (holder.host !== me.host) return false;
  if (holder.pid === me.pid) return holder.started !== null && holder.started === me.started;
  const started = await startTimeOf(holder.pid);
  if (started === undefined) return false;
  return started === null || holder.started === null || started === holder.started;
}

/**
 * Takes the DATA_DIR lock or throws DataDirLockedError naming the process that holds it.
 * Resolves to the function that releases it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), started: (await startTimeOf(process.pid)) ?? null };
  const mine = JSON.stringify(me);
  // Unique per attempt: two opens in one process must not share (or delete) each other's.
  const temp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(mine);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // Twice at most: once as things are, once more after clearing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(temp, file);
        return async () => {
          // Only our own lock: if it was taken over meanwhile, it is someone else's now.
          if ((await readFile(file, 'utf8').catch(() => '')) === mine) await rm(file, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const text = await readFile(file, 'utf8').catch(() => '');
      const holder = parseHolder(text);
      if (holder && (await holderRuns(holder, me))) {
        throw new DataDirLockedError(
          `${dir} is in use by process ${holder.pid} on this host (${file}); one Gatehouse process per DATA_DIR. Stop that process, or give this one another DATA_DIR.`,
        );
      }
      await rm(file, { force: true });
    }
    throw new DataDirLockedError(`${file}: another process took the lock while a stale one was being cleared`);
  } finally {
    await rm(temp, { force: true });
  }
}
