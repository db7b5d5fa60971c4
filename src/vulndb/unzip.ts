import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { Unzip, UnzipPassThrough, type AsyncFlateStreamHandler, type FlateError, type UnzipDecoder, type UnzipFile } from 'fflate';
import { VulnDbError } from './errors.ts';

const LOCAL_HEADER = 0x04034b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** The end record is 22 bytes plus a comment of at most 65,535 bytes. */
const TAIL = 22 + 0xffff;
const PUSH_SLICE = 16 * 1024;
/** No OSV record comes near this; a larger entry is skipped (and said) rather than held in memory. */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** What a decoder reports for an entry past the limit: the entry is skipped, the archive read on. */
const TOO_LARGE = -1;

/**
 * Inflates one deflated entry in a single native call once its compressed bytes are in.
 * OSV archives hold hundreds of thousands of records of a few kilobytes, where fflate's
 * incremental inflater spends most of its time growing buffers; an entry is small, so
 * holding one compressed entry at a time keeps memory bounded all the same.
 */
class WholeEntryInflate implements UnzipDecoder {
  static readonly compression = 8;
  ondata: AsyncFlateStreamHandler = () => undefined;
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private tooLarge = false;

  constructor(
    private readonly name: string,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Uint8Array, final: boolean): void {
    if (!this.tooLarge) {
      this.size += chunk.length;
      this.tooLarge = this.size > this.maxBytes;
      // fflate may reuse the chunk's buffer after push returns.
      if (this.tooLarge) this.chunks.length = 0;
      else this.chunks.push(chunk.slice());
    }
    if (!final) return;
    if (this.tooLarge) {
      this.fail('too large', TOO_LARGE);
      return;
    }
    let out: Buffer;
    try {
      out = inflateRawSync(Buffer.concat(this.chunks), { maxOutputLength: this.maxBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? TOO_LARGE : 0;
      this.fail((error as Error).message, code);
      return;
    }
    this.chunks.length = 0;
    this.ondata(null, new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength), true);
  }

  private fail(reason: string, code: number): void {
    const error = Object.assign(new Error(`${this.name}: ${reason}`), { code }) as FlateError;
    this.ondata(error, new Uint8Array(0), true);
  }
}

/**
 * fflate's streaming reader walks local headers and would take a truncated archive for a
 * short one, so the file is first checked to start like a zip and to end with the
 * end-of-central-directory record a complete archive always has. Returns the offset at
 * which the entries end.
 */
async function checkZip(file: string, label: string): Promise<number> {
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
    let end = -1;
    for (let i = length - 22; i >= 0 && end === -1; i--) if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) end = i;
    if (end === -1) throw new VulnDbError(`${label} is truncated or corrupt (no end of central directory)`);
    // Where the entries stop and the central directory starts (0xffffffff: see the ZIP64 record).
    const directory = tail.readUInt32LE(end + 16);
    return directory !== 0xffffffff && directory <= size ? directory : size;
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onJson` for every `.json` entry of a zip on disk, reading it in chunks: only the
 * entry being inflated is in memory, however large the archive. Entries that are not valid
 * JSON, or larger than `maxEntryBytes` (compressed or not; the rest of such an entry is
 * never held), are passed to `onBadEntry` rather than failing the whole archive.
 */
export async function forEachJsonEntry(
  file: string,
  label: string,
  onJson: (name: string, value: unknown) => void,
  onBadEntry: (name: string, reason: string) => void,
  maxEntryBytes = MAX_ENTRY_BYTES,
): Promise<number> {
  // The streaming reader needs only the entries; the directory after them it would scan byte by byte.
  const entriesEnd = await checkZip(file, label);
  let entries = 0;
  let failure: Error | undefined;
  const unzip = new Unzip((entry: UnzipFile) => {
    if (!entry.name.endsWith('.json')) return;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooLarge = false;
    entry.ondata = (error, data, final) => {
      if (error && error.code !== TOO_LARGE) {
        failure ??= new VulnDbError(`${label}: entry ${entry.name} is corrupt (${error.message})`);
        return;
      }
      size += data.length;
      tooLarge ||= error !== null || size > maxEntryBytes;
      if (tooLarge) chunks.length = 0;
      else chunks.push(data);
      if (!final) return;
      entries++;
      if (tooLarge) {
        onBadEntry(entry.name, `larger than ${maxEntryBytes} bytes; skipped`);
        return;
      }
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
  unzip.register(class extends WholeEntryInflate {
    constructor(name: string) {
      super(name, maxEntryBytes);
    }
  });
  unzip.register(UnzipPassThrough);
  try {
    for await (const chunk of entriesEnd === 0 ? [] : createReadStream(file, { highWaterMark: 1 << 20, end: entriesEnd - 1 })) {
      const buffer = chunk as Buffer;
      // fflate recurses once per entry completed within a pushed chunk; small slices keep
      // that depth bounded for archives of many tiny records.
      for (let at = 0; at < buffer.length; at += PUSH_SLICE) {
        unzip.push(buffer.subarray(at, at + PUSH_SLICE));
        if (failure) throw failure;
      }
    }
    unzip.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof VulnDbError) throw error;
    throw new VulnDbError(`${label} is not a readable zip archive (${(error as Error).message})`);
  }
  if (failure) throw failure;
  return entries;
}
