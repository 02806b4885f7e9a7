/**
 * Tests that run once per store: a MemoryStore, and a FileStore over a temporary directory of
 * its own, each with a registry of its own.
 */
import { FileStore, MemoryStore, Registry, type Store } from '../../src/index.js';
import { tempDir } from '../file-store-helpers.js';

/** A registry and a store; pass `...iso` into metric options. */
export interface OnStore {
  readonly registry: Registry;
  readonly iso: { readonly registers: Registry[]; readonly store: Store };
}

/**
 * `{ MemoryStore, FileStore }`, each making a fresh {@link OnStore}; `close` closes the
 * FileStores made and removes their directories (call it in `after`).
 */
export function bothStores(prefix: string): {
  readonly kinds: Readonly<Record<string, () => OnStore>>;
  close(): void;
} {
  const cleanups: (() => void)[] = [];
  const on = (store: Store): OnStore => {
    const registry = new Registry();
    return { registry, iso: { registers: [registry], store } };
  };
  return {
    kinds: {
      MemoryStore: () => on(new MemoryStore()),
      FileStore: () => {
        const { dir, cleanup } = tempDir(prefix);
        const store = new FileStore({ dir, onError: () => {} });
        cleanups.push(() => {
          store.close();
          cleanup();
        });
        return on(store);
      },
    },
    close: () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}
