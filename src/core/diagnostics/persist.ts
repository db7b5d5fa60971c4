import path from 'node:path';
import type { Logger } from '../../log.ts';
import { DurableJsonFile } from '../../store/durable-json-file.ts';
import type { DiagnosticsRecorder, DiagnosticsSnapshot } from './recorder.ts';

/**
 * Keeps the diagnostics counters across restarts: read from DATA_DIR once at start-up,
 * written every `intervalMs` and once more at shutdown, off every request path. A file that cannot be read starts the counters afresh, with a warning: they are a help for
 * troubleshooting, never a reason not to start. This is the embedded store's way (one
 * instance holds DATA_DIR); on PostgreSQL the instances share their counters instead (shared.ts).
 */
export const DIAGNOSTICS_FILE = 'diagnostics.json';

export async function persistDiagnostics(
  recorder: DiagnosticsRecorder,
  options: { dataDir: string; logger: Logger; intervalMs?: number },
): Promise<{ stop(): Promise<void> }> {
  const file = new DurableJsonFile<DiagnosticsSnapshot>(path.join(options.dataDir, DIAGNOSTICS_FILE));
  try {
    recorder.restore(await file.read());
  } catch (error) {
    options.logger.warn({ err: error }, 'diagnostics counters could not be read; counting afresh');
  }
  let writing: Promise<void> = Promise.resolve();
  const save = () => {
    // One write at a time: DurableJsonFile shares its temp file between writes.
    writing = writing.then(() => file.write(recorder.snapshot())).catch((error: unknown) => options.logger.warn({ err: error }, 'diagnostics counters could not be saved'));
    return writing;
  };
  const timer = setInterval(() => void save(), options.intervalMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await save();
    },
  };
}
