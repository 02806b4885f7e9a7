/**
 * The store metrics use when their options name none. Chosen once, lazily, on first use:
 * a FileStore in `PROMETHEUS_MULTIPROC_DIR` when that variable is set and non-empty (the name
 * client_python uses), otherwise a MemoryStore, with a warning on stderr when this process is
 * a node:cluster worker or a PM2 instance (missing-directory-warning.ts). `setDefaultStore`
 * makes the choice in code, and silences that warning.
 *
 * This module's one variable is the only process-wide store state in promfork.
 */
import { describeValue, InvalidOptionError } from './errors.js';
import { FileStore } from './file-store/index.js';
import { MemoryStore } from './memory-store.js';
import { warnIfMultiProcessWithoutDirectory } from './missing-directory-warning.js';
import type { Store } from './store.js';

let defaultStore: Store | undefined;

/** `PROMETHEUS_MULTIPROC_DIR` when set and non-empty. */
function configuredDirectory(): string | undefined {
  const dir = process.env.PROMETHEUS_MULTIPROC_DIR;
  return dir === undefined || dir === '' ? undefined : dir;
}

/** The default store, creating it on first call (see the module comment for the choice). */
export function getDefaultStore(): Store {
  if (defaultStore === undefined) {
    const dir = configuredDirectory();
    if (dir !== undefined) {
      defaultStore = new FileStore({ dir });
    } else {
      defaultStore = new MemoryStore();
      warnIfMultiProcessWithoutDirectory();
    }
  }
  return defaultStore;
}

/**
 * The store whose other processes' families a scrape of the default registry adds: the default
 * store when it exists or would be a FileStore, else undefined. A memory fallback holds no
 * other process's families, so a scrape neither creates it nor triggers its warning (a worker
 * whose metrics all name their own store is not misconfigured).
 */
export function defaultStoreForForeignFamilies(): Store | undefined {
  if (defaultStore !== undefined) return defaultStore;
  return configuredDirectory() === undefined ? undefined : getDefaultStore();
}

/**
 * Replaces the default store. Call it before creating metrics: a metric keeps the store it was
 * created with, so metrics created earlier stay on the previous store.
 */
export function setDefaultStore(store: Store): void {
  if (!isStore(store)) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `setDefaultStore: invalid store ${describeValue(store)}: expected an object implementing Store`,
    );
  }
  defaultStore = store;
}

/** True when `value` has the methods of the Store contract. */
export function isStore(value: unknown): value is Store {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['declare', 'series', 'remove', 'reset', 'forget', 'collect', 'flush', 'close'].every(
    (method) => typeof candidate[method] === 'function',
  );
}
