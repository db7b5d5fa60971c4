import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { VulnDbError } from './errors.ts';

const LOCAL_HEADER = 0x04034b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** The end record is 22 bytes plus a comment of at most 65,535 bytes. */
const TAIL = 22 + 0xffff;

/**
 * fflate's streaming reader walks local headers and would take a truncated archive for a
 * short one, so the file is first checked to start like a zip and to end with the
 * end-of-central-directory record a complete archive always has.
 */
async function checkZip(file: string, label: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const magic = size >= 4 ? head.readUInt32LE(0) : 0;
    if (magic !== LOCAL_HEADER && magic !== END_OF_CENTRAL_DIRECTORY) throw new VulnDbError(`${label} is not a zip archive`);
    const length = Math.min(size, TAIL);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    let found = false;
    for (let i = length - 22; i >= 0 && !found; i--) found = tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY;
    if (!found) throw new VulnDbError(`${label} is truncated or corrupt (no end of central directory)`);
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onJson` for every `.json` entry of a zip on disk, reading it in chunks: only the
 * entry being inflated is in memory, however large the archive. Entries that are not valid
 * JSON are passed to `onBadEntry` rather than failing the whole archive.
 */
export async function forEachJsonEntry(
  file: string,
  label: string,
  onJson: (name: string, value: unknown) => void,
  onBadEntry: (name: string, reason: string) => void,
): Promise<number> {
  await checkZip(file, label);
  let entries = 0;
  let failure: Error | undefined;
  const unzip = new Unzip((entry: UnzipFile) => {
    if (!entry.name.endsWith('.json')) return;
    const chunks: Uint8Array[] = [];
    entry.ondata = (error, data, final) => {
      if (error) {
        failure ??= new VulnDbError(`${label}: entry ${entry.name} is corrupt (${error.message})`);
        return;
      }
      chunks.push(data);
      if (!final) return;
      entries++;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (parseError) {
        onBadEntry(entry.name, (parseError as Error).message);
        return;
      }
      onJson(entry.name, value);
    };
    try {
      entry.start();
    } catch (error) {
      failure ??= new VulnDbError(`${label}: entry ${entry.name} uses an unsupported compression method (${(error as Error).message})`);
    }
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      unzip.push(chunk as Buffer);
      if (failure) throw failure;
    }
    unzip.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof VulnDbError) throw error;
    throw new VulnDbError(`${label} is not a readable zip archive (${(error as Error).message})`);
  }
  if (failure) throw failure;
  return entries;
}
