import { Fifo } from './fifo.ts';
import type { BodyRef } from './journal.ts';
import type { ScanKind, ScanSummary } from './results-types.ts';
import type { SegmentUse } from './segment-compaction.ts';

/**
 * The results store's scans in memory, with what decides how long each is kept.
 *
 * A scan is current while users can be shown it: it is the newest of its pull request or
 * of its branch (push scans name the branch they were pushed to), or an inventory (the
 * repository panel) or a pull-request record (its published result) points at it. A scan
 * that stops being current is released, at the time of the write that released it, and
 * dropped once `sweep` passes that time plus the store's grace period: a page opened on the
 * previous commit still finds its scan for a while. A push scan that names no branch
 * (written before branches were recorded) is kept.
 *
 * Released scans wait in a first-in first-out list, so a sweep costs what it drops. Release
 * times come from record timestamps and are nearly always in order; one out of order only
 * waits for those ahead of it, so nothing is ever dropped early. Replay meets carried copies
 * after younger scans, so open() puts the list back in time order (`replayed`).
 */

export interface ScanEntry {
  readonly summary: ScanSummary;
  readonly body: BodyRef;
  readonly segment: number;
  /** When it stopped being current (ISO time); absent while it is the newest of its group. */
  releasedAt?: string;
}

/** By key, not entry: a copy carried forward replaces the entry but keeps its place here. */
interface Released {
  key: string;
  at: number;
}

export const scanKey = (clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null) =>
  JSON.stringify([clientKey, repoUuid, commit, kind, prId]);
const keyOf = (s: ScanSummary) => scanKey(s.clientKey, s.repoUuid, s.commit, s.kind, s.prId);
const repoKey = (clientKey: string, repoUuid: string) => JSON.stringify([clientKey, repoUuid]);
const prKey = (clientKey: string, repoUuid: string, prId: number | null) => JSON.stringify([clientKey, repoUuid, prId]);

/**
 * The scans of which only the newest is current: one pull request's, one branch's pushes, or
 * one repository's scans of another kind (whole default branch, history): a repository has one
 * default branch, so a whole-branch scan of a branch that stopped being it is let go too.
 */
function groupOf(s: ScanSummary): string {
  if (s.kind === 'pull_request') return JSON.stringify([s.clientKey, s.repoUuid, 'pr', s.prId]);
  if (s.kind !== 'push') return JSON.stringify([s.clientKey, s.repoUuid, s.kind]);
  // A push scan that names no branch cannot be placed among others: it is its own newest.
  return JSON.stringify(s.branch === undefined ? [s.clientKey, s.repoUuid, 'commit', s.commit] : [s.clientKey, s.repoUuid, 'branch', s.branch]);
}

function addTo(index: Map<string, Set<string>>, key: string, member: string): void {
  const set = index.get(key);
  if (set) set.add(member);
  else index.set(key, new Set([member]));
}

function deleteFrom(index: Map<string, Set<string>>, key: string, member: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) index.delete(key);
}

export class ScanIndex {
  readonly #entries = new Map<string, ScanEntry>();
  readonly #byRepo = new Map<string, Set<string>>();
  readonly #byPullRequest = new Map<string, Set<string>>();
  /** Group to the key of its newest scan. */
  readonly #newest = new Map<string, string>();
  /** Scan key to how many inventories and pull-request records point at it (the scan may not exist yet). */
  readonly #pins = new Map<string, number>();
  readonly #released = new Fifo<Released>();

  /** Entries in each structure (bench/store-footprint.ts: what grows with history). */
  sizes(): Record<string, number> {
    return {
      scans: this.#entries.size,
      scansByRepo: this.#byRepo.size,
      scansByPullRequest: this.#byPullRequest.size,
      scanGroups: this.#newest.size,
      scanPins: this.#pins.size,
      scansReleased: this.#released.size.held,
    };
  }

  /** After replay: released scans in time order (see Fifo#sortBy). */
  replayed(): void {
    this.#released.sortBy((r) => r.at);
  }

  get(clientKey: string, repoUuid: string, commit: string, kind: ScanKind, prId: number | null): ScanEntry | undefined {
    return this.#entries.get(scanKey(clientKey, repoUuid, commit, kind, prId));
  }

