import { open, readFile, rename } from 'node:fs/promises';
import type { BodyRef } from './journal.ts';

/**
 * A sealed journal segment's records without their bodies, so that open() reads a few
 * hundred bytes per record instead of every job payload (10-30 KB each).
 *
 *   line 1:  {"segment":N,"bytes":<segment size>,"records":<count>}
 *   then:    <meta JSON>                          a record without a body
 *            <meta JSON>\t<body offset> <length>  a record with one
 *
 * The index is derived data. It is written once, after its segment is sealed, and trusted
 * only if it is complete and the segment still has the size it describes; otherwise the
 * caller replays the segment itself and writes a fresh index.
 */

export interface IndexedRecord {
  meta: unknown;
  body: BodyRef | null;
}

interface Header {
  segment: number;
  bytes: number;
  records: number;
}

/** Bytes per chunk of IndexLines; a longer line gets a chunk of its own size. */
const CHUNK_BYTES = 256 * 1024;

/**
 * The index lines of a segment still being written, kept as bytes in chunks outside the JS
 * heap until the segment is sealed. As one string per record they were most of what an
 * acknowledgement left live on the heap: every young-generation collection copied them and
 * then moved them to the old generation, and sealing a segment had to encode megabytes of
 * them again. As bytes they cost a copy of the meta each, and writing the index is a write.
 */
export class IndexLines {
  readonly #filled: Buffer[] = [];
  #chunk: Buffer | null = null;
  #used = 0;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** One record: its meta JSON (`meta[start, end)`, UTF-8) and where its body is, if it has one. */
  add(meta: Buffer, start: number, end: number, body: BodyRef | null): void {
    const suffix = body === null ? '\n' : `\t${body.offset} ${body.length}\n`;
    const length = end - start + suffix.length;
    if (this.#chunk === null || this.#used + length > this.#chunk.length) {
      this.#seal();
      this.#chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length));
    }
    meta.copy(this.#chunk, this.#used, start, end);
    this.#used += end - start;
    this.#used += this.#chunk.write(suffix, this.#used, 'latin1');
    this.#count++;
  }

  /** The bytes so far, each line ending in a newline. */
  chunks(): Buffer[] {
    return this.#chunk === null || this.#used === 0 ? this.#filled : [...this.#filled, this.#chunk.subarray(0, this.#used)];
  }

  #seal(): void {
    if (this.#chunk !== null && this.#used > 0) this.#filled.push(this.#chunk.subarray(0, this.#used));
    this.#chunk = null;
    this.#used = 0;
  }
}

export async function writeSegmentIndex(file: string, header: Header, lines: IndexLines): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    // writeFile on a handle writes at its position, so the chunks follow one another.
    await handle.writeFile(`${JSON.stringify(header)}\n`, 'utf8');
    for (const chunk of lines.chunks()) await handle.writeFile(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

/** The index's records, or null when there is no usable index for this segment. */
export async function readSegmentIndex(file: string, segment: number, segmentBytes: number): Promise<IndexedRecord[] | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  if (lines.pop() !== '') return null;
  const header = parseJson(lines[0] ?? '') as Partial<Header> | undefined;
  if (header?.segment !== segment || header.bytes !== segmentBytes || header.records !== lines.length - 1) return null;

  const records: IndexedRecord[] = new Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const tab = line.indexOf('\t');
    const meta = parseJson(tab === -1 ? line : line.slice(0, tab));
    if (typeof meta !== 'object' || meta === null) return null;
    let body: BodyRef | null = null;
    if (tab !== -1) {
      const [offset, length] = line.slice(tab + 1).split(' ').map(Number);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset! < 0 || offset! + length! > segmentBytes) return null;
      body = { segment, offset: offset!, length: length! };
    }
    records[i - 1] = { meta, body };
  }
  return records;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
