import path from 'node:path';
import type { ApiTokenRecord, CoverageState, RepositoryCoverage, RepositoryRecord } from './coverage-types.ts';
import { Journal, type BodyRef } from './journal.ts';
import { ScanIndex } from './scan-index.ts';
import { dropUnneededSegments, SegmentUse } from './segment-compaction.ts';
import type {
  AdvisoryState,
  ExportMappingRecord,
  InventoryRecord,
  InventorySummary,
  Policy,
  PullRequestRecord,
  ResultsStore,
  ScanKind,
  ScanRecord,
  ScanSummary,
  TriageMark,
} from './results-types.ts';

/**
 * The default ResultsStore: an append-only journal (journal.ts) in DATA_DIR/results.
 *
 * Scans and inventories grow with every push and pull request, so they are never kept in
 * one rewritten document: each write appends one fsync'd record and costs the same with
 * ten or ten thousand stored. Small values (policy, triage marks, pull-request records,
 * scan summaries) live in the record's meta and in memory; the bulky parts (findings,
 * packages, SBOM) are the record's body, left on disk and read back by position. The
 * latest record for a key wins, so replacing a scan is one more append.
 *
 * What users see is kept: policies, triage marks, pull-request records, inventories, and
 * the scans that are current (scan-index.ts: the newest of each pull request and branch,
 * and those an inventory or a pull-request record points at). A scan that stopped being
 * current is dropped `supersededScanMs` later. Segments nothing live points into are then
 * deleted, their few survivors carried forward first (segment-compaction.ts), so disk and
 * memory follow what is current, not every scan ever made.
 */

type Meta =
  | { t: 'policy'; clientKey: string; policy: Policy }
  | { t: 'triage'; mark: TriageMark }
  | { t: 'untriage'; clientKey: string; repoUuid: string; fingerprint: string }
  | { t: 'pr'; record: PullRequestRecord }
  | { t: 'scan'; summary: ScanSummary }
  | { t: 'inventory'; inventory: Omit<InventoryRecord, 'packages' | 'sbom'> }
  | { t: 'repository'; record: RepositoryRecord }
  | { t: 'repo-coverage'; entry: RepositoryCoverage }
  | { t: 'coverage'; state: CoverageState }
  | { t: 'token'; record: ApiTokenRecord }
  | { t: 'untoken'; clientKey: string; id: string }
  | { t: 'advisory'; state: Omit<AdvisoryState, 'findings' | 'fixed'> }
  | { t: 'mapping'; clientKey: string; record: ExportMappingRecord | null }
  | { t: 'forget'; clientKey: string }
  /**
   * A live record copied out of the oldest segment so that segment can go. A carried scan
   * says when it stopped being current (absent: it still is the newest of its group), so
   * replaying the copy restores exactly what the original and the records after it meant.
   */
  | { t: 'carry'; record: Meta; releasedAt?: string };

/** Where a live value's latest record is: its segment, and its body for those that have one. */
interface Held<T> {
  value: T;
  segment: number;
  body: BodyRef | null;
}

type Inventory = Omit<InventoryRecord, 'packages' | 'sbom'>;

const RESULTS_DIR = 'results';
export const SUPERSEDED_SCAN_MS = 7 * 24 * 60 * 60 * 1000;
const MAINTENANCE_INTERVAL_MS = 60_000;

export interface JournalResultsStoreOptions {
  dataDir: string;
  maxSegmentBytes?: number;
  now?: () => Date;
  /** How long a scan that stopped being current stays readable (default 7 days). */
  supersededScanMs?: number;
  /** How often history is let go while nothing is written (default a minute). */
  maintenanceIntervalMs?: number;
}

