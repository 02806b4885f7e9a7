/**
 * The stores a scenario runs "ours" against. The MemoryStore always; the FileStore as soon as
 * it can be constructed (until the file store exists, its constructor throws and the scenario
 * records why its figure is missing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, MemoryStore, type Store } from '@promfork/core';

/** A store opened for one scenario, with its cleanup. */
export interface OpenStore {
  readonly kind: 'memory' | 'file';
  readonly store: Store;
  close(): void;
}

/** Result of {@link openStores}. */
export interface OpenStores {
  readonly memory: OpenStore;
  /** Undefined when the FileStore cannot be constructed; `fileError` says why. */
  readonly file: OpenStore | undefined;
  readonly fileError: string | undefined;
}

/** Makes a fresh private directory for a FileStore. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `promfork-bench-${prefix}-`));
}

/** Opens a MemoryStore and, if possible, a FileStore in a fresh temporary directory. */
export function openStores(prefix: string): OpenStores {
  const memoryStore = new MemoryStore();
  const memory: OpenStore = {
    kind: 'memory',
    store: memoryStore,
    close: () => memoryStore.close(),
  };
  const dir = makeTempDir(prefix);
  try {
    const fileStore = new FileStore({ dir });
    return {
      memory,
      file: {
        kind: 'file',
        store: fileStore,
        close: () => {
          fileStore.close();
          rmSync(dir, { recursive: true, force: true });
        },
      },
      fileError: undefined,
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { memory, file: undefined, fileError: (error as Error).message };
  }
}
