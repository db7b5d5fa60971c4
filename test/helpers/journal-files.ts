import { readFile } from 'node:fs/promises';
import { contentEnd } from '../../src/store/journal.ts';

/** A journal segment's records, without the zero-filled runway after them (src/store/journal.ts). */
export async function segmentRecords(file: string): Promise<Buffer> {
  const data = await readFile(file);
  return data.subarray(0, contentEnd(data, 0));
}

/** Whether a FileHandle.write carries runway zeros rather than records. */
export function isZeroFill(data: unknown): boolean {
  return Buffer.isBuffer(data) && !data.some((byte) => byte !== 0);
}
