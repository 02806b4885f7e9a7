/**
 * The node:cluster helper for the primary: compact a worker's file as soon as the primary sees
 * the worker exit, so the directory stays at "live workers + one archive" even when nobody
 * scrapes for a while.
 *
 * The 'exit' event fires after the worker was reaped, so its pid is no longer alive (or already
 * belongs to another process with another start time) and the liveness check agrees it is
 * dead. Exits within one event-loop turn (a shutdown, a crash loop) share one compaction.
 * Compaction here covers every dead process's file, not only the exited worker's, so one that
 * was missed earlier (lock busy, a failure) is picked up at the next exit.
 */
import cluster from 'node:cluster';
import { describeValue, InvalidOptionError, StoreError } from '../errors.js';
import { compactDirectory } from './compaction.js';
import { resolveDirectory } from './dead-processes.js';
import { defaultOnError, ProblemReporter } from './problems.js';

/** Options of {@link compactOnWorkerExit}. */
export interface CompactOnWorkerExitOptions {
  /** The multi-process directory. @default process.env.PROMETHEUS_MULTIPROC_DIR */
  readonly dir?: string;
  /**
   * Called with compaction problems (never thrown into the primary's event loop). Each
   * distinct problem is reported once.
   * @default writes one line to stderr per distinct problem
   */
  readonly onError?: (error: Error) => void;
}

/**
 * In the node:cluster primary: from now on, whenever a worker exits, fold its metrics file into
 * the archive (counters and histograms keep counting, its `live*` and `all` gauges disappear).
 * Call it once, next to `prepareDirectory()`, before forking. Returns a function that stops
 * listening.
 *
 * Throws InvalidOptionError (PROMFORK_NOT_CLUSTER_PRIMARY) outside the cluster primary, and
 * for bad options; StoreError when the directory cannot be used.
 */
export function compactOnWorkerExit(options: CompactOnWorkerExitOptions = {}): () => void {
  const dir = resolveDirectory('compactOnWorkerExit', options, ['onError']);
  const onError = (options as { onError?: unknown }).onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `compactOnWorkerExit option "onError" must be a function, got ${describeValue(onError)}`,
    );
  }
  if (!cluster.isPrimary) {
    throw new InvalidOptionError(
      'PROMFORK_NOT_CLUSTER_PRIMARY',
      `compactOnWorkerExit must be called in the node:cluster primary, but process ${process.pid} ` +
        'is a cluster worker; call it where you call cluster.fork()',
    );
  }
  const reporter = new ProblemReporter(
    (onError as ((error: Error) => void) | undefined) ?? defaultOnError,
  );
  let pending: NodeJS.Immediate | undefined;
  const compact = (): void => {
    pending = undefined;
    try {
      compactDirectory(dir, { onProblem: (key, error) => reporter.report(key, error) });
      reporter.clear('compaction-failed');
    } catch (error) {
      reporter.report(
        'compaction-failed',
        error instanceof StoreError
          ? error
          : new StoreError(
              'PROMFORK_COMPACTION_FAILED',
              `Compacting the files of exited workers in ${describeValue(dir)} failed ` +
                `(${String(error)}); they stay in place and still count`,
              { cause: error },
            ),
      );
    }
  };
  const onExit = (): void => {
    pending ??= setImmediate(compact);
  };
  cluster.on('exit', onExit);
  return () => {
    cluster.off('exit', onExit);
    if (pending !== undefined) clearImmediate(pending);
    pending = undefined;
  };
}
