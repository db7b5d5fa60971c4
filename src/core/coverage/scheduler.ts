import type { Logger } from '../../log.ts';
import type { ResultsStore } from '../../store/results-types.ts';
import type { Store } from '../../store/types.ts';
import { tenantKeyOf } from '../../datacenter/instance.ts';
import { coverageOf, discoverGroup, ensureBackfillChain, queueDiscovery } from './control.ts';

/**
 * The clock of coverage work. Each tick, for every tenant (installed Connect and Forge
 * installations, registered Data Center instances; one pipeline whatever the code host):
 * - a discovery is queued when none has run yet (a new installation: its first tick after
 *   the install) or the last one is older than a day;
 * - each lane of a running backfill with no queued or running link (lost in a crash between
 *   two links, a link that went dead, or a lane that ran out while others had work) gets a
 *   new one; a lane with nothing left ends at once.
 * Ticking is cheap (two indexed store reads per installation), so a short interval makes
 * "on install" prompt without costing anything.
 */

export interface CoverageSchedulerOptions {
  store: Pick<Store, 'listInstallations' | 'listForgeInstallations' | 'listDatacenterInstances' | 'acceptDelivery' | 'countUnfinishedJobs'>;
  results: Pick<ResultsStore, 'getCoverage'>;
  logger: Logger;
  now?: () => Date;
  tickMs?: number;
  discoveryEveryMs?: number;
  /** Called when a tick queued work, so the runner picks it up at once. */
  onQueued?: () => void;
}

export const SCHEDULER_DEFAULTS = { tickMs: 30_000, discoveryEveryMs: 24 * 60 * 60_000 } as const;

export class CoverageScheduler {
  readonly #o: Required<CoverageSchedulerOptions>;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;

  constructor(options: CoverageSchedulerOptions) {
    this.#o = { now: () => new Date(), onQueued: () => {}, ...SCHEDULER_DEFAULTS, ...options };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.#o.tickMs);
    this.#timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }

  /** One pass over the installations; a pass still running is not started twice. */
  tick(): Promise<void> {
    this.#ticking ??= this.#pass().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #pass(): Promise<void> {
    let queued = false;
    try {
      for (const clientKey of await this.#tenants()) {
        const state = await coverageOf(this.#o.results, clientKey, this.#o.now());
        const last = state.lastDiscoveryAt === null ? 0 : Date.parse(state.lastDiscoveryAt);
        const due = this.#o.now().getTime() - last >= this.#o.discoveryEveryMs;
        if (due && (await this.#o.store.countUnfinishedJobs(clientKey, discoverGroup(clientKey))) === 0) {
          await queueDiscovery(this.#o.store, clientKey, state.lastDiscoveryAt === null ? 'install' : 'daily');
          queued = true;
        }
        if (state.state === 'running' && (await ensureBackfillChain(this.#o.store, clientKey))) {
          this.#o.logger.info({ clientKey }, 'backfill chain started again');
          queued = true;
        }
      }
    } catch (error) {
      this.#o.logger.error({ err: error }, 'coverage scheduler tick failed; trying again next tick');
    }
    if (queued) this.#o.onQueued();
  }

  /** Each tenant key once: a workspace that moved from Connect to Forge keeps its key. */
  async #tenants(): Promise<string[]> {
    const { store } = this.#o;
    const keys = new Set<string>();
    for (const i of await store.listInstallations()) if (i.state === 'installed') keys.add(i.clientKey);
    for (const f of await store.listForgeInstallations()) if (f.state === 'installed') keys.add(f.clientKey);
    for (const d of await store.listDatacenterInstances()) keys.add(tenantKeyOf(d.instanceId));
    return [...keys];
  }
}
