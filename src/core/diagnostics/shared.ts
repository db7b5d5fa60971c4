import type { Logger } from '../../log.ts';
import type { DiagnosticsRecorder, DiagnosticsSnapshot, TenantHealth } from './recorder.ts';

/**
 * The Health view's counters shared by every instance (PostgreSQL): each instance's recorder
 * is drained every few seconds into the store, which adds the counts up, and a view reads the
 * totals there after adding its own instance's latest counts, so any instance answers the
 * same (up to what the others counted in the last few seconds). The embedded store has one
 * instance and keeps the counters in DATA_DIR instead (persist.ts).
 */
export interface DiagnosticsCounterStore {
  /** Adds a drained snapshot's counts to the totals; a new key past its kind's bound is dropped. */
  addDiagnostics(delta: DiagnosticsSnapshot): Promise<void>;
  /** One installation's totals (UNATTRIBUTED: refusals no installation can be named for). */
  readDiagnostics(clientKey: string): Promise<TenantHealth>;
}

export interface SharedDiagnostics {
  /** Adds this instance's counts so far to the totals. */
  flush(): Promise<void>;
  read(clientKey: string): Promise<TenantHealth>;
  stop(): Promise<void>;
}

export function shareDiagnostics(recorder: DiagnosticsRecorder, counters: DiagnosticsCounterStore, options: { logger: Logger; intervalMs?: number }): SharedDiagnostics {
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    // One at a time, in order: a drained snapshot is added once.
    flushing = flushing.then(async () => {
      const delta = recorder.drain();
      if (delta.tenants.length === 0) return;
      await counters.addDiagnostics(delta).catch((error: unknown) => options.logger.warn({ err: error }, 'diagnostics counters could not be shared; these counts are lost'));
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 5_000);
  timer.unref();
  return {
    flush,
    read: (clientKey) => counters.readDiagnostics(clientKey),
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
