import { isDependencyFile } from '../../scan/deps/files.ts';
import type { FileScan } from '../../scan/scan-files.ts';
import { readForScan, type ReadOptions } from '../walk.ts';

/** Source files larger than this are generated or data, not code a person wrote a secret into. */
const MAX_SOURCE_BYTES = 10 * 1024 * 1024;
/** Lockfiles of large monorepos run to tens of megabytes and are exactly what must be read. */
export const MAX_DEPENDENCY_FILE_BYTES = 200 * 1024 * 1024;

/** A file to scan: where it is on disk, and the path its findings carry. */
export interface BatchFile {
  file: string;
  path: string;
}

export interface BatchCounts {
  files: number;
  /** On disk, binary files included (what progress shows). */
  bytes: number;
  /** Of text scanned: what the work grows with. */
  textBytes: number;
}

/**
 * Reads and scans some files into `scan`'s current part, one at a time (never more than
 * one file's text in memory). The same code runs in a worker thread and, for a small
 * scan, in the main thread.
 */
export async function scanBatch(scan: FileScan, files: readonly BatchFile[]): Promise<BatchCounts> {
  const options: ReadOptions = {
    maxBytes: (file) => (isDependencyFile(file) ? MAX_DEPENDENCY_FILE_BYTES : MAX_SOURCE_BYTES),
    notice: (message) => scan.notice(message),
  };
  const counts = { files: 0, bytes: 0, textBytes: 0 };
  for (const { file, path } of files) {
    if (!scan.wants(path)) continue;
    const read = await readForScan(file, path, options);
    if (!read) continue;
    await scan.add(read);
    counts.files++;
    counts.bytes += read.bytes;
    if ('content' in read) counts.textBytes += read.content.length;
  }
  return counts;
}
