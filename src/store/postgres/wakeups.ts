import pg from 'pg';
import type { Logger } from '../../log.ts';

/**
 * LISTEN/NOTIFY wake-ups for the job queue: PgStore notifies JOBS_CHANNEL when a job is
 * queued or a job leaves `running` (which may free its pull request for the next job), and
 * every instance listening wakes its worker pool at once instead of at its next safety poll.
 * The notices are sent by JobNotices, outside the transactions that queue the jobs.
 * One dedicated connection per instance (LISTEN needs a session); it reconnects after a
 * loss, and wakes the pool once reconnected, since notifications sent meanwhile are lost.
 */

export const JOBS_CHANNEL = 'gatehouse_jobs';
const RECONNECT_MS = [500, 1_000, 2_000, 5_000];

/**
 * Sends the NOTIFY for jobs this process queued or released, after their transaction, at most
 * one at a time: what is asked while one is on its way is covered by one more sent after it.
 *
 * Not pg_notify inside the writing statement: a transaction that notifies holds a lock
 * global to the database from its pre-commit to the end of its commit, WAL flush included,
 * so every acknowledgement of every instance would commit one after another (about 200/s
 * against 700/s without, measured on the development machine) instead of sharing flushes. A
 * notice sent after the commit also means a woken instance always finds the job committed.
 * A lost notice costs at most one safety poll, as a lost connection does.
 */
export class JobNotices {
  readonly #send: () => Promise<unknown>;
  readonly #logger: Logger | undefined;
  #sending: Promise<void> | null = null;
  #again = false;

  /** `send` runs one NOTIFY on JOBS_CHANNEL in a transaction of its own. */
  constructor(send: () => Promise<unknown>, logger?: Logger) {
    this.#send = send;
    this.#logger = logger;
  }

  /** Call once the change that queued or released a job is committed. */
  notify(): void {
    if (this.#sending) {
      this.#again = true;
      return;
    }
    this.#sending = this.#send().then(
      () => undefined,
      (err: unknown) => this.#logger?.warn({ err }, 'could not notify other instances of queued jobs; they find them at their next poll'),
    );
    void this.#sending.finally(() => {
      this.#sending = null;
      if (!this.#again) return;
      this.#again = false;
      this.notify();
    });
  }

  /** Resolves once no notice is on its way (before the pool it uses is closed). */
  async settled(): Promise<void> {
    while (this.#sending) await this.#sending;
  }
}

export class JobWakeups {
  readonly #databaseUrl: string;
  readonly #onWake: () => void;
  readonly #logger: Logger | undefined;
  #client: pg.Client | null = null;
  #stopped = false;
  #failures = 0;
  #retry: NodeJS.Timeout | null = null;

  constructor(databaseUrl: string, onWake: () => void, logger?: Logger) {
    this.#databaseUrl = databaseUrl;
    this.#onWake = onWake;
    this.#logger = logger;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#databaseUrl, application_name: 'gatehouse-listen' });
    client.on('notification', () => this.#onWake());
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${JOBS_CHANNEL}`);
    if (this.#stopped) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#failures = 0;
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#logger?.warn({ err: { message: err.message } }, 'job wake-up connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = RECONNECT_MS[Math.min(this.#failures, RECONNECT_MS.length - 1)]!;
    this.#failures += 1;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => this.#onWake(),
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#retry.unref();
  }
}
