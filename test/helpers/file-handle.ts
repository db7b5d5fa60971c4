import { open } from 'node:fs/promises';

/** What every FileHandle inherits from, for tests that count or delay its reads and writes. */
export async function fileHandlePrototype(): Promise<{ read: (...args: unknown[]) => Promise<unknown>; write: (...args: unknown[]) => Promise<{ bytesWritten: number }> }> {
  const handle = await open(import.meta.filename, 'r');
  await handle.close();
  return Object.getPrototypeOf(handle);
}
