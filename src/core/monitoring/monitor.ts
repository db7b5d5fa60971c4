import type { Config } from '../../config.ts';
import type { Logger } from '../../log.ts';
import { openVulnIndex } from '../../scan/deps/index.ts';
import type { Ecosystem } from '../../scan/types.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';
import type { Fetch } from '../../vulndb/download.ts';
import { VulnDbError } from '../../vulndb/errors.ts';
import { readCurrent } from '../../vulndb/store.ts';
import { updateVulnDb, type UpdateSummary } from '../../vulndb/update.ts';
import { advisoryDelta } from './delta.ts';
import { reevaluateInventories, type ReevaluationSummary } from './reevaluate.ts';

/**
 * Continuous advisory monitoring: every OSV_UPDATE_INTERVAL (plus up to a tenth of it at
 * random, so instances and installations do not all ask the mirror at once) the server
 * refreshes the OSV database in DATA_DIR as `gatehouse db update` does, then re-evaluates
 * the stored default-branch inventories against what changed (reevaluate.ts). One refresh
 * at a time across instances (`runAlone`: an advisory lock on PostgreSQL; the database's
 * own update lock in DATA_DIR too). The first refresh comes one interval after the
 * database's last update (or after start when there is none yet: `db update` makes the
 * first one), so a restart does not download again.
 */

export interface AdvisoryMonitorOptions {
  config: Pick<Config, 'dataDir' | 'osvMirrorUrl' | 'osvUpdateIntervalMs' | 'takeOverLockFromOtherHost'>;
  store: Pick<Store, 'listInstallations' | 'acceptDelivery'>;
  results: ResultsStore;
  logger: Logger;
  runAlone: <T>(name: string, work: () => Promise<T>) => Promise<{ value: T } | undefined>;
  /** Called when re-evaluation queued jobs, so the runner picks them up at once. */
  onQueued?: () => void;
  now?: () => Date;
  random?: () => number;
  fetch?: Fetch;
}

export type RefreshOutcome =
  | { ran: false; reason: string }
  | { ran: true; update: UpdateSummary; reevaluation: ReevaluationSummary | null; ms: number };

const JITTER_SHARE = 0.1;

export class AdvisoryMonitor {
  readonly #o: AdvisoryMonitorOptions;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<RefreshOutcome> | null = null;
  #stopped = false;

  constructor(options: AdvisoryMonitorOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  get intervalMs(): number {
    return this.#o.config.osvUpdateIntervalMs ?? 0;
  }

  async start(): Promise<void> {
    if (this.intervalMs === 0 || this.#timer) return;
    const current = await readCurrent(this.#o.config.dataDir).catch(() => null);
    const last = current ? Date.parse(current.manifest.createdAt) : this.#now().getTime();
    this.#schedule(Math.max(0, last + this.intervalMs - this.#now().getTime()));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** One refresh and re-evaluation now; one already running is waited for rather than doubled. */
  refresh(): Promise<RefreshOutcome> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #schedule(baseMs: number): void {
    if (this.#stopped) return;
    const delay = Math.min(baseMs + (this.#o.random ?? Math.random)() * JITTER_SHARE * this.intervalMs, 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      void this.refresh().finally(() => this.#schedule(this.intervalMs));
    }, delay);
    this.#timer.unref();
  }

  async #refresh(): Promise<RefreshOutcome> {
    const started = Date.now();
    const { logger } = this.#o;
    try {
      const done = await this.#o.runAlone('osv-refresh', async () => {
        // The ecosystems `db update` was asked for stay the ones refreshed; without a database, all.
        const held = Object.keys((await readCurrent(this.#o.config.dataDir).catch(() => null))?.manifest.ecosystems ?? {}) as Ecosystem[];
        const update = await updateVulnDb({
          ...(held.length > 0 ? { ecosystems: held } : {}),
          mirrorUrl: this.#o.config.osvMirrorUrl,
          dataDir: this.#o.config.dataDir,
          log: (line) => logger.debug(line),
          ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
          ...(this.#o.config.takeOverLockFromOtherHost ? { takeOverLockFromOtherHost: true } : {}),
        });
        if (!update.changed) return { update, reevaluation: null };
        const vulnIndex = openVulnIndex(this.#o.config.dataDir);
        if (!vulnIndex) throw new VulnDbError('the refreshed database cannot be opened');
        const delta = await advisoryDelta(this.#o.config.dataDir, update, vulnIndex);
        const reevaluation = await reevaluateInventories({ store: this.#o.store, results: this.#o.results, vulnIndex, now: this.#now, logger }, delta);
        return { update, reevaluation };
      });
      if (!done) {
        logger.info('OSV refresh skipped: another instance is refreshing');
        return { ran: false, reason: 'another instance is refreshing' };
      }
      const { update, reevaluation } = done.value;
      const ms = Date.now() - started;
      logger.info({ version: update.version, changed: update.changed, ecosystems: update.ecosystems.filter((e) => e.mode !== 'unchanged').map((e) => `${e.ecosystem}: +${e.added} ~${e.updated} -${e.withdrawn}`), reevaluation, ms }, 'OSV database refreshed');
      if (reevaluation && reevaluation.verdictChanges > 0) this.#o.onQueued?.();
      return { ran: true, update, reevaluation, ms };
    } catch (error) {
      // The old database stays in use; the next interval tries again.
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ err: error }, `OSV refresh failed: ${reason}`);
      return { ran: false, reason };
    }
  }
}
