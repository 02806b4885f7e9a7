/**
 * Multi-process file store: one file per process in a shared directory, merged at scrape time.
 * The names exported here are the contract default-store.ts, the cluster helpers and the tests
 * code against; the file format is documented in packages/core/FORMAT.md.
 */
export { type CompactOnWorkerExitOptions, compactOnWorkerExit } from './cluster.js';
export {
  type CompactionReport,
  compactDeadProcesses,
  type DeadProcessOptions,
  markProcessDead,
} from './dead-processes.js';
export {
  DIRECTORY_ENV,
  type PrepareDirectoryOptions,
  prepareDirectory,
} from './directory.js';
export {
  CONFLICTS_METRIC,
  EXEMPLARS_DROPPED_METRIC,
  FILES_METRIC,
  FileStore,
  type FileStoreOptions,
  READ_ERRORS_METRIC,
  SCRAPE_DURATION_METRIC,
  TORN_READS_METRIC,
  WRITE_ERRORS_METRIC,
} from './file-store.js';
export { ARCHIVE_FILE_NAME, FORMAT_VERSION } from './format.js';
export { LOCK_FILE_NAME } from './lock.js';
export { COMPACTION_ERRORS_METRIC, SCRAPE_COMPACTION_MAX_FILES } from './scrape-compaction.js';