  list(clientKey: string, repoUuid?: string): ScanEntry[] {
    if (repoUuid === undefined) return [...this.#entries.values()].filter((e) => e.summary.clientKey === clientKey);
    return this.#members(this.#byRepo.get(repoKey(clientKey, repoUuid)));
  }

  ofPullRequest(clientKey: string, repoUuid: string, prId: number): ScanEntry[] {
    return this.#members(this.#byPullRequest.get(prKey(clientKey, repoUuid, prId)));
  }

  isLive(entry: ScanEntry): boolean {
    return this.#entries.get(keyOf(entry.summary)) === entry;
  }

  /** Live scans whose record is in `segment` (to carry them forward); walks the live scans. */
  inSegment(segment: number): ScanEntry[] {
    return [...this.#entries.values()].filter((e) => e.segment === segment);
  }

  /**
   * Stores a scan (replacing one of the same key). `releasedAt` is given for a carried copy
   * of a scan that had already stopped being current.
   */
  put(entry: ScanEntry, segments: SegmentUse, releasedAt?: string): void {
    const s = entry.summary;
    const key = keyOf(s);
    const known = this.#entries.get(key);
    if (known) segments.unref(known.segment);
    this.#entries.set(key, entry);
    segments.ref(entry.segment);
    addTo(this.#byRepo, repoKey(s.clientKey, s.repoUuid), key);
    if (s.kind === 'pull_request') addTo(this.#byPullRequest, prKey(s.clientKey, s.repoUuid, s.prId), key);

    const group = groupOf(s);
    if (releasedAt !== undefined) {
      this.#release(entry, releasedAt);
      return;
    }
    const previous = this.#newest.get(group);
    this.#newest.set(group, key);
    const before = previous === undefined || previous === key ? undefined : this.#entries.get(previous);
    if (before && !this.#isCurrent(before)) this.#release(before, s.createdAt);
  }

  pin(clientKey: string, repoUuid: string, commit: string | null, kind: ScanKind, prId: number | null): void {
    if (commit === null) return;
    const key = scanKey(clientKey, repoUuid, commit, kind, prId);
    this.#pins.set(key, (this.#pins.get(key) ?? 0) + 1);
  }

  /** Takes a pin away at `at` (ISO); the scan is released if nothing else keeps it current. */
  unpin(clientKey: string, repoUuid: string, commit: string | null, kind: ScanKind, prId: number | null, at: string): void {
    if (commit === null) return;
    const key = scanKey(clientKey, repoUuid, commit, kind, prId);
    const count = (this.#pins.get(key) ?? 0) - 1;
    if (count > 0) {
      this.#pins.set(key, count);
      return;
    }
    this.#pins.delete(key);
    const entry = this.#entries.get(key);
    if (entry && !this.#isCurrent(entry)) this.#release(entry, at);
  }

  /** Drops the scans released before `cutoff` (ms) that are still not current. */
  sweep(cutoff: number, segments: SegmentUse): void {
    for (let r = this.#released.peek(); r && r.at < cutoff; r = this.#released.peek()) {
      this.#released.shift();
      // Stale when the scan is gone, became current again, or was released again later.
      const entry = this.#entries.get(r.key);
      if (entry && !this.#isCurrent(entry) && releaseTime(entry.releasedAt) === r.at) this.#drop(entry, segments);
    }
  }

  /** Drops every scan of an installation, and what made any of them current. */
  forgetTenant(clientKey: string, segments: SegmentUse): void {
    for (const entry of this.list(clientKey)) this.#drop(entry, segments);
    const owned = (key: string) => (JSON.parse(key) as string[])[0] === clientKey;
    for (const key of this.#newest.keys()) if (owned(key)) this.#newest.delete(key);
    for (const key of this.#pins.keys()) if (owned(key)) this.#pins.delete(key);
  }

  #isCurrent(entry: ScanEntry): boolean {
    const key = keyOf(entry.summary);
    return this.#newest.get(groupOf(entry.summary)) === key || this.#pins.has(key);
  }

  #release(entry: ScanEntry, at: string): void {
    entry.releasedAt = at;
    this.#released.push({ key: keyOf(entry.summary), at: releaseTime(at) });
  }

  #drop(entry: ScanEntry, segments: SegmentUse): void {
    const s = entry.summary;
    const key = keyOf(s);
    if (this.#entries.get(key) !== entry) return;
    this.#entries.delete(key);
    segments.unref(entry.segment);
    deleteFrom(this.#byRepo, repoKey(s.clientKey, s.repoUuid), key);
    if (s.kind === 'pull_request') deleteFrom(this.#byPullRequest, prKey(s.clientKey, s.repoUuid, s.prId), key);
  }

  #members(keys: Set<string> | undefined): ScanEntry[] {
    return keys ? [...keys].map((k) => this.#entries.get(k)!) : [];
  }
}

/** A time that does not parse releases at once rather than never (it would block the list). */
function releaseTime(at: string | undefined): number {
  const t = at === undefined ? NaN : Date.parse(at);
  return Number.isFinite(t) ? t : 0;
}
