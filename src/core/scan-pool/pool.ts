import { availableParallelism } from 'node:os';
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { Logger } from '../../log.ts';
import { siblingEntry, startThread } from '../../worker-thread.ts';
import type { DiffScanResult } from '../diff-scan.ts';
import type { DependencySetParse, DiffScanRequest, FilesScanResult, LockfileParse, Task, TaskMessage, TaskValue, ThreadMessage, TreeFile } from './protocol.ts';

/**
 * Scan threads: the CPU work of jobs (diff parsing, the secrets engine, lockfile parsing)
 * runs on a small pool of worker threads, each task within a time budget and each thread
 * within a heap budget. A task over its time is stopped by terminating its thread; a thread
 * that runs out of heap dies alone (V8 kills the isolate, not the process). Either way the
 * task fails with ScanBudgetExceeded, which the workflow turns into a visible "not fully
 * scanned" result instead of a retry, and a fresh thread takes the next task.
 *
 * The event loop that acknowledges webhooks and serves pages only relays the diff's bytes
 * (the thread pulls them, so a slow scan slows the download, not the process) and waits.
 */

export interface ScanPoolOptions {
  /** Threads; a task waits for a free one. */
  size: number;
  /** Wall-clock budget of one diff scan (reading and scanning the whole diff). */
  diffTimeMs: number;
  /** Wall-clock budget of parsing one dependency file. */
  fileTimeMs: number;
  /** Old-generation heap of one thread, MB. */
  heapMb: number;
  logger: Logger;
}

export const SCAN_POOL_DEFAULTS = { diffTimeMs: 120_000, fileTimeMs: 30_000, heapMb: 256 } as const;

/** Threads for `concurrency` concurrent jobs: one each, but no more than the machine has cores. */
export function scanThreadsFor(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, availableParallelism()));
}

/** A task was stopped for exceeding its time or memory budget; running it again would do the same. */
export class ScanBudgetExceeded extends Error {
  override name = 'ScanBudgetExceeded';
  constructor(
    readonly budget: 'time' | 'memory',
    message: string,
  ) {
    super(message);
  }
}

interface Queued {
  message: Task;
  transfer: TransferListItem[];
  timeMs: number;
  resolve: (value: TaskValue) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  /** Its modules are loaded: time spent starting up is not charged to a task's budget. */
  ready: boolean;
  running: (Queued & { id: number; timer: NodeJS.Timeout }) | null;
}

const ENTRY = siblingEntry(import.meta.url, 'thread');

export class ScanPool {
  readonly #o: ScanPoolOptions;
  readonly #threads = new Set<Thread>();
  readonly #queue: Queued[] = [];
  #nextId = 1;
  #closing = false;

  constructor(options: ScanPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('scan pool size must be a whole number >= 1');
    this.#o = options;
  }

