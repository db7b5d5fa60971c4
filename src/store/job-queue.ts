/**
 * The hot set: queued jobs only, so that claiming never looks at the (much larger) set of
 * done and dead jobs, nor at queued jobs that are not due yet (a backlog waiting for its
 * Retry-After). Two heaps:
 *   - waiting, ordered by runAfter: a claim at `now` moves the jobs that became due;
 *   - ready, ordered by acceptance (seq): a claim takes the oldest due jobs from here.
 * A claim of k jobs costs O((k + newly due) log n), whatever n is.
 *
 * Removal is lazy: `#current` maps each queued item to its one valid heap node, and a node
 * that is not its item's current one is discarded when it reaches the top of a heap.
 */
export interface Queueable {
  readonly seq: number;
  /**
   * runAfter is a canonical UTC ISO time (YYYY-MM-DDTHH:mm:ss.sssZ), which sorts as text in
   * time order: comparing strings spares a Date.parse per job when replaying 100k of them.
   */
  readonly job: { readonly runAfter: string };
}

interface Node<T> {
  readonly item: T;
  readonly seq: number;
  /** runAfter when the item was queued: a change of runAfter re-queues the item. */
  readonly runAfter: string;
}

class MinHeap<N> {
  readonly #items: N[] = [];
  constructor(readonly before: (a: N, b: N) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  peek(): N | undefined {
    return this.#items[0];
  }

  push(node: N): void {
    const items = this.#items;
    let i = items.push(node) - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!this.before(node, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = node;
  }

  pop(): N | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.before(items[right]!, items[left]!) ? right : left;
      if (!this.before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

export class JobQueue<T extends Queueable> {
  readonly #current = new Map<T, Node<T>>();
  readonly #waiting = new MinHeap<Node<T>>((a, b) => a.runAfter < b.runAfter || (a.runAfter === b.runAfter && a.seq < b.seq));
  readonly #ready = new MinHeap<Node<T>>((a, b) => a.seq < b.seq);

  get size(): number {
    return this.#current.size;
  }

  /** Heap nodes held, stale ones (removed items not yet discarded) included. */
  get nodes(): { waiting: number; ready: number } {
    return { waiting: this.#waiting.size, ready: this.#ready.size };
  }

  /** Queues an item, or re-queues it under its current runAfter. */
  add(item: T): void {
    const node: Node<T> = { item, seq: item.seq, runAfter: item.job.runAfter };
    this.#current.set(item, node);
    this.#waiting.push(node);
  }

  remove(item: T): void {
    this.#current.delete(item);
  }

  /**
   * Due items (runAfter <= now), oldest first. An item is taken off the queue when the
   * caller asks for the next one; the caller then changes its status (or it was superseded):
   * items the caller never asked past stay queued.
   */
  *takeDue(now: string): Generator<T> {
    for (let node = this.#waiting.peek(); node && node.runAfter <= now; node = this.#waiting.peek()) {
      this.#waiting.pop();
      if (this.#live(node)) this.#ready.push(node);
    }
    // A caller may claim with an earlier `now` than a previous one: ready items that are not
    // due at this `now` are set aside and put back.
    const notYet: Node<T>[] = [];
    try {
      for (let node = this.#ready.peek(); node; node = this.#ready.peek()) {
        if (!this.#live(node)) {
          this.#ready.pop();
          continue;
        }
        if (node.runAfter > now) {
          notYet.push(this.#ready.pop()!);
          continue;
        }
        yield node.item;
        this.#ready.pop();
        this.#current.delete(node.item);
      }
    } finally {
      for (const node of notYet) this.#ready.push(node);
    }
  }

  #live(node: Node<T>): boolean {
    return this.#current.get(node.item) === node;
  }
}
