import { createHash, randomUUID } from 'node:crypto';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * A lock on a directory, held by one process and released by the kernel when that process
 * dies, however it dies (kill -9, a crash, an OOM kill).
 *
 * Why an abstract unix socket. Node has no flock(2); the npm addons that provide it are
 * native code, and a native build needs node-gyp to fetch Node's headers, which the
 * machines that install this app cannot do. A lock file alone cannot tell a dead holder from
 * a live one without a read-check-remove-link sequence that two processes can interleave
 * (each removing the other's fresh lock: both win). Linux's abstract socket namespace has
 * what flock has: bind() of a name is atomic (EADDRINUSE for the second process), the name
 * lives in no file system, and the kernel frees it when the last descriptor closes, which
 * process death guarantees. Node binds one when the path starts with a NUL byte.
 *
 * The name comes from the directory's device and inode, not its path, so a symlink or a
 * bind mount to the same directory is the same lock. It is scoped to the network namespace:
 * two containers with their own network but one volume do not see each other's socket,
 * which the holder file below catches, since they have different host names.
 *
 * The holder file (pid, host) names the holder in error messages and guards against
 * another host using the same directory over a network file system, which no local
 * mechanism can see. A holder file from another host is refused, unless the operator says
 * that host is gone (`takeOverFromOtherHost`, DATA_DIR_LOCK_OTHER_HOST=take-over). A
 * holder file from this host is stale whenever the socket could be bound: its process died.
 *
 * Off Linux there is no abstract namespace. There the holder file is the lock: created
 * atomically, never taken over automatically (a dead holder's file must be removed by
 * hand), because an automatic takeover is exactly the race described above.
 */

export interface DirLockOptions {
  /** Distinguishes locks on one directory (e.g. the store and the vulnerability database update). */
  purpose: string;
  /** Name of the holder file inside the directory. */
  file: string;
  /** Take over a holder file written by another host (that host is known to be gone). */
  takeOverFromOtherHost?: boolean;
  /** Builds the error thrown when the lock is held. */
  held: (message: string) => Error;
}

interface Holder {
  pid: number;
  host: string;
}

const ABSTRACT_SOCKETS = process.platform === 'linux';

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (Number.isSafeInteger(value.pid) && typeof value.host === 'string') return value as Holder;
  } catch {
    // Not a holder file this code wrote: it names nobody.
  }
  return undefined;
}

/** Resolves to the bound server, or null when another process holds the name. */
function bindAbstract(name: string): Promise<Server | null> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(null) : reject(err)));
    // exclusive: a cluster worker must bind its own socket, not share the primary's.
    server.listen({ path: `\0${name}`, exclusive: true }, () => {
      // The lock must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function writeTemp(file: string, text: string): Promise<string> {
  const temp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

function describeHolder(holder: Holder | undefined): string {
  return holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
}

/**
 * Places the holder file: created when absent; replaced when it is stale (this host, and the
 * caller holds the kernel lock) or the operator allowed taking over another host's.
 */
async function placeHolderFile(dir: string, opts: DirLockOptions, me: Holder, kernelLocked: boolean): Promise<string> {
  const file = path.join(dir, opts.file);
  const mine = JSON.stringify(me);
  const temp = await writeTemp(file, mine);
  try {
    try {
      await link(temp, file);
      return mine;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = parseHolder(await readFile(file, 'utf8').catch(() => ''));
    const otherHost = holder !== undefined && holder.host !== me.host;
    if (otherHost && !opts.takeOverFromOtherHost) {
      throw opts.held(
        `${dir} is locked by ${describeHolder(holder)} (${file}), another host; a directory is never shared between hosts. ` +
          'If that host no longer uses it, start with DATA_DIR_LOCK_OTHER_HOST=take-over.',
      );
    }
    if (!kernelLocked && !otherHost) {
      throw opts.held(
        `${dir} is locked by ${describeHolder(holder)} (${file}). On this platform a lock left by a dead process is not taken over: ` +
          'remove the file if no Gatehouse process uses this directory.',
      );
    }
    await rename(temp, file);
    return mine;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Takes the lock or throws `opts.held(...)`; resolves to the function that releases it. */
export async function lockDirectory(dir: string, opts: DirLockOptions): Promise<() => Promise<void>> {
  const me: Holder = { pid: process.pid, host: hostname() };
  let server: Server | null = null;
  if (ABSTRACT_SOCKETS) {
    const { dev, ino } = await stat(dir);
    const id = createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 40);
    server = await bindAbstract(`gatehouse/${opts.purpose}/${id}`);
    if (!server) {
      const holder = parseHolder(await readFile(path.join(dir, opts.file), 'utf8').catch(() => ''));
      throw opts.held(`${dir} is in use by ${describeHolder(holder)}; ${opts.purpose}: one process at a time.`);
    }
  }
  let mine: string;
  try {
    mine = await placeHolderFile(dir, opts, me, server !== null);
  } catch (err) {
    if (server) await closeServer(server);
    throw err;
  }
  const file = path.join(dir, opts.file);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      // Only our own: after a takeover by another host's operator it is theirs.
      if ((await readFile(file, 'utf8').catch(() => '')) === mine) await rm(file, { force: true });
    } finally {
      if (server) await closeServer(server);
    }
  };
}
