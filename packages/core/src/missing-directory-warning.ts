/**
 * The warning for the failure promfork exists to prevent: several processes serving one app,
 * each counting in its own memory, so that every scrape shows only the share of whichever
 * process answered it, and nothing says so.
 *
 * It is written when the default store falls back to a MemoryStore (no
 * `PROMETHEUS_MULTIPROC_DIR`) in a process that is one of several: a node:cluster worker, or a
 * PM2 instance (PM2 sets `pm_id` and `NODE_APP_INSTANCE` in its processes' environment; its
 * fork mode with one instance is a single process and is left alone). Choosing a store
 * explicitly (`setDefaultStore(new MemoryStore())`, or a metric's `store` option) never reaches
 * the fallback, so it never warns.
 */
import cluster from 'node:cluster';

/**
 * What kind of multi-process member this process is (`'a node:cluster worker'`, ...), or
 * undefined when it is not one.
 */
export function multiProcessRole(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (cluster.isWorker) return 'a node:cluster worker';
  const pm2 = env.pm_id ?? env.NODE_APP_INSTANCE;
  if (pm2 === undefined) return undefined;
  if (env.exec_mode === 'fork_mode' && (env.instances ?? '1') === '1') return undefined;
  return `a PM2 instance (pm_id=${env.pm_id ?? '?'})`;
}

/** The warning text for `role` (see {@link multiProcessRole}). */
export function missingDirectoryWarning(role: string): string {
  return (
    `promfork: warning: process ${process.pid} is ${role}, but PROMETHEUS_MULTIPROC_DIR is not ` +
    'set, so its metrics stay in its own memory and each scrape shows only the counts of the ' +
    'process that answers it. Fix: call prepareDirectory() in the primary before ' +
    'cluster.fork(), or set PROMETHEUS_MULTIPROC_DIR to a directory every process can write ' +
    '(for PM2, in the ecosystem file). If per-process metrics are intended, call ' +
    'setDefaultStore(new MemoryStore()) before creating metrics to silence this warning.\n'
  );
}

/**
 * Writes the warning to stderr when this process is one of several. Called once, when the
 * default store falls back to memory. A synchronous write: a worker that exits right after
 * creating its metrics still shows it.
 */
export function warnIfMultiProcessWithoutDirectory(): void {
  const role = multiProcessRole();
  if (role !== undefined) process.stderr.write(missingDirectoryWarning(role));
}
