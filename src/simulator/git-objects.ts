import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * Object reads through one long-running `git cat-file --batch` per repository: a file read
 * or a commit lookup is a line written to its stdin instead of a new git process. The
 * simulator serves thousands of file reads to a backfill, and on a loaded machine a process
 * start costs more than the read.
 *
 * Requests are answered in order, so each waits in a FIFO for its answer: `<hash> <type>
 * <size>\n<content>\n`, or `<name> missing\n` (also `ambiguous`).
 */

export interface GitObject {
  hash: string;
  type: string;
  content: Buffer;
}

interface Waiting {
  resolve: (value: GitObject | null) => void;
  reject: (error: Error) => void;
}

export class ObjectReader {
  #child: ChildProcessWithoutNullStreams | null = null;
  readonly #waiting: Waiting[] = [];
  #buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly start: () => ChildProcessWithoutNullStreams,
  ) {}

  /** The object `name` (any revision syntax git accepts, e.g. `hash:path`, `rev^{commit}`); null when it does not exist. */
  read(name: string): Promise<GitObject | null> {
    if (/[\n\r]/.test(name)) return Promise.resolve(null);
    const child = this.#process();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      child.stdin.write(`${name}\n`);
    });
  }

  close(): void {
    this.#child?.kill();
    this.#child = null;
  }

  #process(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = this.start();
    child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    const fail = (error: Error) => {
      if (this.#child === child) this.#child = null;
      this.#buffer = Buffer.alloc(0);
      for (const waiting of this.#waiting.splice(0)) waiting.reject(error);
    };
    child.on('error', fail);
    child.on('close', () => fail(new Error('git cat-file --batch ended')));
    child.stdin.on('error', () => undefined);
    // Idle readers never keep the process alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
    this.#child = child;
    return child;
  }

  #drain(): void {
    for (;;) {
      const end = this.#buffer.indexOf(0x0a);
      if (end === -1) return;
      const header = this.#buffer.subarray(0, end).toString('utf8');
      const missing = / (missing|ambiguous)$/.test(header);
      if (missing) {
        this.#buffer = this.#buffer.subarray(end + 1);
        this.#waiting.shift()?.resolve(null);
        continue;
      }
      const [hash = '', type = '', size = '0'] = header.split(' ');
      const length = Number(size);
      if (this.#buffer.length < end + 1 + length + 1) return;
      const content = Buffer.from(this.#buffer.subarray(end + 1, end + 1 + length));
      this.#buffer = this.#buffer.subarray(end + 1 + length + 1);
      this.#waiting.shift()?.resolve({ hash, type, content });
    }
  }
}

/** Starts `git cat-file --batch` in `cwd` with the environment the simulator's git runs with. */
export function batchProcess(cwd: string, env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn('git', ['cat-file', '--batch'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
}
