import type { Journal } from './journal.ts';

/**
 * How a journal's owner lets its oldest segments go (LowdbStore's jobs, the results store).
 * The owner counts, per segment, the records written and the live items that still point
 * into it. The oldest segment is deleted once nothing live is in it; when only a few live
 * items hold it, they are copied forward to the head first (`carry`), so one long-lived
 * item cannot keep a segment (and everything dead around it) for ever.
 *
 * Carrying happens once at most this share of the segment's records is live (or only a
 * couple of items are): each copy then frees many times its own size, so copying stays a
 * small fraction of the writes.
 */
const CARRY_WHEN_LIVE_AT_MOST = 0.1;
const CARRY_ALWAYS_AT_MOST = 2;

export class SegmentUse {
  readonly #records = new Map<number, number>();
  readonly #refs = new Map<number, number>();

  /** A record was written to (or replayed from) `segment`. */
  recorded(segment: number): void {
    this.#records.set(segment, (this.#records.get(segment) ?? 0) + 1);
  }

  ref(segment: number): void {
    this.#refs.set(segment, (this.#refs.get(segment) ?? 0) + 1);
  }

  unref(segment: number): void {
    const count = (this.#refs.get(segment) ?? 0) - 1;
    if (count <= 0) this.#refs.delete(segment);
    else this.#refs.set(segment, count);
  }

  /** Segments counted (records, live references). */
  get size(): { segments: number; referenced: number } {
    return { segments: this.#records.size, referenced: this.#refs.size };
  }

  /** Live references into a segment. */
  refsTo(segment: number): number {
    return this.#refs.get(segment) ?? 0;
  }

  /** Whether the segment's few live items should be copied forward so it can go. */
  worthCarrying(segment: number): boolean {
    return this.refsTo(segment) <= Math.max(CARRY_ALWAYS_AT_MOST, (this.#records.get(segment) ?? 0) * CARRY_WHEN_LIVE_AT_MOST);
  }

  forget(segment: number): void {
    this.#records.delete(segment);
    this.#refs.delete(segment);
  }
}

/**
 * Deletes the oldest sealed segments that nothing live needs, carrying the few live items
 * of one forward first (`carry` must copy every live item of the segment to the head and
 * move its references). Stops at the first segment still worth keeping.
 */
export async function dropUnneededSegments(journal: Journal, use: SegmentUse, carry: (segment: number) => Promise<void>, isOpen: () => boolean): Promise<void> {
  for (;;) {
    const { first, writing } = journal.segments;
    if (first >= writing || !isOpen()) return;
    if (use.refsTo(first) > 0) {
      if (!use.worthCarrying(first)) return;
      await carry(first);
      if (use.refsTo(first) > 0 || !isOpen()) return;
    }
    await journal.dropOldest();
    use.forget(first);
  }
}
