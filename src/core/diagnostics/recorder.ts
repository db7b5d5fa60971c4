/**
 * What an admin's "Health" view counts that no store holds: the last delivery of each event
 * type, webhooks refused and why, and Bitbucket calls that failed. Kept in memory, per
 * installation, since this process started: a Map update per event, nothing awaited, so the
 * webhook acknowledgement and every Bitbucket call pay next to nothing for it. Bounded: at
 * most `maxTenants` installations (the least recently touched is forgotten first) and a
 * fixed number of keys per installation, whatever senders put in an event key.
 */

/** How a failed Bitbucket call is filed: the statuses an admin can act on, the rest by class. */
export type CallFailureKind = '401' | '403' | '404' | '429' | '4xx' | '5xx' | 'network';

export interface CallFailure {
  kind: CallFailureKind;
  count: number;
  lastAt: string;
  /** `GET /2.0/repositories/acme/web/src/...: HTTP 404`: method, path (no query) and outcome. */
  lastError: string;
}

export interface Refusal {
  /** `bad_jwt` (signature, expiry, qsh), `unknown_installation`, `uninstalled`. */
  reason: string;
  count: number;
  lastAt: string;
  lastMessage: string;
}

export interface DeliverySeen {
  event: string;
  count: number;
  lastAt: string;
}

export interface TenantHealth {
  deliveries: DeliverySeen[];
  refusals: Refusal[];
  callFailures: CallFailure[];
  calls: number;
  since: string;
}

export interface CallOutcome {
  method: string;
  url: string;
  /** The HTTP status, or null when no answer came (connection refused, timeout). */
  status: number | null;
  error: string | null;
}

interface Counters {
  deliveries: Map<string, DeliverySeen>;
  refusals: Map<string, Refusal>;
  failures: Map<CallFailureKind, CallFailure>;
  calls: number;
  since: string;
}

export const MAX_EVENT_TYPES = 64;
export const MAX_REFUSAL_REASONS = 16;
const MAX_MESSAGE = 300;
/** Refusals no installation can be named for (an unknown or forged issuer). */
export const UNATTRIBUTED = '';

export class DiagnosticsRecorder {
  readonly #tenants = new Map<string, Counters>();
  readonly #maxTenants: number;
  readonly #now: () => Date;
  readonly started: string;

  constructor(options: { now?: () => Date; maxTenants?: number } = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#maxTenants = options.maxTenants ?? 10_000;
    this.started = this.#now().toISOString();
  }

  delivery(clientKey: string, event: string): void {
    const at = this.#now().toISOString();
    const seen = this.#counters(clientKey, at).deliveries;
    const key = event.slice(0, 100);
    const entry = seen.get(key);
    if (entry) {
      entry.count++;
      entry.lastAt = at;
    } else if (seen.size < MAX_EVENT_TYPES) {
      seen.set(key, { event: key, count: 1, lastAt: at });
    }
  }

  /** A webhook refused; `clientKey` is the installation it claimed to come from, or UNATTRIBUTED. */
  refused(clientKey: string, reason: string, message: string): void {
    const at = this.#now().toISOString();
    const refusals = this.#counters(clientKey, at).refusals;
    const entry = refusals.get(reason);
    if (entry) {
      entry.count++;
      entry.lastAt = at;
      entry.lastMessage = message.slice(0, MAX_MESSAGE);
    } else if (refusals.size < MAX_REFUSAL_REASONS) {
      refusals.set(reason, { reason, count: 1, lastAt: at, lastMessage: message.slice(0, MAX_MESSAGE) });
    }
  }

  /** Every metered Bitbucket call ends here (CallBudget.observe); only failures are kept in detail. */
  call(clientKey: string, outcome: CallOutcome): void {
    const at = this.#now().toISOString();
    const tenant = this.#counters(clientKey, at);
    tenant.calls++;
    const kind = failureKind(outcome.status);
    if (kind === null) return;
    const lastError = `${outcome.method} ${pathOf(outcome.url)}: ${outcome.status === null ? (outcome.error ?? 'no answer') : `HTTP ${outcome.status}`}`.slice(0, MAX_MESSAGE);
    const entry = tenant.failures.get(kind);
    if (entry) {
      entry.count++;
      entry.lastAt = at;
      entry.lastError = lastError;
    } else {
      tenant.failures.set(kind, { kind, count: 1, lastAt: at, lastError });
    }
  }

