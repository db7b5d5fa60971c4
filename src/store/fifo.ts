/** A first-in first-out list that drops its consumed head in chunks (Array#shift is O(n)). */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  /** Items still queued, and the consumed ones the array has not let go of yet. */
  get size(): { items: number; held: number } {
    return { items: this.#items.length - this.#head, held: this.#items.length };
  }

  /**
   * Puts the queued items in order of `key`, keeping the order of equal keys. Replay meets
   * items carried forward after younger ones; left there, they would block the items behind
   * them and, carried again before they reach the head, never go.
   */
  sortBy(key: (item: T) => string | number): void {
    this.#items = this.#items.slice(this.#head).sort((a, b) => {
      const x = key(a);
      const y = key(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    this.#head = 0;
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): void {
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
