import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './fsync.ts';
import { IndexLines, readSegmentIndex, writeSegmentIndex } from './segment-index.ts';

/**
 * An append-only, fsync'd log of JSON records, split into numbered segment files.
 *
 * One line per record: `<meta JSON>` or `<meta JSON>\t<body JSON>`, ending in `\n`.
 * JSON.stringify never emits a raw tab or newline, so the first tab splits meta from body
 * and the newline ends the record. Replay parses only the meta; a body (a job payload, often
 * 10-30 KB) stays on disk and is read back by position when asked for, so memory holds an
 * index, not the data.
 *
 * Durability: append() returns a promise that resolves once the record is written and
 * synced. Appends made while a sync is in flight are written together by the next one
 * (group commit), so many concurrent writers share one sync. Segments are opened O_DSYNC
 * where the platform has it, so a batch is one write() that returns once the data is on
 * disk, as write() + fdatasync() would, in one trip to the thread pool instead of two.
 *
 * Preallocation: the segment being written is kept zero-filled ahead of its last record,
 * and records are written into it by position. The runway starts at 64 KB and doubles with
 * the segment up to a megabyte at a time; it is renewed beside the writes (never in their
 * way) once records reach its middle. Overwriting blocks that already exist
 * changes no file metadata, so a synced write has only its data to flush; an append also
 * has to commit the file's new size and blocks through the filesystem's journal. On ext4
 * this halved the system time of each O_DSYNC write and cut its latency by a third (see
 * PostgreSQL's zero-filled WAL segments for the same reason). A segment is cut to the
 * length of its records when it is sealed, so only the one being written has a zero tail.
 *
 * Crash safety: a killed process can leave at most a torn last record (no newline, or
 * unparsable bytes at the end), which was never acknowledged; open() zeroes it, where the
 * runway continues. JSON lines never hold a NUL byte, so an unreadable record holding one
 * in the last segment is a write that had not reached the disk when power was lost (the
 * runway's zeros showing through), and whatever follows it belongs to that same
 * unacknowledged batch: each batch is written only once the one before it is on disk.
 * Any other unreadable record with readable ones after it is not a torn write but damage,
 * and open() refuses with the file and offset rather than silently dropping acknowledged
 * records.
 *
 * Sealed segments are never rewritten, so a record's position never changes. Each sealed
 * segment gets an index file (segment-index.ts) so that open() need not read payloads.
 *
 * A write or sync failure poisons the journal: what reached the disk is unknown (retrying
 * fsync after a failure can falsely succeed), so every later call fails until reopened.
 */

export interface BodyRef {
  segment: number;
  offset: number;
  length: number;
}

/** `segment` is the number of the segment file holding the record. */
export type ReplayHandler = (meta: unknown, body: BodyRef | null, segment: number) => void;

export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

const DEFAULT_MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
/** A new segment's runway: what a store that writes little ever preallocates. */
const FIRST_RUNWAY = 64 * 1024;
/** The most a runway grows by at once. */
const PREALLOCATION_STEP = 1024 * 1024;

const SEGMENT_FILE = /^(\d{10})\.jsonl$/;

/** O_DSYNC where it exists (Linux, macOS); elsewhere each batch is followed by fdatasync. */
const DSYNC = constants.O_DSYNC ?? 0;
/** Writes go by position (into the runway), never O_APPEND. */
const WRITE = constants.O_WRONLY | DSYNC;
const CREATE = WRITE | constants.O_CREAT | constants.O_EXCL;
const NEWLINE = 0x0a;
const TAB = 0x09;
const NUL = 0x00;

/**
 * The segment being written: `end` is where its last written record ends, `zeroed` how far
 * the file reaches (its zero-filled runway included).
 */
interface Writer {
  segment: number;
  handle: FileHandle;
  end: number;
  zeroed: number;
}

