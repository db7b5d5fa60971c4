/**
 * The hot set: queued jobs only, kept sorted by acceptance order so that claiming the
 * oldest due jobs never looks at the (much larger) set of done and dead jobs. New jobs
 * arrive in order and are appended; a requeued job goes back to its original place.
 */
export interface Queueable {
  readonly seq: number;
  /**
   * runAfter is a canonical UTC ISO time (YYYY-MM-DDTHH:mm:ss.sssZ), which sorts as text in
   * time order: comparing strings spares a Date.parse per job when replaying 100k of them.
   */
  readonly job: { readonly runAfter: string };
}

export class JobQueue<T extends Queueable> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  add(item: T): void {
    const last = this.#items.at(-1);
    if (!last || last.seq < item.seq) this.#items.push(item);
    else this.#items.splice(this.#indexOf(item.seq), 0, item);
  }

  remove(item: T): void {
    // Equal seqs are possible only between records from before seqs were stored: look past them.
    for (let i = this.#indexOf(item.seq); i < this.#items.length && this.#items[i]!.seq === item.seq; i++) {
      if (this.#items[i] === item) {
        this.#items.splice(i, 1);
        return;
      }
    }
  }

  /** Items whose runAfter has passed, oldest first, taken lazily; the queue must not change meanwhile. */
  *dueFrom(now: string): Generator<T> {
    for (const item of this.#items) if (item.job.runAfter <= now) yield item;
  }

  /** First index whose seq is >= `seq`. */
  #indexOf(seq: number): number {
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#items[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
