import { describe, expect, it } from 'vitest';
import { Progress } from './progress.ts';

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (text: string) => writes.push(text) }, writes };
}

describe('Progress', () => {
  it('draws on a terminal at most every 100 ms and erases itself at the end', () => {
    const { stream, writes } = terminal(true);
    let now = 1_000;
    const progress = new Progress(stream, () => now);
    progress.fileScanned(1024 * 1024);
    progress.fileScanned(1024 * 1024);
    now += 99;
    progress.fileScanned(10);
    now += 1;
    progress.fileScanned(10);
    progress.done();
    expect(writes).toEqual(['\r\x1b[2KScanning: 1 file, 1.0 MB', '\r\x1b[2KScanning: 4 files, 2.0 MB', '\r\x1b[2K']);
    expect(progress.files).toBe(4);
  });

  it('writes nothing when the stream is not a terminal, but still counts', () => {
    const { stream, writes } = terminal(false);
    const progress = new Progress(stream, () => 0);
    progress.fileScanned(5);
    progress.done();
    expect(writes).toEqual([]);
    expect(progress.bytes).toBe(5);
  });
});
