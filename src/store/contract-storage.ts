import { afterEach, beforeEach } from 'vitest';

/** What a contract suite's factory opens: a store, a way to open its storage again, and a clean-up. */
export interface OpenedStorage<S> {
  store: S;
  reopen: () => Promise<S>;
  cleanup: () => Promise<void>;
}

/**
 * The storage of a contract suite, fresh for each test: `open` runs before each test and its
 * store is handed to `use`; the storage is cleaned up after the test. The returned function is
 * a restart: it closes the current store, opens the same storage again and hands the new store
 * to `use` too (and returns it).
 */
export function storagePerTest<S extends { close(): Promise<void> }>(open: () => Promise<OpenedStorage<S>>, use: (store: S) => void): () => Promise<S> {
  let opened: OpenedStorage<S> | undefined;
  let current: S;
  beforeEach(async () => {
    opened = await open();
    current = opened.store;
    use(current);
  });
  afterEach(async () => {
    await opened?.cleanup();
  });
  return async () => {
    await current.close();
    current = await opened!.reopen();
    use(current);
    return current;
  };
}
