// Child process for src/store/data-dir-lock.test.ts. Reads commands on stdin, one a line:
//   lock <data|vulndb> <dir>   try to take the lock; answers `won` or `lost <error name>`
//   release                    release what it holds; answers `released`
// Loading the module before the first command lets the parent start every attempt at once.
import { createInterface } from 'node:readline';
import { lockDataDir } from '../../src/store/data-dir-lock.ts';
import { acquireLock } from '../../src/vulndb/store.ts';

let release: (() => Promise<void>) | null = null;

for await (const line of createInterface({ input: process.stdin })) {
  const [command, kind, dir] = line.split(' ');
  if (command === 'lock' && dir) {
    try {
      release = await (kind === 'vulndb' ? acquireLock(dir) : lockDataDir(dir));
      process.stdout.write('won\n');
    } catch (err) {
      process.stdout.write(`lost ${(err as Error).name}\n`);
    }
  } else if (command === 'release') {
    await release?.();
    release = null;
    process.stdout.write('released\n');
  }
}