export class JournalResultsStore implements ResultsStore {
  readonly #journal: Journal;
  readonly #now: () => Date;
  readonly #supersededScanMs: number;
  readonly #maintenanceIntervalMs: number;
  #open = false;
  #policies = new Map<string, Held<Policy>>();
  #triage = new Map<string, Held<TriageMark>>();
  #prs = new Map<string, Held<PullRequestRecord>>();
  #scans = new ScanIndex();
  #inventories = new Map<string, Held<Inventory>>();
  #repositories = new Map<string, Held<RepositoryRecord>>();
  /** Findings and fixed ones are the record's body, read back by position. */
  #advisory = new Map<string, Held<Omit<AdvisoryState, 'findings' | 'fixed'>>>();
  #repoCoverage = new Map<string, Held<RepositoryCoverage>>();
  #coverage = new Map<string, Held<CoverageState>>();
  #mappings = new Map<string, Held<ExportMappingRecord>>();
  /** By token hash: a request with an API token is looked up by it. */
  #tokens = new Map<string, Held<ApiTokenRecord>>();
  readonly #segments = new SegmentUse();
  #maintaining: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: JournalResultsStoreOptions) {
    if (typeof opts?.dataDir !== 'string' || opts.dataDir === '') throw new TypeError('JournalResultsStore needs a dataDir');
    this.#journal = new Journal(path.join(opts.dataDir, RESULTS_DIR), { maxSegmentBytes: opts.maxSegmentBytes });
    this.#now = opts.now ?? (() => new Date());
    this.#supersededScanMs = opts.supersededScanMs ?? SUPERSEDED_SCAN_MS;
    this.#maintenanceIntervalMs = opts.maintenanceIntervalMs ?? MAINTENANCE_INTERVAL_MS;
  }

  async open(): Promise<void> {
    await this.#journal.open((meta, body, segment) => {
      this.#segments.recorded(segment);
      this.#apply(meta as Meta, body, segment);
    });
    this.#scans.replayed();
    this.#open = true;
    this.#maintainSoon();
    this.#timer = setInterval(() => this.#maintainSoon(), this.#maintenanceIntervalMs).unref();
  }

  async close(): Promise<void> {
    this.#open = false;
    if (this.#timer) clearInterval(this.#timer);
    await this.#maintaining?.catch(() => undefined);
    await this.#journal.close();
  }

  /** How many entries each in-memory structure holds (bench/store-footprint.ts). */
  footprint(): Record<string, number> {
    return {
      ...this.#scans.sizes(),
      policies: this.#policies.size,
      triage: this.#triage.size,
      pullRequests: this.#prs.size,
      inventories: this.#inventories.size,
      repositories: this.#repositories.size,
      advisory: this.#advisory.size,
      repoCoverage: this.#repoCoverage.size,
      coverage: this.#coverage.size,
      mappings: this.#mappings.size,
      tokens: this.#tokens.size,
      segments: this.#segments.size.segments,
    };
  }

  async getPolicy(clientKey: string): Promise<Policy | undefined> {
    await this.#settled();
    return clone(this.#policies.get(clientKey)?.value);
  }

  async putPolicy(clientKey: string, policy: Policy): Promise<void> {
    await this.#write({ t: 'policy', clientKey, policy: clone(policy) });
  }

  async putTriage(mark: TriageMark): Promise<void> {
    await this.#write({ t: 'triage', mark: clone(mark) });
  }

  async clearTriage(clientKey: string, repoUuid: string, fingerprint: string): Promise<boolean> {
    await this.#settled();
    if (!this.#triage.has(triageKey(clientKey, repoUuid, fingerprint))) return false;
    await this.#write({ t: 'untriage', clientKey, repoUuid, fingerprint });
    return true;
  }

  async listTriage(clientKey: string, repoUuid?: string): Promise<TriageMark[]> {
    await this.#settled();
    return [...this.#triage.values()]
      .map((h) => h.value)
      .filter((m) => m.clientKey === clientKey && (repoUuid === undefined || m.repoUuid === repoUuid))
      .map(clone);
  }

  async getPullRequest(clientKey: string, repoUuid: string, prId: number): Promise<PullRequestRecord | undefined> {
    await this.#settled();
    return clone(this.#prs.get(prKey(clientKey, repoUuid, prId))?.value);
  }

  async putPullRequest(record: PullRequestRecord): Promise<void> {
    await this.#write({ t: 'pr', record: clone(record) });
  }

  async listPullRequests(clientKey: string, repoUuid: string): Promise<PullRequestRecord[]> {
    await this.#settled();
    return [...this.#prs.values()]
      .map((h) => h.value)
      .filter((r) => r.clientKey === clientKey && r.repoUuid === repoUuid)
      .map(clone);
  }

  async putScan(scan: ScanRecord): Promise<void> {
    const { findings, ...summary } = scan;
    await this.#write({ t: 'scan', summary: clone(summary) }, JSON.stringify(findings));
  }

  async getScan(clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null = null): Promise<ScanRecord | undefined> {
    await this.#settled();
    this.#sweep();
    const entry = this.#scans.get(clientKey, repoUuid, commit, kind, prId);
    if (!entry) return undefined;
    const findings = JSON.parse(await this.#journal.readBody(entry.body)) as ScanRecord['findings'];
    return { ...clone(entry.summary), findings };
  }

  async listScans(clientKey: string, repoUuid?: string): Promise<ScanSummary[]> {
    await this.#settled();
    this.#sweep();
    return this.#scans.list(clientKey, repoUuid).map((e) => clone(e.summary));
  }

  async listPullRequestScans(clientKey: string, repoUuid: string, prId: number): Promise<ScanSummary[]> {
    await this.#settled();
    this.#sweep();
    return this.#scans.ofPullRequest(clientKey, repoUuid, prId).map((e) => clone(e.summary));
  }

  async putInventory(inventory: InventoryRecord): Promise<void> {
    const { packages, sbom, ...rest } = inventory;
    await this.#write({ t: 'inventory', inventory: clone(rest) }, JSON.stringify({ packages, sbom }));
  }

  async getInventory(clientKey: string, repoUuid: string, branch: string): Promise<InventoryRecord | undefined> {
    await this.#settled();
    const held = this.#inventories.get(inventoryKey(clientKey, repoUuid, branch));
    if (!held?.body) return undefined;
    const { packages, sbom } = JSON.parse(await this.#journal.readBody(held.body)) as Pick<InventoryRecord, 'packages' | 'sbom'>;
    return { ...clone(held.value), packages, sbom };
  }

  async listInventories(clientKey: string): Promise<InventorySummary[]> {
    await this.#settled();
    return [...this.#inventories.values()].map((h) => h.value).filter((i) => i.clientKey === clientKey).map(clone);
  }

  async putAdvisoryState(state: AdvisoryState): Promise<void> {
    const { findings, fixed, ...rest } = state;
    await this.#write({ t: 'advisory', state: clone(rest) }, JSON.stringify({ findings, fixed }));
  }

  async getAdvisoryState(clientKey: string, repoUuid: string): Promise<AdvisoryState | undefined> {
    await this.#settled();
    const held = this.#advisory.get(repoKey(clientKey, repoUuid));
    if (!held?.body) return undefined;
    const { findings, fixed } = JSON.parse(await this.#journal.readBody(held.body)) as Pick<AdvisoryState, 'findings' | 'fixed'>;
    return { ...clone(held.value), findings, fixed };
  }

  async getExportMapping(clientKey: string): Promise<ExportMappingRecord | undefined> {
    await this.#settled();
    return clone(this.#mappings.get(clientKey)?.value);
  }

  async putExportMapping(clientKey: string, record: ExportMappingRecord | null): Promise<void> {
    await this.#write({ t: 'mapping', clientKey, record: clone(record) });
  }

  async putRepository(record: RepositoryRecord): Promise<void> {
    await this.#write({ t: 'repository', record: clone(record) });
  }

  async getRepository(clientKey: string, uuid: string): Promise<RepositoryRecord | undefined> {
    await this.#settled();
    return clone(this.#repositories.get(repoKey(clientKey, uuid))?.value);
  }

  async listRepositories(clientKey: string): Promise<RepositoryRecord[]> {
    await this.#settled();
    return [...this.#repositories.values()].map((h) => h.value).filter((r) => r.clientKey === clientKey).map(clone);
  }

  async putRepositoryCoverage(entry: RepositoryCoverage): Promise<void> {
    await this.#write({ t: 'repo-coverage', entry: clone(entry) });
  }

  async listRepositoryCoverage(clientKey: string): Promise<RepositoryCoverage[]> {
    await this.#settled();
    return [...this.#repoCoverage.values()].map((h) => h.value).filter((e) => e.clientKey === clientKey).map(clone);
  }

  async getCoverage(clientKey: string): Promise<CoverageState | undefined> {
    await this.#settled();
    return clone(this.#coverage.get(clientKey)?.value);
  }

  async putCoverage(state: CoverageState): Promise<void> {
    await this.#write({ t: 'coverage', state: clone(state) });
  }

  async putApiToken(record: ApiTokenRecord): Promise<void> {
    await this.#write({ t: 'token', record: clone(record) });
  }

  async listApiTokens(clientKey: string): Promise<ApiTokenRecord[]> {
    await this.#settled();
    return [...this.#tokens.values()].map((h) => h.value).filter((t) => t.clientKey === clientKey).map(clone);
  }

  async deleteApiToken(clientKey: string, id: string): Promise<boolean> {
    await this.#settled();
    if (![...this.#tokens.values()].some((h) => h.value.clientKey === clientKey && h.value.id === id)) return false;
    await this.#write({ t: 'untoken', clientKey, id });
    return true;
  }

  async findApiToken(hash: string): Promise<ApiTokenRecord | undefined> {
    await this.#settled();
    return clone(this.#tokens.get(hash)?.value);
  }

  async forgetTenant(clientKey: string): Promise<void> {
    await this.#write({ t: 'forget', clientKey });
  }

  /** Appends, applies to memory in call order, and resolves once durable. */
  async #write(meta: Meta, body?: string): Promise<void> {
    if (!this.#open) throw new Error('results store is not open');
    const { body: ref, segment, durable } = this.#journal.append(meta, body);
    this.#segments.recorded(segment);
    this.#apply(meta, ref, segment);
    this.#maintainSoon();
    await durable;
  }

  /** Reads never return what a crash could still take back. */
  async #settled(): Promise<void> {
    if (!this.#open) throw new Error('results store is not open');
    await this.#journal.barrier();
  }

  /** The one place a record changes memory, written or replayed. */
  #apply(meta: Meta, body: BodyRef | null, segment: number, releasedAt?: string): void {
    switch (meta.t) {
      case 'policy':
        this.#hold(this.#policies, meta.clientKey, { value: meta.policy, segment, body: null });
        return;
      case 'triage':
        this.#hold(this.#triage, triageKey(meta.mark.clientKey, meta.mark.repoUuid, meta.mark.fingerprint), { value: meta.mark, segment, body: null });
        return;
      case 'untriage':
        this.#hold(this.#triage, triageKey(meta.clientKey, meta.repoUuid, meta.fingerprint), undefined);
        return;
      case 'pr': {
        const r = meta.record;
        const key = prKey(r.clientKey, r.repoUuid, r.prId);
        const before = this.#prs.get(key)?.value.publishedCommit ?? null;
        this.#hold(this.#prs, key, { value: r, segment, body: null });
        if (before !== r.publishedCommit) {
          this.#scans.pin(r.clientKey, r.repoUuid, r.publishedCommit, 'pull_request', r.prId);
          this.#scans.unpin(r.clientKey, r.repoUuid, before, 'pull_request', r.prId, r.updatedAt);
        }
        return;
      }
      case 'scan':
        if (body) this.#scans.put({ summary: meta.summary, body, segment }, this.#segments, releasedAt);
        return;
      case 'inventory': {
        const i = meta.inventory;
        if (!body) return;
        const key = inventoryKey(i.clientKey, i.repoUuid, i.branch);
        const before = this.#inventories.get(key)?.value.commit ?? null;
        this.#hold(this.#inventories, key, { value: i, segment, body });
        if (before !== i.commit) {
          this.#scans.pin(i.clientKey, i.repoUuid, i.commit, 'push', null);
          this.#scans.unpin(i.clientKey, i.repoUuid, before, 'push', null, i.updatedAt);
        }
        return;
      }
      case 'advisory':
        if (body) this.#hold(this.#advisory, repoKey(meta.state.clientKey, meta.state.repoUuid), { value: meta.state, segment, body });
        return;
      case 'mapping':
        this.#hold(this.#mappings, meta.clientKey, meta.record ? { value: meta.record, segment, body: null } : undefined);
        return;
      case 'repository':
        this.#hold(this.#repositories, repoKey(meta.record.clientKey, meta.record.uuid), { value: meta.record, segment, body: null });
        return;
      case 'repo-coverage':
        this.#hold(this.#repoCoverage, repoKey(meta.entry.clientKey, meta.entry.repoUuid), { value: meta.entry, segment, body: null });
        return;
      case 'coverage':
        this.#hold(this.#coverage, meta.state.clientKey, { value: meta.state, segment, body: null });
        return;
      case 'token':
        this.#hold(this.#tokens, meta.record.hash, { value: meta.record, segment, body: null });
        return;
      case 'untoken':
        for (const [hash, held] of this.#tokens) if (held.value.clientKey === meta.clientKey && held.value.id === meta.id) this.#hold(this.#tokens, hash, undefined, held);
        return;
      case 'forget':
        // Bodies stay in their segments until those go: no key leads to them any more.
        for (const map of [this.#triage, this.#prs, this.#inventories, this.#advisory, this.#repositories, this.#repoCoverage] as Map<string, Held<unknown>>[]) {
          for (const [key, held] of map) if ((JSON.parse(key) as string[])[0] === meta.clientKey) this.#hold(map, key, undefined, held);
        }
        for (const [hash, held] of this.#tokens) if (held.value.clientKey === meta.clientKey) this.#hold(this.#tokens, hash, undefined, held);
        this.#hold(this.#policies, meta.clientKey, undefined);
        this.#hold(this.#coverage, meta.clientKey, undefined);
        this.#hold(this.#mappings, meta.clientKey, undefined);
        this.#scans.forgetTenant(meta.clientKey, this.#segments);
        return;
      case 'carry':
        this.#apply(meta.record, body, segment, meta.releasedAt);
        return;
      default:
        throw new Error(`results journal holds an unknown record type ${JSON.stringify((meta as { t?: unknown }).t)}`);
    }
  }

  /** Sets (or with `next` undefined, deletes) a value, moving its segment reference. */
  #hold<T>(map: Map<string, Held<T>>, key: string, next: Held<T> | undefined, known = map.get(key)): void {
    if (known) this.#segments.unref(known.segment);
    if (next) {
      map.set(key, next);
      this.#segments.ref(next.segment);
    } else map.delete(key);
  }

  #sweep(): void {
    const now = this.#now().getTime();
    if (Number.isFinite(now)) this.#scans.sweep(now - this.#supersededScanMs, this.#segments);
  }

  /** Starts letting history go unless that is already under way. */
  #maintainSoon(): void {
    if (this.#maintaining || !this.#open) return;
    this.#maintaining = (async () => {
      await Promise.resolve();
      this.#sweep();
      await dropUnneededSegments(this.#journal, this.#segments, (segment) => this.#carryForward(segment), () => this.#open);
    })().finally(() => {
      this.#maintaining = null;
    });
    // A failure (disk full) leaves everything in place; the next write or tick tries again.
    this.#maintaining.catch(() => undefined);
  }

  /** Copies every live record of `segment` to the journal's head, whole. */
  async #carryForward(segment: number): Promise<void> {
    const held: { meta: Meta; body: BodyRef | null; releasedAt?: string; still: () => boolean }[] = [];
    const keep = <T>(map: Map<string, Held<T>>, toMeta: (value: T, key: string) => Meta) => {
      for (const [key, h] of map) if (h.segment === segment) held.push({ meta: toMeta(h.value, key), body: h.body, still: () => map.get(key) === h });
    };
    keep(this.#policies, (policy, clientKey) => ({ t: 'policy', clientKey, policy }));
    keep(this.#triage, (mark) => ({ t: 'triage', mark }));
    keep(this.#prs, (record) => ({ t: 'pr', record }));
    keep(this.#inventories, (inventory) => ({ t: 'inventory', inventory }));
    keep(this.#advisory, (state) => ({ t: 'advisory', state }));
    keep(this.#repositories, (record) => ({ t: 'repository', record }));
    keep(this.#repoCoverage, (entry) => ({ t: 'repo-coverage', entry }));
    keep(this.#coverage, (state) => ({ t: 'coverage', state }));
    keep(this.#mappings, (record, clientKey) => ({ t: 'mapping', clientKey, record }));
    keep(this.#tokens, (record) => ({ t: 'token', record }));
    for (const entry of this.#scans.inSegment(segment)) {
      held.push({ meta: { t: 'scan', summary: entry.summary }, body: entry.body, releasedAt: entry.releasedAt, still: () => this.#scans.isLive(entry) });
    }
    const bodies = await Promise.all(held.map((h) => (h.body ? this.#journal.readBody(h.body) : Promise.resolve(undefined))));
    let durable: Promise<void> = Promise.resolve();
    for (const [i, h] of held.entries()) {
      // Re-checked: the value may have been replaced or forgotten while bodies were read.
      if (!this.#open || !h.still()) continue;
      const meta: Meta = { t: 'carry', record: h.meta, ...(h.releasedAt === undefined ? {} : { releasedAt: h.releasedAt }) };
      const appended = this.#journal.append(meta, bodies[i]);
      this.#segments.recorded(appended.segment);
      this.#apply(meta, appended.body, appended.segment);
      durable = appended.durable;
    }
    await durable;
  }
}

const triageKey = (clientKey: string, repoUuid: string, fingerprint: string) => JSON.stringify([clientKey, repoUuid, fingerprint]);
const prKey = (clientKey: string, repoUuid: string, prId: number) => JSON.stringify([clientKey, repoUuid, prId]);
const repoKey = (clientKey: string, uuid: string) => JSON.stringify([clientKey, uuid]);
const inventoryKey = (clientKey: string, repoUuid: string, branch: string) => JSON.stringify([clientKey, repoUuid, branch]);

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