interface Batch {
  /** `offset`: where in its segment the record goes. */
  writes: { segment: number; offset: number; data: Buffer }[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Journal {
  readonly #dir: string;
  readonly #maxSegmentBytes: number;
  #state: 'new' | 'open' | 'closed' = 'new';
  /** Where the next record goes, counting records appended but not yet written. */
  #planSegment = 0;
  #planOffset = 0;
  /** The oldest segment still on disk (older ones were dropped). */
  #firstSegment = 1;
  #writer: Writer | null = null;
  readonly #preallocationStep: number;
  /** Zeros being written from `from` on in the writer's segment, beside the record writes. */
  #extension: { segment: number; from: number; done: Promise<void> } | null = null;
  /** Index lines of the segment being planned, and of planned-sealed segments not yet written. */
  #indexLines = new IndexLines();
  #sealed = new Map<number, { bytes: number; lines: IndexLines }>();
  #readers = new Map<number, Promise<FileHandle>>();
  /** Reads and index writes in progress; close() waits for them. */
  #background = new Set<Promise<unknown>>();
  #batch: Batch | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #failure: Error | null = null;

  constructor(dir: string, options: { maxSegmentBytes?: number; preallocationStep?: number } = {}) {
    this.#dir = dir;
    this.#maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    // Small segments (tests) get a runway of their own size, not a megabyte each.
    this.#preallocationStep = Math.min(options.preallocationStep ?? PREALLOCATION_STEP, this.#maxSegmentBytes);
  }

  /** Replays every record in order through `onRecord`; returns how many torn bytes were cut off. */
  async open(onRecord: ReplayHandler): Promise<{ discardedBytes: number }> {
    if (this.#state !== 'new') throw new Error('journal can only be opened once');
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const segments = (await readdir(this.#dir))
      .map((name) => SEGMENT_FILE.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);

    let discardedBytes = 0;
    this.#firstSegment = segments[0] ?? 1;
    for (const [i, segment] of segments.entries()) {
      if (i > 0 && segment !== segments[i - 1]! + 1) {
        throw new JournalCorruptError(`${this.#dir}: segment ${this.#name(segments[i - 1]! + 1)} is missing`);
      }
      const file = this.#path(segment);
      const isLast = i === segments.length - 1;
      if (!isLast) {
        const indexed = await readSegmentIndex(this.#indexPath(segment), segment, (await stat(file)).size);
        if (indexed) {
          for (const [k, record] of indexed.entries()) replayOne(`${file}: record #${k + 1} (read via its index)`, onRecord, record.meta, record.body, segment);
          continue;
        }
      }
      const data = await readFile(file);
      const lines = new IndexLines();
      const valid = replaySegment(file, segment, data, onRecord, lines);
      if (valid < data.length && !isLast) throw new JournalCorruptError(`${file}: unreadable record at byte ${valid} in a sealed segment`);
      if (isLast) {
        const handle = await open(file, WRITE);
        this.#writer = { segment, handle, end: valid, zeroed: data.length };
        // What follows the last readable record is runway, and a torn record becomes runway too.
        const torn = contentEnd(data, valid) - valid;
        if (torn > 0) await this.#zeroFill(handle, valid, torn);
        discardedBytes = torn;
        this.#planSegment = segment;
        this.#planOffset = valid;
        this.#indexLines = lines;
      } else {
        // The index was missing or stale (e.g. a crash right after rollover): rebuild it.
        await this.#writeIndex(segment, data.length, lines);
      }
    }
    if (!this.#writer) {
      this.#planSegment = 1;
      this.#writer = await this.#createSegment(1);
    }
    this.#state = 'open';
    return { discardedBytes };
  }

  /**
   * Appends one record. The caller's in-memory state may change right away (records are
   * ordered by call order), but nothing may be acknowledged before `durable` resolves.
   * `body` is JSON text; its position is returned for readBody().
   */
  append(meta: object, body?: string): { body: BodyRef | null; segment: number; durable: Promise<void> } {
    if (this.#state !== 'open') throw new Error(`journal is ${this.#state === 'new' ? 'not open' : 'closed'}`);
    if (this.#failure) throw this.#failure;
    const metaJson = JSON.stringify(meta);
    if (body !== undefined && body.includes('\n')) throw new Error('journal record body must be single-line JSON');
    const data = Buffer.from(body === undefined ? `${metaJson}\n` : `${metaJson}\t${body}\n`, 'utf8');
    if (this.#planOffset > 0 && this.#planOffset + data.length > this.#maxSegmentBytes) {
      this.#sealed.set(this.#planSegment, { bytes: this.#planOffset, lines: this.#indexLines });
      this.#indexLines = new IndexLines();
      this.#planSegment += 1;
      this.#planOffset = 0;
    }
    const offset = this.#planOffset;
    const metaBytes = Buffer.byteLength(metaJson);
    const ref = body === undefined
      ? null
      : { segment: this.#planSegment, offset: this.#planOffset + metaBytes + 1, length: data.length - metaBytes - 2 };
    this.#planOffset += data.length;
    this.#indexLines.add(data, 0, metaBytes, ref);
    const batch = this.#batch ?? this.#startBatch();
    batch.writes.push({ segment: this.#planSegment, offset, data });
    return { body: ref, segment: this.#planSegment, durable: batch.done };
  }

  /** Resolves once everything appended so far is durable. */
  barrier(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#batch) return this.#batch.done;
    return this.#flushing.then(() => {
      if (this.#failure) throw this.#failure;
    });
  }

  /** Reads a record body back. Only call it for a record whose append is durable. */
  readBody(ref: BodyRef): Promise<string> {
    if (this.#state !== 'open') return Promise.reject(new Error('journal is closed'));
    return this.#track(this.#readBody(ref));
  }

  /** The oldest segment on disk, and the one being written (every one before it is sealed). */
  get segments(): { first: number; writing: number } {
    return { first: this.#firstSegment, writing: this.#writer?.segment ?? this.#planSegment };
  }

  /**
   * Deletes the oldest segment, which must be sealed and hold nothing its owner still
   * needs. Only ever the oldest, so the segments left stay contiguous and a gap still means
   * damage to open(). Its index goes first: a crash in between leaves a segment without an
   * index, which open() rebuilds, never an index without its segment.
   */
  async dropOldest(): Promise<void> {
    const segment = this.#firstSegment;
    if (this.#state !== 'open' || this.#writer === null || segment >= this.#writer.segment) throw new Error(`segment ${segment} is not sealed`);
    this.#firstSegment = segment + 1;
    // Reads already in flight keep the file open; unlinking does not disturb them.
    await Promise.allSettled([...this.#background]);
    const reader = this.#readers.get(segment);
    this.#readers.delete(segment);
    await rm(this.#indexPath(segment), { force: true });
    await rm(this.#path(segment), { force: true });
    if (reader) await reader.then((h) => h.close()).catch(() => undefined);
  }

  /** Waits for pending writes and reads, then releases every file handle. */
  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    await this.#flushing;
    await Promise.allSettled([...this.#background]);
    const handles = await Promise.allSettled([...this.#readers.values()]);
    for (const h of handles) if (h.status === 'fulfilled') await h.value.close();
    this.#readers.clear();
    await this.#writer?.handle.close();
    this.#writer = null;
    if (this.#failure) throw this.#failure;
  }

  #startBatch(): Batch {
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await `done`; this only stops an unobserved rejection from crashing the process.
    done.catch(() => undefined);
    const batch: Batch = { writes: [], done, resolve, reject };
    this.#batch = batch;
    // Chained behind the flush in progress: everything appended until it finishes joins this batch.
    this.#flushing = this.#flushing.then(() => this.#flush(batch));
    return batch;
  }

  async #flush(batch: Batch): Promise<void> {
    if (this.#batch === batch) this.#batch = null;
    if (this.#failure) return batch.reject(this.#failure);
    try {
      await this.#write(batch.writes);
      batch.resolve();
      this.#extendRunway();
    } catch (err) {
      this.#failure = new Error(`journal write failed; reopen the store to recover: ${(err as Error).message}`, { cause: err });
      batch.reject(this.#failure);
    }
  }

  /**
   * Zero-fills the next stretch of the segment being written once the records planned for
   * it (written or not) reach the middle of the last stretch. It runs beside the record
   * writes: it starts past every record planned so far, and a later record that reaches into
   * it waits for it (#write). Nothing beyond the segment's size limit: it is sealed there.
   * A failure is left alone: records then extend the file themselves, as appends do, and a
   * real disk fault surfaces in their own writes.
   */
  #extendRunway(): void {
    const writer = this.#writer;
    if (!writer || this.#extension || writer.segment !== this.#planSegment || writer.zeroed >= this.#maxSegmentBytes) return;
    const stride = Math.min(Math.max(writer.zeroed, this.#firstRunway), this.#preallocationStep);
    if (this.#planOffset + stride / 2 < writer.zeroed) return;
    const from = Math.max(writer.zeroed, this.#planOffset);
    const to = Math.min(from + stride, this.#maxSegmentBytes);
    if (to <= from) return;
    const done = this.#zeroFill(writer.handle, from, to - from).then(
      () => {
        writer.zeroed = Math.max(writer.zeroed, to);
      },
      () => undefined,
    );
    this.#extension = { segment: writer.segment, from, done };
    void this.#track(done).finally(() => {
      this.#extension = null;
    });
  }

  get #firstRunway(): number {
    return Math.min(FIRST_RUNWAY, this.#preallocationStep);
  }

  /** Writes `length` zero bytes at `position` and makes them durable. */
  async #zeroFill(handle: FileHandle, position: number, length: number): Promise<void> {
    const zeros = zeroBuffer();
    for (let done = 0; done < length; ) {
      const n = Math.min(zeros.length, length - done);
      done += (await handle.write(zeros, 0, n, position + done)).bytesWritten;
    }
    if (DSYNC === 0) await handle.datasync();
  }

  async #write(writes: Batch['writes']): Promise<void> {
    let i = 0;
    while (i < writes.length) {
      const { segment, offset } = writes[i]!;
      const chunks: Buffer[] = [];
      while (i < writes.length && writes[i]!.segment === segment) chunks.push(writes[i++]!.data);
      const writer = await this.#writerFor(segment);
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const extension = this.#extension;
      if (extension?.segment === segment && offset + data.length > extension.from) await extension.done;
      let written = 0;
      while (written < data.length) {
        written += (await writer.handle.write(data, written, data.length - written, offset + written)).bytesWritten;
      }
      if (DSYNC === 0) await writer.handle.datasync();
      writer.end = offset + data.length;
      writer.zeroed = Math.max(writer.zeroed, writer.end);
    }
  }

  async #writerFor(segment: number): Promise<Writer> {
    const current = this.#writer!;
    if (current.segment === segment) return current;
    await this.#extension?.done;
    // Rolling over: the old segment was synced after its last write and is now sealed,
    // cut to its records' length (its runway goes) before the next segment exists.
    await current.handle.truncate(current.end);
    await current.handle.datasync();
    await current.handle.close();
    this.#writer = null;
    const sealed = this.#sealed.get(current.segment);
    this.#sealed.delete(current.segment);
    if (sealed) void this.#track(this.#writeIndex(current.segment, sealed.bytes, sealed.lines));
    this.#writer = await this.#createSegment(segment);
    return this.#writer;
  }

  /** Best effort: the index only speeds up open(), which falls back to the segment without it. */
  async #writeIndex(segment: number, bytes: number, lines: IndexLines): Promise<void> {
    try {
      await writeSegmentIndex(this.#indexPath(segment), { segment, bytes, records: lines.count }, lines);
    } catch {
      // Nothing to do: the next open() replays the segment itself and tries again.
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work)).catch(() => undefined);
    return work;
  }

  /** A new segment file with its first stretch of runway, durable with its directory entry. */
  async #createSegment(segment: number): Promise<Writer> {
    const handle = await open(this.#path(segment), CREATE, 0o600);
    await this.#zeroFill(handle, 0, this.#firstRunway);
    await fsyncDir(this.#dir);
    return { segment, handle, end: 0, zeroed: this.#firstRunway };
  }

  async #readBody(ref: BodyRef): Promise<string> {
    let reader = this.#readers.get(ref.segment);
    if (!reader) {
      reader = open(this.#path(ref.segment), 'r');
      this.#readers.set(ref.segment, reader);
      reader.catch(() => this.#readers.delete(ref.segment));
    }
    const handle = await reader;
    const buffer = Buffer.allocUnsafe(ref.length);
    const { bytesRead } = await handle.read(buffer, 0, ref.length, ref.offset);
    if (bytesRead !== ref.length) {
      throw new JournalCorruptError(`${this.#path(ref.segment)}: record body at byte ${ref.offset} is cut short`);
    }
    return buffer.toString('utf8');
  }

  #name(segment: number): string {
    return `${String(segment).padStart(10, '0')}.jsonl`;
  }

  #path(segment: number): string {
    return path.join(this.#dir, this.#name(segment));
  }

  #indexPath(segment: number): string {
    return this.#path(segment).replace(/\.jsonl$/, '.idx');
  }
}

/**
 * Feeds each complete record to `onRecord` and collects its index line; returns the length
 * of the readable prefix.
 */
function replaySegment(file: string, segment: number, data: Buffer, onRecord: ReplayHandler, indexLines: IndexLines): number {
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf(NEWLINE, pos);
    // A NUL anywhere in a line (its body included, which replay does not parse) is runway
    // showing through a write that never landed: the batch it belongs to is torn, not damaged.
    if (end === -1 || data.subarray(pos, end).includes(NUL)) return pos;
    const meta = parseMeta(data, pos, end);
    if (meta === undefined) {
      if (hasReadableRecordAfter(data, end + 1)) {
        throw new JournalCorruptError(
          `${file}: unreadable record at byte ${pos} is followed by readable ones; ` +
            'this is damage, not a torn write, so nothing was discarded',
        );
      }
      return pos;
    }
    const body = meta.tab === -1 ? null : { segment, offset: meta.tab + 1, length: end - meta.tab - 1 };
    replayOne(`${file}: record at byte ${pos}`, onRecord, meta.value, body, segment);
    indexLines.add(data, pos, meta.tab === -1 ? end : meta.tab, body);
    pos = end + 1;
  }
  return pos;
}

function replayOne(location: string, onRecord: ReplayHandler, meta: unknown, body: BodyRef | null, segment: number): void {
  try {
    onRecord(meta, body, segment);
  } catch (err) {
    throw new JournalCorruptError(`${location}: ${(err as Error).message}`);
  }
}

/** The record's meta and the absolute position of the tab before its body (-1 if none). */
function parseMeta(data: Buffer, start: number, end: number): { value: object; tab: number } | undefined {
  const relative = data.subarray(start, end).indexOf(TAB);
  const tab = relative === -1 ? -1 : start + relative;
  const json = data.toString('utf8', start, tab === -1 ? end : tab);
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? { value, tab } : undefined;
  } catch {
    return undefined;
  }
}

function hasReadableRecordAfter(data: Buffer, from: number): boolean {
  let pos = from;
  while (pos < data.length) {
    const end = data.indexOf(NEWLINE, pos);
    if (end === -1) return false;
    if (parseMeta(data, pos, end)) return true;
    pos = end + 1;
  }
  return false;
}

let zeros: Buffer | undefined;

/** One read-only megabyte of zeros for every journal: zeroing a fresh one per renewal cost the main thread. */
function zeroBuffer(): Buffer {
  return (zeros ??= Buffer.alloc(PREALLOCATION_STEP));
}

/** Where the last non-zero byte at or after `from` ends: the runway's zeros are not content. */
export function contentEnd(data: Buffer, from: number): number {
  const page = zeroBuffer().subarray(0, 64 * 1024);
  let end = data.length;
  while (end - from >= page.length && data.subarray(end - page.length, end).equals(page)) end -= page.length;
  while (end > from && data[end - 1] === NUL) end -= 1;
  return end;
}
