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
