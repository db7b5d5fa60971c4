import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../log.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import { AdvisoryMonitor } from './monitor.ts';

describe('AdvisoryMonitor schedule', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-monitor-'));
  afterEach(() => vi.useRealTimers());

  function monitor(intervalMs: number, random: number) {
    const runs: number[] = [];
    const m = new AdvisoryMonitor({
      config: { dataDir: dir, osvMirrorUrl: 'http://127.0.0.1:9', osvUpdateIntervalMs: intervalMs, takeOverLockFromOtherHost: false },
      store: { listInstallations: async () => [], acceptDelivery: async () => ({ duplicate: false, jobId: null }) },
      results: {} as ResultsStore,
      logger: createLogger('silent'),
      // Another instance always has it: the schedule is what is under test.
      runAlone: async () => {
        runs.push(Date.now());
        return undefined;
      },
      random: () => random,
    });
    return { m, runs };
  }

  it('refreshes every interval plus its jitter, never with 0, and stops', async () => {
    vi.useFakeTimers({ now: 0 });
    const never = monitor(0, 0);
    await never.m.start();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(never.runs).toEqual([]);

    // No database yet: the first refresh one interval after start (db update makes the first).
    const hourly = monitor(3_600_000, 0.5);
    const t0 = Date.now();
    await hourly.m.start();
    await vi.advanceTimersByTimeAsync(3_600_000 + 179_999);
    expect(hourly.runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(hourly.runs.map((t) => t - t0)).toEqual([3_780_000]);
    await vi.advanceTimersByTimeAsync(3_780_000);
    expect(hourly.runs.map((t) => t - t0)).toEqual([3_780_000, 7_560_000]);
    await hourly.m.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(hourly.runs).toHaveLength(2);
    rmSync(dir, { recursive: true, force: true });
  });
});
