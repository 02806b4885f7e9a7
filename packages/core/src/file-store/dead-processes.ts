/**
 * Public entry points to compaction for code that manages processes: `markProcessDead(pid)`
 * for a process manager that knows when a worker died, and `compactDeadProcesses()` for a
 * maintenance job. Both fold the files of dead processes into the archive (compaction.ts) and
 * throw typed errors; the FileStore and the cluster helper call compaction themselves and only
 * report.
 */
import { describeValue, InvalidOptionError } from '../errors.js';
import { compactDirectory } from './compaction.js';
import { DIRECTORY_ENV, ensureDirectory } from './directory.js';

/** Options of {@link markProcessDead} and {@link compactDeadProcesses}. */
export interface DeadProcessOptions {
  /** The multi-process directory. @default process.env.PROMETHEUS_MULTIPROC_DIR */
  readonly dir?: string;
}

/** What a compaction did. */
export interface CompactionReport {
  /**
   * True when another live process was compacting the directory, so nothing was done here.
   * The files left are folded in by the next compaction (any scrape or FileStore start does one).
   */
  readonly busy: boolean;
  /** File names folded into the archive. */
  readonly absorbed: readonly string[];
  /** File names removed (those absorbed now and leftovers of an interrupted compaction). */
  readonly removed: readonly string[];
}

/**
 * Tells promfork that the process `pid` has exited: its metrics file is folded into the archive
 * (counters, histograms, summaries and non-live gauges keep counting; `live*` and `all`
 * gauges disappear) and removed. For process managers other than node:cluster (which
 * {@link compactOnWorkerExit} covers) and PM2 (nothing needed). A file whose pid belongs to a
 * running process with the same start time is left alone: call this after the process exited.
 *
 * Throws InvalidOptionError for a bad pid or options, StoreError (PROMFORK_DIRECTORY_UNUSABLE,
 * PROMFORK_COMPACTION_FAILED) when the directory or the archive cannot be used.
 */
export function markProcessDead(pid: number, options: DeadProcessOptions = {}): CompactionReport {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `markProcessDead expects a process id (a positive integer), got ${describeValue(pid)}`,
    );
  }
  const dir = resolveDirectory('markProcessDead', options);
  return report(compactDirectory(dir, { pids: new Set([pid]) }));
}

/**
 * Folds the files of every dead process in the directory into the archive. Useful for a
 * maintenance job or before reading the directory with other tools; the FileStore and the
 * cluster helper already do it on their own. Throws like {@link markProcessDead}.
 */
export function compactDeadProcesses(options: DeadProcessOptions = {}): CompactionReport {
  return report(compactDirectory(resolveDirectory('compactDeadProcesses', options)));
}

function report(result: CompactionReport): CompactionReport {
  return { busy: result.busy, absorbed: result.absorbed, removed: result.removed };
}

/**
 * Validates `{ dir? }` options (plus `extraKeys`, checked by the caller) and returns the
 * directory, made sure to exist and be usable.
 */
export function resolveDirectory(
  caller: string,
  options: unknown,
  extraKeys: readonly string[] = [],
): string {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `${caller} options must be an object, got ${describeValue(options)}`,
    );
  }
  const allowed = ['dir', ...extraKeys];
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        'PROMFORK_UNKNOWN_OPTION',
        `${caller} does not accept the option ${describeValue(key)}; expected ` +
          allowed.map((k) => `"${k}"`).join(' or '),
      );
    }
  }
  const given = (options as { dir?: unknown }).dir;
  if (given !== undefined && (typeof given !== 'string' || given === '')) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `${caller} option "dir" must be a non-empty string, got ${describeValue(given)}`,
    );
  }
  const dir = given ?? process.env[DIRECTORY_ENV];
  if (dir === undefined || dir === '') {
    throw new InvalidOptionError(
      'PROMFORK_MISSING_OPTION',
      `${caller} needs a directory: pass { dir } or set ${DIRECTORY_ENV}`,
    );
  }
  return ensureDirectory(dir);
}
