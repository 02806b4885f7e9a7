/**
 * The shared directory: creating it safely, refusing symlinks, listing promfork's files, and
 * emptying it before a fresh start (prepareDirectory).
 *
 * Safety rules: the directory is created with mode 0700 (metrics can reveal traffic patterns
 * and must not be writable by other users); a directory that is a symlink is refused (a
 * symlink planted in /tmp could otherwise redirect our writes); every file path is
 * `join(dir, name)` with a name taken from readdir and matched against promfork's own patterns,
 * so no path outside the directory is ever opened; files are opened with O_NOFOLLOW.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  type Dirent,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  unlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describeValue, InvalidOptionError, StoreError } from '../errors.js';
import { CREATE_FLAGS } from './file-io.js';
import { isStoreFileName, isTempFileName, TEMP_PREFIX } from './format.js';
import { LOCK_FILE_NAME } from './lock.js';
import { createPrivateDirectory } from './private-directory.js';

/** The environment variable naming the directory (client_python's name). */
export const DIRECTORY_ENV = 'PROMETHEUS_MULTIPROC_DIR';

function unusable(dir: string, problem: string, fix: string, cause?: unknown): StoreError {
  return new StoreError(
    'PROMFORK_DIRECTORY_UNUSABLE',
    `The multi-process directory ${describeValue(dir)} ${problem}; ${fix}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Makes sure `dir` exists as a real directory (creating it 0700 with its parents if missing)
 * and is writable by this process. Returns the absolute path. Throws StoreError
 * (PROMFORK_DIRECTORY_UNUSABLE) naming the directory and the fix.
 */
export function ensureDirectory(dir: string): string {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw unusable(
        path,
        `cannot be created (${code ?? String(error)})`,
        'create it yourself or point PROMETHEUS_MULTIPROC_DIR at a writable location',
        error,
      );
    }
  }
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    throw unusable(
      path,
      `cannot be inspected (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      'check that it exists and that this user may list it',
      error,
    );
  }
  if (stat.isSymbolicLink()) {
    throw unusable(
      path,
      'is a symbolic link, which promfork refuses (a planted link could redirect its writes)',
      'point PROMETHEUS_MULTIPROC_DIR at the real directory',
    );
  }
  if (!stat.isDirectory()) {
    throw unusable(path, 'is not a directory', 'remove that file or choose another path');
  }
  checkWritable(path);
  return path;
}

/** Mode bits: written to by others, and the sticky bit (only an entry's owner may remove it). */
const WORLD_WRITABLE = 0o002;
const STICKY = 0o1000;

/**
 * The warning for a directory any local user may write to without the sticky bit (which
 * would keep them from removing or renaming other users' files), or undefined. Write access
 * to the directory is the trust boundary: such a directory lets anyone forge, replace or
 * delete every process's numbers. Not an error, since the operator may have chosen it; the
 * store reports it once when it starts.
 */
export function insecureDirectoryWarning(path: string): StoreError | undefined {
  let mode: number;
  try {
    mode = lstatSync(path).mode;
  } catch {
    return undefined; // ensureDirectory has just inspected it; nothing to add if it is gone
  }
  if ((mode & WORLD_WRITABLE) === 0 || (mode & STICKY) !== 0) return undefined;
  return new StoreError(
    'PROMFORK_DIRECTORY_INSECURE',
    `The multi-process directory ${describeValue(path)} is writable by every user (mode ` +
      `${(mode & 0o7777).toString(8)}) without the sticky bit: anyone on this host can forge, ` +
      'replace or delete its metrics files; make it private to this user (chmod 700)',
  );
}

/**
 * Proves the directory is writable by creating and removing a probe file in it. The name is
 * unique per thread and call (threadId and random bytes): threads of one process that start at
 * the same moment must not collide on it (an EEXIST here once made a healthy directory look
 * unwritable).
 */
function checkWritable(path: string): void {
  const unique = `${process.pid}-${threadId}-${randomBytes(8).toString('hex')}`;
  const probe = join(path, `${TEMP_PREFIX}probe-${unique}.tmp`);
  try {
    const fd = openSync(probe, CREATE_FLAGS, 0o600);
    closeSync(fd);
    unlinkSync(probe);
  } catch (error) {
    throw unusable(
      path,
      `is not writable by this process (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      'give this user write permission on it or choose another directory',
      error,
    );
  }
}

/**
 * Names of promfork's store files in `dir` (process files and the archive), sorted, skipping
 * anything that is not a regular file (symlinks included). Unknown names are ignored.
 */
export function listStoreFiles(dir: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && isStoreFileName(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

/** Options of {@link prepareDirectory}. */
export interface PrepareDirectoryOptions {
  /**
   * @default process.env.PROMETHEUS_MULTIPROC_DIR, or when that is unset a private temporary
   * directory that is exported to the workers forked afterwards and removed at exit
   */
  readonly dir?: string;
}

/**
 * For a primary before it forks: creates the directory (0700) or removes promfork's files from
 * it (only those: process files, the archive, the compaction lock and leftover temp files), and checks it is
 * writable; throws StoreError (PROMFORK_DIRECTORY_UNUSABLE) otherwise. A fresh start thus never
 * reads a previous run's gauges. Returns the absolute directory used.
 *
 * Call it before any worker exists: files of running processes are removed too.
 *
 * With no `dir` and no `PROMETHEUS_MULTIPROC_DIR`, it creates a private directory (0700) in the
 * OS temp directory, sets `process.env.PROMETHEUS_MULTIPROC_DIR` to it so that every worker
 * forked afterwards uses it, and removes it when this process exits (see private-directory.ts).
 * In a cluster worker that case throws InvalidOptionError (PROMFORK_MISSING_OPTION).
 */
export function prepareDirectory(options: PrepareDirectoryOptions = {}): string {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `prepareDirectory options must be an object, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'dir') {
      throw new InvalidOptionError(
        'PROMFORK_UNKNOWN_OPTION',
        `prepareDirectory does not accept the option ${describeValue(key)}; expected only "dir"`,
      );
    }
  }
  const given = options.dir;
  if (given !== undefined && (typeof given !== 'string' || given === '')) {
    throw new InvalidOptionError(
      'PROMFORK_INVALID_OPTION',
      `prepareDirectory option "dir" must be a non-empty string, got ${describeValue(given)}`,
    );
  }
  let dir = given ?? process.env[DIRECTORY_ENV];
  if (dir === undefined || dir === '') {
    // A worker has no business owning the directory its siblings share: it comes from the
    // primary, through the environment.
    if (cluster.isWorker) {
      throw new InvalidOptionError(
        'PROMFORK_MISSING_OPTION',
        `prepareDirectory in a cluster worker needs a directory: call it in the primary ` +
          `before cluster.fork(), pass { dir }, or set ${DIRECTORY_ENV}`,
      );
    }
    dir = createPrivateDirectory();
  }
  const path = ensureDirectory(dir);
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (error) {
    throw unusable(path, 'cannot be listed', 'give this user read permission on it', error);
  }
  for (const entry of entries) {
    const name = entry.name;
    if (!isStoreFileName(name) && !isTempFileName(name) && name !== LOCK_FILE_NAME) continue;
    // promfork never creates directories: one named like its files is not its own (and
    // unlink would fail on it). Symlinks with its names are removed (the link, not its target).
    if (entry.isDirectory()) continue;
    try {
      unlinkSync(join(path, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw unusable(
        path,
        `holds ${describeValue(name)}, which cannot be removed`,
        'remove it by hand or fix the permissions',
        error,
      );
    }
  }
  return path;
}
