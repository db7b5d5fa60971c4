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

export function indexLine(metaJson: string, body: BodyRef | null): string {
  return body === null ? metaJson : `${metaJson}\t${body.offset} ${body.length}`;
}

/**
 * Lines encoded and written at a time. A full segment's index is megabytes; joined and encoded
 * in one go it held the event loop for tens of milliseconds (150 ms under load), which every
 * webhook acknowledgement waiting behind it paid for.
 */
const LINES_PER_WRITE = 256;

export async function writeSegmentIndex(file: string, header: Header, lines: string[]): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    // writeFile on a handle writes at its position, so the chunks follow one another.
    await handle.writeFile(`${JSON.stringify(header)}\n`, 'utf8');
    for (let i = 0; i < lines.length; i += LINES_PER_WRITE) {
      await handle.writeFile(`${lines.slice(i, i + LINES_PER_WRITE).join('\n')}\n`, 'utf8');
    }
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
