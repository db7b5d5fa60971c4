import type { Worker } from 'node:worker_threads';
import type { RepoConfigFiles } from '../../scan/repo-config/index.ts';
import type { FileScanPart } from '../../scan/scan-files.ts';
import type { BatchCounts, BatchFile } from './batch.ts';
import type { BatchReply, BatchTask, ThreadData } from './protocol.ts';
import { siblingEntry, startThread } from '../../worker-thread.ts';

const ENTRY = siblingEntry(import.meta.url, 'thread');

export interface ScanRoot {
  id: number;
  config: RepoConfigFiles;
}

export type BatchResult = { part: FileScanPart } & BatchCounts;

interface Thread {
  worker: Worker;
  /** Roots whose settings this thread has been sent. */
  roots: Set<number>;
  busy: boolean;
}

interface Pending {
  task: BatchTask;
  rootConfig: RepoConfigFiles;
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

/**
 * Worker threads that scan batches of files, started as work arrives up to `size`. Each
 * thread takes one batch at a time from a shared queue, so a thread that drew large files
 * does not hold up the others.
 */
export class ScanPool {
  readonly #size: number;
  readonly #data: ThreadData;
  readonly #threads: Thread[] = [];
  readonly #queue: Pending[] = [];
  readonly #running = new Map<number, { thread: Thread; pending: Pending }>();
  #nextId = 0;
  #failure: Error | undefined;

  /** `fingerprintKey`: the key the main thread scans under, so each thread honours keyed ignore entries alike. */
  constructor(size: number, fingerprintKey: Buffer | undefined) {
    this.#size = size;
    this.#data = { fingerprintKey: fingerprintKey?.toString('hex') };
  }

  scan(root: ScanRoot, files: BatchFile[]): Promise<BatchResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { id: this.#nextId++, root: root.id, files }, rootConfig: root.config, resolve, reject });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let thread = this.#threads.find((t) => !t.busy);
      if (!thread && this.#threads.length < this.#size) thread = this.#start();
      if (!thread) return;
      const pending = this.#queue.shift()!;
      const task = thread.roots.has(pending.task.root) ? pending.task : { ...pending.task, config: pending.rootConfig };
      thread.roots.add(task.root);
      thread.busy = true;
      this.#running.set(task.id, { thread, pending });
      thread.worker.postMessage(task);
    }
  }

  #start(): Thread {
    const thread: Thread = { worker: startThread(ENTRY, { workerData: this.#data }), roots: new Set(), busy: false };
    thread.worker.on('message', (reply: BatchReply) => {
      const running = this.#running.get(reply.id);
      if (!running) return;
      this.#running.delete(reply.id);
      thread.busy = false;
      if ('error' in reply) running.pending.reject(new Error(`scan thread failed: ${reply.error}`));
      else running.pending.resolve({ part: reply.part, files: reply.files, bytes: reply.bytes, textBytes: reply.textBytes });
      this.#dispatch();
    });
    // A thread that dies (out of memory, a crash in a dependency) fails the whole scan:
    // a partial result would pass as a clean one.
    thread.worker.on('error', (error) => this.#fail(error));
    thread.worker.on('exit', (code) => {
      if (this.#running.size > 0 || this.#queue.length > 0) this.#fail(new Error(`scan thread exited with code ${code}`));
    });
    this.#threads.push(thread);
    return thread;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const { pending } of this.#running.values()) pending.reject(this.#failure);
    for (const pending of this.#queue.splice(0)) pending.reject(this.#failure);
    this.#running.clear();
  }
}
