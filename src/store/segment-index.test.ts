import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexLines, readSegmentIndex, writeSegmentIndex } from './segment-index.ts';

describe('segment index', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'segment-index-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A record as the journal writes it: meta, and a tab and a body when it has one. */
  function record(meta: object, body?: string): { data: Buffer; metaBytes: number } {
    const json = JSON.stringify(meta);
    return { data: Buffer.from(body === undefined ? `${json}\n` : `${json}\t${body}\n`), metaBytes: Buffer.byteLength(json) };
  }

  it('reads back every line, across chunk boundaries and past a line longer than a chunk, byte for byte', async () => {
    const lines = new IndexLines();
    const expected: { meta: object; body: { segment: number; offset: number; length: number } | null }[] = [];
    let offset = 0;
    // About 1.3 MB of lines: several chunks, one line of 300 KB, and non-ASCII text (multi-byte UTF-8).
    for (let n = 0; n < 4000; n++) {
      const meta = { t: 'accept', n, note: n === 1234 ? 'x'.repeat(300_000) : `zero\u200cwidth é ${'y'.repeat(n % 400)}` };
      const body = n % 3 === 0 ? undefined : `{"n":${n}}`;
      const { data, metaBytes } = record(meta, body);
      const ref = body === undefined ? null : { segment: 7, offset: offset + metaBytes + 1, length: Buffer.byteLength(body) };
      lines.add(data, 0, metaBytes, ref);
      expected.push({ meta, body: ref });
      offset += data.length;
    }
    expect(lines.chunks().length).toBeGreaterThan(3);
    const file = path.join(dir, 'seg.idx');
    await writeSegmentIndex(file, { segment: 7, bytes: offset, records: lines.count }, lines);
    expect(await readSegmentIndex(file, 7, offset)).toEqual(expected);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')).toHaveLength(4002);
  });

  it('takes a record from the middle of a buffer (replay hands it a whole segment)', async () => {
    const lines = new IndexLines();
    const segment = Buffer.from('{"t":"a"}\n{"t":"b"}\t{"x":1}\n');
    lines.add(segment, 0, 9, null);
    lines.add(segment, 10, 19, { segment: 1, offset: 20, length: 7 });
    expect(Buffer.concat(lines.chunks()).toString()).toBe('{"t":"a"}\n{"t":"b"}\t20 7\n');
  });
});
