import { lockDirectory } from './process-lock.ts';

/**
 * One process per DATA_DIR. Two LowdbStores over the same files would each keep their own
 * index of the journal and append to it independently: records planned at the same
 * offsets, deliveries accepted twice, jobs run twice, and nothing in the files to tell
 * afterwards. The usual way to get there is an accident: a second `npm start` in the same
 * checkout, or a restart script that does not wait for the old process.
 *
 * The lock is released by the kernel when its holder dies (process-lock.ts), so a crashed
 * process never blocks a restart and two processes starting at once never both win. A lock
 * from another host is refused unless `takeOverFromOtherHost` (DATA_DIR_LOCK_OTHER_HOST).
 */

export const LOCK_FILE = 'gatehouse.lock';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

/** Takes the DATA_DIR lock or throws DataDirLockedError; resolves to the function that releases it. */
export function lockDataDir(dir: string, options: { takeOverFromOtherHost?: boolean } = {}): Promise<() => Promise<void>> {
  return lockDirectory(dir, {
    purpose: 'data-dir',
    file: LOCK_FILE,
    takeOverFromOtherHost: options.takeOverFromOtherHost,
    held: (message) => new DataDirLockedError(`${message} Stop that process, or give this one another DATA_DIR.`),
  });
}
