import { getPriority, platform, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { TaskMessage, TaskValue, ThreadMessage } from './protocol.ts';
import { dependencyContextTask, dependencySetTask, diffTask, filesTask, lockfileTask } from './tasks.ts';

/**
 * A scan thread (see pool.ts): runs one task at a time and answers with its result. The
 * CPU-heavy parts of a job (diff parsing, the secrets engine, lockfile parsing) run here,
 * so a slow pattern or a huge input stalls this thread, which the pool can stop, and never
 * the event loop that answers webhooks and pages.
 */

const port = parentPort;
if (!port) throw new Error('scan thread started outside a worker thread');

/**
 * Scans are job work, which nobody waits on by the millisecond; the main thread answers webhooks,
 * which Bitbucket times. On a machine with few cores the OS would share them evenly, so a busy
 * scan thread would delay acknowledgements; niced, it runs on what the main thread leaves.
 * Linux only: there setpriority(pid 0) changes the calling thread alone, while elsewhere it would
 * nice the whole process, main thread included. A refusal (a sandbox, a seccomp filter) leaves
 * the thread as it was.
 */
const SCAN_THREAD_NICE = 10;
if (platform() === 'linux') {
  try {
    setPriority(0, Math.max(getPriority(0), SCAN_THREAD_NICE));
  } catch {
    // Scans still run, at the main thread's priority.
  }
}

port.on('message', (message: TaskMessage) => {
  const run = async (): Promise<TaskValue> => {
    if (message.kind === 'diff') return diffTask(message.request, message.diff);
    if (message.kind === 'files') return filesTask(message.secrets, message.files);
    if (message.kind === 'dependency-set') return dependencySetTask(message.files);
    if (message.kind === 'dependency-context') return dependencyContextTask(message.path, message.content);
    return lockfileTask(message.path, message.content);
  };
  run().then(
    (value) => port.postMessage({ id: message.id, ok: true, value } satisfies ThreadMessage),
    (error: unknown) => {
      const { name, message: text } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      port.postMessage({ id: message.id, ok: false, error: { name, message: text } } satisfies ThreadMessage);
    },
  );
});

port.postMessage({ ready: true } satisfies ThreadMessage);
