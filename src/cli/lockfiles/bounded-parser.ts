import type { Worker } from 'node:worker_threads';
import type { ParsedFile } from '../../scan/deps/file-set.ts';
import { siblingEntry, startThread } from '../../worker-thread.ts';
import type { ParseReply } from './protocol.ts';

const ENTRY = siblingEntry(import.meta.url, 'thread');
const MB = 1024 * 1024;

export interface ParserBudget {
  /** Wall-clock time for one file of up to 1 MB; larger files get a second more per MB. */
  baseTimeMs: number;
  /** Old-generation heap of the parsing thread for a file of up to 1 MB; larger files get `heapMbPerMb` more per MB. */
  baseHeapMb: number;
  heapMbPerMb: number;
}

/**
 * The scan pool's per-file budgets (30 s, 256 MB), which the CLI stretches for the large
 * lockfiles it reads (up to 200 MB, where the server stops at 32 MB).
 */
export const CLI_PARSER_BUDGET: ParserBudget = { baseTimeMs: 30_000, baseHeapMb: 256, heapMbPerMb: 12 };

interface Running {
  worker: Worker;
  heapMb: number;
}

/**
 * Parses dependency files in a worker thread, each within a time and a heap budget, as the
 * server's scan pool does: a hostile file (a YAML lockfile whose one 500 kB line makes the
 * YAML library work for minutes or exhaust the heap) costs its budget and a notice, never
 * the whole scan or the machine. A thread over budget is stopped and the next file gets a
 * fresh one; a thread is started only for the first file, so a scan without lockfiles
 * starts none.
 */
export class BoundedLockfileParser {
  readonly #budget: ParserBudget;
  #thread: Running | undefined;
  #nextId = 0;

  constructor(budget: ParserBudget = CLI_PARSER_BUDGET) {
    this.#budget = budget;
  }

  async parse(path: string, content: string): Promise<ParsedFile> {
    const sizeMb = Math.max(0, Buffer.byteLength(content) / MB - 1);
    const timeMs = this.#budget.baseTimeMs + Math.ceil(sizeMb) * 1000;
    const heapMb = Math.ceil(this.#budget.baseHeapMb + sizeMb * this.#budget.heapMbPerMb);
    const thread = await this.#threadWith(heapMb);
    const id = this.#nextId++;
    return await new Promise<ParsedFile>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        thread.worker.off('message', onMessage);
        thread.worker.off('error', onError);
        thread.worker.off('exit', onExit);
      };
      const overBudget = (what: string) => {
        done();
        this.#thread = undefined;
        void thread.worker.terminate();
        resolve({ reason: `parsing it exceeded its ${what} and was stopped` });
      };
      const timer = setTimeout(() => overBudget(`time budget of ${Math.round(timeMs / 1000)} s`), timeMs);
      const onMessage = (reply: ParseReply) => {
        if (reply.id !== id) return;
        done();
        if ('failure' in reply) reject(new Error(`lockfile thread failed on ${path}: ${reply.failure}`));
        else resolve(reply.result);
      };
      const onError = (error: Error & { code?: string }) => {
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') return overBudget(`memory budget of ${heapMb} MB`);
        done();
        this.#thread = undefined;
        reject(error);
      };
      const onExit = (code: number) => {
        done();
        this.#thread = undefined;
        reject(new Error(`lockfile thread exited with code ${code} while parsing ${path}`));
      };
      thread.worker.on('message', onMessage);
      thread.worker.on('error', onError);
      thread.worker.on('exit', onExit);
      thread.worker.postMessage({ id, path, content });
    });
  }

  async close(): Promise<void> {
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.worker.terminate();
  }

  /** The running thread if its heap suffices for this file, else a new one with the larger heap. */
  async #threadWith(heapMb: number): Promise<Running> {
    if (this.#thread && this.#thread.heapMb >= heapMb) return this.#thread;
    await this.close();
    const worker = startThread(ENTRY, { resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    // Between files the thread waits without holding the process open.
    worker.unref();
    this.#thread = { worker, heapMb };
    return this.#thread;
  }
}
