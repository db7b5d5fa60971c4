import { open } from 'node:fs/promises';

/**
 * Make a directory entry durable: a file created or renamed into `dir` can otherwise
 * vanish (or point at old content) after a power cut even though its data was fsync'd.
 * Platforms that cannot open a directory for syncing (Windows) report EISDIR/EPERM; there
 * the rename is as durable as the platform allows.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw err;
  } finally {
    await handle?.close();
  }
}
