/**
 * Multi-process file store. OWNED BY THE FILE-STORE WORK: these names and signatures are the
 * contract default-store.ts, the cluster examples and the tests code against.
 */
import type { Cells, CollectedFamily, Store } from '../store.js';
import type { MetricDescriptor } from '../types.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** Directory shared by every process of the server. */
  readonly dir: string;
  /**
   * Called with problems that must not throw into the caller (write failures, damaged files).
   * @default writes one line to stderr per distinct problem
   */
  readonly onError?: (error: Error) => void;
}

/** Keeps this process's metrics in its own file in `dir` and merges every file on collect. */
export class FileStore implements Store {
  readonly kind = 'file';
  readonly dir: string;

  constructor(options: FileStoreOptions) {
    this.dir = options.dir;
    throw new Error('file store: not implemented yet');
  }
  declare(descriptor: MetricDescriptor): void {
    void descriptor;
  }
  series(descriptor: MetricDescriptor, labelValues: readonly string[]): Cells {
    void descriptor;
    void labelValues;
    throw new Error('file store: not implemented yet');
  }
  remove(descriptor: MetricDescriptor, labelValues: readonly string[]): void {
    void descriptor;
    void labelValues;
  }
  reset(descriptor: MetricDescriptor): void {
    void descriptor;
  }
  forget(descriptor: MetricDescriptor): void {
    void descriptor;
  }
  collect(filter?: (name: string) => boolean): CollectedFamily[] {
    void filter;
    return [];
  }
  flush(): void {}
  close(): void {}
}

/** Options of {@link prepareDirectory}. */
export interface PrepareDirectoryOptions {
  /** @default process.env.PROMETHEUS_MULTIPROC_DIR */
  readonly dir?: string;
}

/**
 * For a primary before it forks: creates the directory (0700) or removes promfork's files from
 * it, and checks it is writable; throws StoreError (PROMFORK_DIRECTORY_UNUSABLE) otherwise.
 * Returns the directory used.
 */
export function prepareDirectory(options?: PrepareDirectoryOptions): string {
  void options;
  throw new Error('file store: not implemented yet');
}
