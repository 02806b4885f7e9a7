/**
 * The directory `prepareDirectory()` makes when it is given none: a private temporary
 * directory owned by the primary, exported to the processes it forks afterwards through
 * `PROMETHEUS_MULTIPROC_DIR`, and removed when the primary exits.
 *
 * Removal happens on the process's 'exit' event and on SIGINT, SIGTERM and SIGHUP when nothing
 * else listens for the signal (a program with its own handler exits through 'exit' anyway). In
 * that case the signal is raised again after the cleanup, so the process still dies of it as it
 * would have without promfork. Only promfork's own files are removed, then the directory if it
 * is empty: a file someone else put there keeps it.
 */
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECTORY_ENV, prepareDirectory } from './directory.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Creates a private directory (mode 0700, under the OS temp directory), sets
 * `process.env.PROMETHEUS_MULTIPROC_DIR` to it so that processes forked afterwards inherit it,
 * and arranges its removal at exit. Returns its absolute path.
 */
export function createPrivateDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'promfork-'));
  process.env[DIRECTORY_ENV] = dir;
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    try {
      // The same removal a fresh start does: promfork's files only.
      prepareDirectory({ dir });
      rmdirSync(dir);
    } catch {
      // At exit there is nobody to report to; a directory left behind in the temp
      // directory is harmless.
    }
  };
  process.on('exit', remove);
  const listeners = new Map<NodeJS.Signals, () => void>();
  const onSignal = (signal: NodeJS.Signals): void => {
    // Someone else handles the signal: they decide whether and when the process ends, and the
    // workers may still be writing, so the directory stays until 'exit'.
    if (process.listenerCount(signal) > 1) return;
    for (const [other, listener] of listeners) process.off(other, listener);
    remove();
    // Die of the signal, as the process would have without this listener.
    process.kill(process.pid, signal);
  };
  for (const signal of SIGNALS) {
    const listener = (): void => onSignal(signal);
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  return dir;
}