  /**
   * Starts a first thread ahead of any work: loading the scan library takes a thread a few
   * seconds, which the first job then does not wait for. Others start when work waits.
   */
  warm(): void {
    if (this.#threads.size === 0 && !this.#closing) this.#spawn();
  }

  /**
   * Reads `diff` in a scan thread and scans what it adds. The stream is relayed rather than
   * handed over, so that it is cancelled here (and its HTTP download with it) whatever
   * happens to the thread.
   */
  async scanDiff(diff: ReadableStream<Uint8Array>, request: DiffScanRequest): Promise<DiffScanResult> {
    const reader = diff.getReader();
    const relay = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    try {
      return (await this.#run({ kind: 'diff', request, diff: relay }, [relay as unknown as TransferListItem], this.#o.diffTimeMs)) as DiffScanResult;
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  /** Scans a batch of whole files for secrets (a default branch's tree), within the per-file time budget times the batch's megabytes. */
  async scanFiles(secrets: NonNullable<DiffScanRequest['secrets']>, files: TreeFile[]): Promise<FilesScanResult> {
    const bytes = files.reduce((sum, f) => sum + ('content' in f ? f.content.length : 0), 0);
    const timeMs = this.#o.fileTimeMs * Math.max(1, Math.ceil(bytes / (1024 * 1024)));
    return (await this.#run({ kind: 'files', secrets, files }, [], timeMs)) as FilesScanResult;
  }

  async parseLockfile(path: string, content: string): Promise<LockfileParse> {
    return (await this.#run({ kind: 'lockfile', path, content }, [], this.#o.fileTimeMs)) as LockfileParse;
  }

  /** Parses dependency files that are read together (go.mod with go.sum, poms with parents), within the per-file budget times the files. */
  async parseDependencySet(files: { path: string; content: string }[]): Promise<DependencySetParse> {
    return (await this.#run({ kind: 'dependency-set', files }, [], this.#o.fileTimeMs * Math.max(1, files.length))) as DependencySetParse;
  }

  /** The files that change what a dependency file yields (DependencyFileSet.contextOf), within the per-file budget. */
  async dependencyContext(path: string, content: string): Promise<string[]> {
    return (await this.#run({ kind: 'dependency-context', path, content }, [], this.#o.fileTimeMs)) as string[];
  }

  /**
   * Stops every thread; running and queued tasks fail. The pool stays usable: a later task
   * starts a thread again. The job runner does not call this when it stops (it may be started
   * again, and idle threads never keep the process alive); whoever owns a pool for a while
   * only (a test) does.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new Error('the scan pool was closed');
    for (const task of this.#queue.splice(0)) task.reject(closed);
    await Promise.all([...this.#threads].map((thread) => this.#stop(thread, closed)));
    this.#closing = false;
  }

  #run(message: Task, transfer: TransferListItem[], timeMs: number): Promise<TaskValue> {
    if (this.#closing) return Promise.reject(new Error('the scan pool is closing'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, transfer, timeMs, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = [...this.#threads].find((t) => t.ready && t.running === null);
      if (!thread) {
        const starting = [...this.#threads].filter((t) => !t.ready);
        if (this.#threads.size < this.#o.size && starting.length < this.#queue.length) this.#spawn();
        // Work waits for these threads: they keep the process alive until they take it.
        for (const t of this.#threads) if (!t.ready) t.worker.ref();
        return;
      }
      const task = this.#queue.shift()!;
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        const budget = task.timeMs < 1000 ? `${task.timeMs} ms` : `${Math.round(task.timeMs / 1000)} s`;
        void this.#stop(thread, new ScanBudgetExceeded('time', `the scan exceeded its time budget of ${budget} and was stopped`));
      }, task.timeMs);
      thread.running = { ...task, id, timer };
      thread.worker.ref();
      thread.worker.postMessage({ ...task.message, id } as TaskMessage, task.transfer);
    }
  }

  #spawn(): void {
    const worker = startThread(ENTRY, { resourceLimits: { maxOldGenerationSizeMb: this.#o.heapMb } });
    // A thread keeps the process alive only while it has a task (#dispatch, #settle).
    worker.unref();
    const thread: Thread = { worker, ready: false, running: null };
    this.#threads.add(thread);
    worker.on('message', (result: ThreadMessage) => {
      if ('ready' in result) {
        thread.ready = true;
        worker.unref();
        this.#dispatch();
        return;
      }
      const task = thread.running;
      if (!task || task.id !== result.id) return;
      this.#settle(thread);
      if (result.ok) task.resolve(result.value);
      else task.reject(Object.assign(new Error(result.error.message), { name: result.error.name }));
      this.#dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#o.logger.error({ err: error }, outOfMemory ? 'a scan thread ran out of memory; replacing it' : 'a scan thread failed; replacing it');
      this.#fail(thread, outOfMemory ? new ScanBudgetExceeded('memory', `the scan exceeded its memory budget of ${this.#o.heapMb} MB and was stopped`) : error);
    });
    worker.on('exit', () => this.#fail(thread, new Error('the scan thread exited')));
  }

  #settle(thread: Thread): void {
    if (thread.running) clearTimeout(thread.running.timer);
    thread.running = null;
    thread.worker.unref();
  }

  /** The thread is gone or going: its task fails with `error`, and a new thread serves the queue. */
  #fail(thread: Thread, error: Error): void {
    if (!this.#threads.delete(thread)) return;
    const task = thread.running;
    this.#settle(thread);
    task?.reject(error);
    // A thread that cannot even start would fail its replacement the same way: the waiting
    // tasks fail (their jobs retry later) instead of threads being started in a loop.
    if (!thread.ready) for (const waiting of this.#queue.splice(0)) waiting.reject(error);
    if (!this.#closing) this.#dispatch();
  }

  async #stop(thread: Thread, error: Error): Promise<void> {
    this.#fail(thread, error);
    await thread.worker.terminate();
  }
}