  tenant(clientKey: string): TenantHealth {
    const c = this.#tenants.get(clientKey);
    if (!c) return { deliveries: [], refusals: [], callFailures: [], calls: 0, since: this.started };
    return {
      deliveries: [...c.deliveries.values()].map((d) => ({ ...d })).sort((a, b) => b.lastAt.localeCompare(a.lastAt)),
      refusals: [...c.refusals.values()].map((r) => ({ ...r })),
      callFailures: [...c.failures.values()].map((f) => ({ ...f })).sort((a, b) => b.count - a.count),
      calls: c.calls,
      since: c.since,
    };
  }

  /** Everything recorded, as plain JSON (persist.ts writes it to DATA_DIR now and then). */
  snapshot(): DiagnosticsSnapshot {
    return { version: 1, tenants: [...this.#tenants.keys()].map((clientKey) => ({ clientKey, ...this.tenant(clientKey) })) };
  }

  /**
   * Takes back what a snapshot held (at start-up, before anything is recorded), within this
   * recorder's bounds; entries of the wrong shape are skipped, not trusted.
   */
  restore(snapshot: unknown): void {
    const tenants = (snapshot as Partial<DiagnosticsSnapshot> | null)?.tenants;
    if (!Array.isArray(tenants)) return;
    for (const t of tenants.slice(-this.#maxTenants)) {
      if (typeof t?.clientKey !== 'string' || typeof t.since !== 'string') continue;
      const c = this.#counters(t.clientKey, t.since);
      c.since = t.since;
      c.calls = Number.isSafeInteger(t.calls) ? t.calls : 0;
      for (const d of arrayOf(t.deliveries).slice(0, MAX_EVENT_TYPES)) if (isEntry(d, 'event', 'lastAt')) c.deliveries.set(d.event, { event: d.event, count: d.count, lastAt: d.lastAt });
      for (const r of arrayOf(t.refusals).slice(0, MAX_REFUSAL_REASONS)) if (isEntry(r, 'reason', 'lastAt', 'lastMessage')) c.refusals.set(r.reason, { reason: r.reason, count: r.count, lastAt: r.lastAt, lastMessage: r.lastMessage });
      for (const f of arrayOf(t.callFailures)) if (isEntry(f, 'kind', 'lastAt', 'lastError') && KINDS.has(f.kind)) c.failures.set(f.kind as CallFailureKind, { kind: f.kind as CallFailureKind, count: f.count, lastAt: f.lastAt, lastError: f.lastError });
    }
  }

  /** Everything recorded since the last drain, and nothing kept: what an instance adds to the shared counters (shared.ts). */
  drain(): DiagnosticsSnapshot {
    const drained = this.snapshot();
    this.#tenants.clear();
    return drained;
  }

  /** Every installation with something recorded (UNATTRIBUTED included), for the operator's view. */
  tenants(): string[] {
    return [...this.#tenants.keys()];
  }

  #counters(clientKey: string, at: string): Counters {
    let c = this.#tenants.get(clientKey);
    if (c) {
      // Re-inserted: Map order is then least recently touched first, which eviction takes.
      this.#tenants.delete(clientKey);
    } else {
      c = { deliveries: new Map(), refusals: new Map(), failures: new Map(), calls: 0, since: at };
      if (this.#tenants.size >= this.#maxTenants) {
        const oldest = this.#tenants.keys().next().value;
        if (oldest !== undefined) this.#tenants.delete(oldest);
      }
    }
    this.#tenants.set(clientKey, c);
    return c;
  }
}

export interface DiagnosticsSnapshot {
  version: 1;
  tenants: ({ clientKey: string } & TenantHealth)[];
}

const KINDS = new Set<string>(['401', '403', '404', '429', '4xx', '5xx', 'network']);

function arrayOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
}

/** A counter entry: `count` a safe integer, the named fields strings. */
function isEntry<K extends string>(value: Record<string, unknown>, ...fields: K[]): value is Record<K, string> & { count: number } {
  return typeof value === 'object' && value !== null && Number.isSafeInteger(value.count) && fields.every((f) => typeof value[f] === 'string');
}

export function failureKind(status: number | null): CallFailureKind | null {
  if (status === null) return 'network';
  if (status < 400) return null;
  if (status === 401 || status === 403 || status === 404 || status === 429) return String(status) as CallFailureKind;
  return status >= 500 ? '5xx' : '4xx';
}

/** The path only: a query string may carry anything, and the origin is the installation's own. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return '(unparsable URL)';
  }
}
