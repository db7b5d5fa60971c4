import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../../../test/helpers/postgres.ts';
import { DiagnosticsRecorder, MAX_EVENT_TYPES } from '../../core/diagnostics/recorder.ts';
import { shareDiagnostics } from '../../core/diagnostics/shared.ts';
import { Diagnostics } from '../../core/diagnostics/view.ts';
import { createLogger } from '../../log.ts';
import { PgDiagnosticsCounters } from './pg-diagnostics.ts';

/**
 * The Health counters with several instances on PostgreSQL: each instance counts its own
 * calls, deliveries and refusals, and every instance answers with the same totals.
 */

let db: TestDatabase & { pool: pg.Pool };
beforeAll(async () => {
  db = await createMigratedDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const A = 'client-a';
const logger = createLogger('silent');
const store = {
  countQueuedJobs: async () => 0,
  readDeadJobs: async () => [],
  getJob: async () => undefined,
  retryDeadJob: async () => 'not_found' as const,
  listInstallations: async () => [],
};

function instance(at: string) {
  const recorder = new DiagnosticsRecorder({ now: () => new Date(at) });
  const shared = shareDiagnostics(recorder, new PgDiagnosticsCounters(db.pool), { logger, intervalMs: 60_000 });
  const view = new Diagnostics({ recorder, shared, store, dataDir: '/nonexistent', now: () => new Date(at), queueLimit: 100 });
  return { recorder, shared, view };
}

describe('diagnostics counters shared on PostgreSQL', () => {
  it('adds up what each instance counted, and any instance answers the same, the newest error winning', async () => {
    const one = instance('2026-05-01T10:00:00.000Z');
    const two = instance('2026-05-01T10:00:05.000Z');
    one.recorder.call(A, { method: 'GET', url: 'https://api.bitbucket.org/2.0/repositories/acme/a', status: 403, error: null });
    one.recorder.call(A, { method: 'GET', url: 'https://api.bitbucket.org/2.0/user', status: 200, error: null });
    one.recorder.delivery(A, 'repo:push');
    two.recorder.call(A, { method: 'POST', url: 'https://api.bitbucket.org/2.0/repositories/acme/b/commit/c/statuses/build', status: 403, error: null });
    two.recorder.delivery(A, 'repo:push');
    two.recorder.refused(A, 'bad_jwt', 'signature does not match');

    // Each instance adds its counts every few seconds (here: now); a view adds its own first.
    await two.shared.flush();
    const [seenByOne, seenByTwo] = [await one.view.forInstallation(A), await two.view.forInstallation(A)];
    expect(seenByOne).toEqual(seenByTwo);
    expect(seenByOne.bitbucketCalls.total).toBe(3);
    expect(seenByOne.bitbucketCalls.failures).toEqual([expect.objectContaining({ kind: '403', count: 2, lastAt: '2026-05-01T10:00:05.000Z', lastError: 'POST /2.0/repositories/acme/b/commit/c/statuses/build: HTTP 403' })]);
    expect(seenByOne.deliveries).toEqual([{ event: 'repo:push', count: 2, lastAt: '2026-05-01T10:00:05.000Z' }]);
    expect(seenByOne.refusedWebhooks).toEqual([expect.objectContaining({ reason: 'bad_jwt', count: 1 })]);
    expect(seenByOne.countingSince).toBe('2026-05-01T10:00:00.000Z');

    // Counted once: a second read adds nothing that was added already.
    one.recorder.delivery(A, 'repo:push');
    expect((await two.view.forInstallation(A)).deliveries[0]!.count).toBe(2);
    expect((await one.view.forInstallation(A)).deliveries[0]!.count).toBe(3);
    await Promise.all([one.shared.stop(), two.shared.stop()]);
  });

  it('keeps each installation within its bounds however many event types instances send', async () => {
    const one = instance('2026-05-02T10:00:00.000Z');
    const two = instance('2026-05-02T10:00:00.000Z');
    for (let i = 0; i < MAX_EVENT_TYPES; i++) one.recorder.delivery('client-b', `event:${i}`);
    for (let i = MAX_EVENT_TYPES; i < 2 * MAX_EVENT_TYPES; i++) two.recorder.delivery('client-b', `event:${i}`);
    await one.shared.flush();
    await two.shared.flush();
    expect((await one.shared.read('client-b')).deliveries).toHaveLength(MAX_EVENT_TYPES);
    await Promise.all([one.shared.stop(), two.shared.stop()]);
  });
});
