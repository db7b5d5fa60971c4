import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { fileHandlePrototype } from '../../test/helpers/file-handle.ts';
import { isZeroFill, segmentRecords } from '../../test/helpers/journal-files.ts';
import { contentEnd, Journal } from './journal.ts';

let dir: string;
const segmentPath = (n: number) => path.join(dir, `${String(n).padStart(10, '0')}.jsonl`);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens a journal and returns it with the metas it replayed. */
async function openJournal(options: ConstructorParameters<typeof Journal>[1] = {}) {
  const journal = new Journal(dir, options);
  const replayed: unknown[] = [];
  const opened = await journal.open((meta) => replayed.push(meta));
  return { journal, replayed, discardedBytes: opened.discardedBytes };
}

async function appendAll(journal: Journal, metas: object[]): Promise<void> {
  await Promise.all(metas.map((meta) => journal.append(meta, JSON.stringify({ body: 'b'.repeat(40) })).durable));
}

const records = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ n: from + k }));

it('writes records into a zero-filled runway, and cuts a segment to its records when it is sealed', async () => {
  const { journal } = await openJournal({ maxSegmentBytes: 2048, preallocationStep: 1024 });
  expect((await stat(segmentPath(1))).size).toBe(1024);
  await appendAll(journal, records(0, 3));
  const first = await readFile(segmentPath(1));
  const end = contentEnd(first, 0);
  expect(first.length).toBeGreaterThan(end);
  expect(first.subarray(end).every((byte) => byte === 0)).toBe(true);
  expect(first.subarray(0, end).toString('utf8').split('\n').filter(Boolean)).toHaveLength(3);

  for (let n = 3; n < 60; n++) await appendAll(journal, [{ n }]);
  await journal.close();
  const sealed = await readFile(segmentPath(1));
  expect(sealed.includes(0)).toBe(false);
  expect(sealed.at(-1)).toBe(0x0a);
  expect((await openJournal({ maxSegmentBytes: 2048 })).replayed).toEqual(records(0, 60));
});

it('keeps the runway at most one step ahead of the records, renewing it as they reach it', async () => {
  const step = 512;
  const { journal } = await openJournal({ maxSegmentBytes: 64 * 1024, preallocationStep: step });
  for (let n = 0; n < 80; n++) {
    await appendAll(journal, [{ n }]);
    const data = await readFile(segmentPath(1));
    // Renewed once under half a step is left: never more than one and a half steps ahead.
    expect(data.length - contentEnd(data, 0)).toBeLessThanOrEqual(step + step / 2);
  }
  await journal.close();
  const data = await readFile(segmentPath(1));
  const end = contentEnd(data, 0);
  expect(end).toBeGreaterThan(8 * step);
  expect(data.length).toBeGreaterThan(end);
  expect((await openJournal({ maxSegmentBytes: 64 * 1024 })).replayed).toEqual(records(0, 80));
});

it('writes a record that reaches into a runway being renewed after the renewal, never under its zeros', async () => {
  const { journal } = await openJournal({ maxSegmentBytes: 64 * 1024, preallocationStep: 512 });
  const big = (n: number) => ({ n, pad: 'p'.repeat(700) });
  // Zeros land late, so a record written beside them would be overwritten.
  const prototype = await fileHandlePrototype();
  const write = prototype.write;
  prototype.write = async function (this: unknown, ...args: unknown[]) {
    const data = args[0];
    if (isZeroFill(data)) await new Promise((resolve) => setTimeout(resolve, 20));
    return write.apply(this, args);
  };
  try {
    // One at a time: each write starts while the renewal its predecessor set off is running,
    // and each record is longer than the stretch being renewed.
    for (let n = 0; n < 30; n++) await journal.append(big(n), JSON.stringify({ n })).durable;
    await journal.close();
  } finally {
    prototype.write = write;
  }
  expect((await openJournal({ maxSegmentBytes: 64 * 1024 })).replayed).toEqual(Array.from({ length: 30 }, (_, n) => big(n)));
});

it('discards a batch cut off by a power loss with a hole of zeros in it, records after the hole included', async () => {
  const { journal } = await openJournal();
  await appendAll(journal, records(0, 2));
  await journal.close();
  // What the disk may hold after a power cut in the middle of the next batch: its first
  // record's start, a page that never landed (zeros), then a later record of the batch.
  const at = (await segmentRecords(segmentPath(1))).length;
  const lost = Buffer.concat([Buffer.from('{"n":2}\t{"bo'), Buffer.alloc(100), Buffer.from('dy"}\n{"n":3}\n')]);
  const handle = await open(segmentPath(1), 'r+');
  await handle.write(lost, 0, lost.length, at);
  await handle.close();

  const reopened = await openJournal();
  expect(reopened.replayed).toEqual(records(0, 2));
  expect(reopened.discardedBytes).toBe(lost.length);
  expect((await segmentRecords(segmentPath(1))).length).toBe(at);
  await appendAll(reopened.journal, [{ n: 4 }]);
  await reopened.journal.close();
  expect((await openJournal()).replayed).toEqual([...records(0, 2), { n: 4 }]);
});

it('continues a segment written without a runway (by an earlier version), growing one after its records', async () => {
  await writeFile(segmentPath(1), '{"n":0}\n{"n":1}\t{"body":1}\n');
  const { journal, replayed, discardedBytes } = await openJournal({ preallocationStep: 4096 });
  expect(replayed).toEqual(records(0, 2));
  expect(discardedBytes).toBe(0);
  await appendAll(journal, [{ n: 2 }]);
  await journal.close();
  expect((await stat(segmentPath(1))).size).toBeGreaterThan(4096);
  expect((await openJournal()).replayed).toEqual(records(0, 3));
});

it('finds where content ends before any length of zeros', () => {
  const content = Buffer.from('{"n":0}\n');
  for (const zeros of [0, 1, 65_535, 65_536, 200_000]) {
    expect(contentEnd(Buffer.concat([content, Buffer.alloc(zeros)]), 0)).toBe(content.length);
  }
  expect(contentEnd(Buffer.alloc(10), 0)).toBe(0);
  expect(contentEnd(Buffer.alloc(10), 4)).toBe(4);
});
