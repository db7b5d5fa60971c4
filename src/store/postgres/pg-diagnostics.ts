import type pg from 'pg';
import { MAX_EVENT_TYPES, MAX_REFUSAL_REASONS, type CallFailureKind, type DiagnosticsSnapshot, type TenantHealth } from '../../core/diagnostics/recorder.ts';
import type { DiagnosticsCounterStore } from '../../core/diagnostics/shared.ts';
import { query } from './database.ts';

/**
 * The shared Health counters in PostgreSQL (table diagnostics_counters): one row per
 * installation, kind and key, counts added in one statement per row so instances adding at
 * once lose nothing. A new key is taken only while its installation has fewer than its kind's
 * bound (the recorder's own bounds), so senders cannot grow the table without limit.
 */

type Kind = 'delivery' | 'refusal' | 'failure' | 'calls';

const BOUND: Record<Kind, number> = { delivery: MAX_EVENT_TYPES, refusal: MAX_REFUSAL_REASONS, failure: 7, calls: 1 };

interface Row {
  kind: Kind;
  key: string;
  count: string;
  last_at: string | null;
  last_message: string | null;
  since: string;
}

export class PgDiagnosticsCounters implements DiagnosticsCounterStore {
  constructor(private readonly pool: pg.Pool) {}

  async addDiagnostics(delta: DiagnosticsSnapshot): Promise<void> {
    for (const t of delta.tenants) {
      const add = (kind: Kind, key: string, count: number, lastAt: string | null, lastMessage: string | null) => this.#add(t.clientKey, kind, key, count, lastAt, lastMessage, t.since);
      if (t.calls > 0) await add('calls', '', t.calls, null, null);
      for (const d of t.deliveries) await add('delivery', d.event, d.count, d.lastAt, null);
      for (const r of t.refusals) await add('refusal', r.reason, r.count, r.lastAt, r.lastMessage);
      for (const f of t.callFailures) await add('failure', f.kind, f.count, f.lastAt, f.lastError);
    }
  }

  async readDiagnostics(clientKey: string): Promise<TenantHealth> {
    const { rows } = await query<Row>(this.pool, 'SELECT kind, key, count, last_at, last_message, since FROM diagnostics_counters WHERE client_key = $1', [clientKey]);
    const of = (kind: Kind) => rows.filter((r) => r.kind === kind);
    const since = rows.reduce<string | null>((min, r) => (min === null || r.since < min ? r.since : min), null);
    return {
      deliveries: of('delivery').map((r) => ({ event: r.key, count: Number(r.count), lastAt: r.last_at ?? since ?? '' })).sort((a, b) => b.lastAt.localeCompare(a.lastAt)),
      refusals: of('refusal').map((r) => ({ reason: r.key, count: Number(r.count), lastAt: r.last_at ?? '', lastMessage: r.last_message ?? '' })),
      callFailures: of('failure').map((r) => ({ kind: r.key as CallFailureKind, count: Number(r.count), lastAt: r.last_at ?? '', lastError: r.last_message ?? '' })).sort((a, b) => b.count - a.count),
      calls: Number(of('calls')[0]?.count ?? 0),
      since: since ?? new Date().toISOString(),
    };
  }

  /** Adds to the row, the newest last time and message winning; a new row only within the kind's bound. */
  async #add(clientKey: string, kind: Kind, key: string, count: number, lastAt: string | null, lastMessage: string | null, since: string): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO diagnostics_counters AS t (client_key, kind, key, count, last_at, last_message, since)
       SELECT $1, $2, $3, $4, $5, $6, $7
       WHERE EXISTS (SELECT 1 FROM diagnostics_counters WHERE client_key = $1 AND kind = $2 AND key = $3)
          OR (SELECT count(*) FROM diagnostics_counters WHERE client_key = $1 AND kind = $2) < $8
       ON CONFLICT (client_key, kind, key) DO UPDATE SET
         count = t.count + EXCLUDED.count,
         last_message = CASE WHEN t.last_at IS NULL OR EXCLUDED.last_at >= t.last_at THEN EXCLUDED.last_message ELSE t.last_message END,
         last_at = GREATEST(t.last_at, EXCLUDED.last_at),
         since = LEAST(t.since, EXCLUDED.since)`,
      [clientKey, kind, key, count, lastAt, lastMessage, since, BOUND[kind]],
    );
  }
}
