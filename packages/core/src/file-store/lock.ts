/**
 * The compaction lock: at most one process compacts a directory at a time.
 *
 * Two compactors working at once would each fold a different set of dead files into their own
 * copy of the archive; whichever renamed last would erase the other's files, which the other has
 * already unlinked. So compaction holds `promfork-compaction.lock`, a file whose content names
 * its holder: `{"pid":…,"startTime":…,"token":"…","tid":…,"tidStartTime":…,"pidNamespace":…,
 * "bootId":"…"}` (JSON, one line; the last four are absent in locks of older versions).
 *
 * - Acquire: the content is written to a temp file which is then hard-linked to the lock name.
 *   `link` fails with EEXIST when the lock exists and is atomic, so a lock file is never seen
 *   half written and two processes never both create it.
 * - Stale lock: a holder that is not alive (liveness by pid AND start time, and by thread for a
 *   worker thread, identity.ts; a crashed compactor, a terminated thread, or a reused pid) no
 *   longer holds it. A holder in another pid namespace is judged by the lock file's age
 *   (its mtime stands for the lease: compactions take far less than the lease timeout). The lock is renamed to a private
 *   name (atomic: whatever file was there is now ours to inspect); if what was moved is the
 *   stale content that was judged, it is deleted and acquiring starts again; if another process
 *   had just replaced it with a fresh lock, that lock is linked back and we report "busy".
 *   Its holder may have released it meanwhile (finding no lock file); the holder remembers
 *   that, and clears such an orphan at its next acquire, as if it were stale.
 * - Verify: a holder re-reads the lock just before it replaces the archive ({@link held}) and
 *   gives up when it is no longer its own. The window between that check and the rename is a
 *   few microseconds, and losing the lock inside it needs a stale lock AND two more processes
 *   taking it over at that moment.
 *
 * Filesystems without hard links fall back to `O_CREAT|O_EXCL` followed by a write; a lock
 * read between those two steps is empty and is treated as held (never as stale).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CREATE_FLAGS, createIfFree, linkIfFree, READ_FLAGS } from './file-io.js';
import { TEMP_PREFIX, type WriterIdentity } from './format.js';
import type { LivenessChecker, LivenessSubject } from './identity.js';

/** Name of the lock file inside the directory. `prepareDirectory` removes it. */
export const LOCK_FILE_NAME = 'promfork-compaction.lock';

/**
 * An empty lock file older than this is a crash of the no-hard-link fallback between its
 * create and its write; younger, it may be a lock being written right now.
 */
const EMPTY_LOCK_STALE_MS = 60_000;
/** Rounds of "find a stale lock, clear it, try again" before giving up as busy. */
const ACQUIRE_ROUNDS = 3;

/** Who holds a lock, as recorded in the lock file. */
type LockHolder = WriterIdentity;

/**
 * Tokens of locks this process released while their file was away: moved aside by a process
 * clearing a stale lock, which links a lock it did not judge back into place. One that comes
 * back names this live process, yet nobody holds it: without this set every compaction in the
 * directory would be "busy" for as long as this process lives. A token is only ever added by
 * the holder that created it, so a lock carrying one is certainly an orphan, never a lock some
 * other thread or process holds.
 */
const releasedAway = new Set<string>();

/** A held compaction lock. Obtain with {@link CompactionLock.tryAcquire}. */
export class CompactionLock {
  private released = false;

  private constructor(
    private readonly path: string,
    /** The holder recorded in the lock file (this process, with a fresh token). */
    readonly holder: LockHolder,
  ) {}

  /**
   * Takes the lock of `dir` for `holder` (this process), clearing a stale lock left by a dead
   * process. Returns undefined when a live process holds it. Throws only for unexpected I/O
   * errors (permissions, disk full), which the caller reports.
   */
  static tryAcquire(
    dir: string,
    holder: LockHolder,
    liveness: LivenessChecker,
  ): CompactionLock | undefined {
    const path = join(dir, LOCK_FILE_NAME);
    const content = JSON.stringify({
      pid: holder.pid,
      startTime: holder.startTime,
      token: holder.token,
      tid: holder.tid,
      tidStartTime: holder.tidStartTime,
      pidNamespace: holder.pidNamespace,
      bootId: holder.bootId,
    });
    for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
      if (createLockFile(dir, path, content, holder.token)) {
        return new CompactionLock(path, holder);
      }
      const current = readHolder(path);
      if (current === 'vanished') continue;
      if (current === 'unreadable') return undefined;
      const orphan = current !== 'garbage' && releasedAway.has(current.token);
      if (current !== 'garbage' && !orphan && liveness.isAlive(current)) return undefined;
      if (!clearStaleLock(dir, path, current)) return undefined;
      if (orphan) releasedAway.delete(current.token);
    }
    return undefined;
  }

  /** True while the lock file still names this holder (nobody took the lock over). */
  held(): boolean {
    if (this.released) return false;
    const current = readHolder(this.path);
    return typeof current === 'object' && current.token === this.holder.token;
  }

  /** Removes the lock file if it is still ours. Never throws. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const current = readHolder(this.path);
    if (current === 'vanished') {
      // Moved aside by a process clearing a stale lock: it may link this lock back (see
      // releasedAway), and then this process clears it at its next compaction.
      releasedAway.add(this.holder.token);
      return;
    }
    if (typeof current !== 'object' || current.token !== this.holder.token) return;
    try {
      unlinkSync(this.path);
    } catch {
      // A lock we cannot remove is cleared as stale by the next compactor once we are gone.
    }
  }
}

/** Creates the lock file with `content`; false when it already exists. */
function createLockFile(dir: string, path: string, content: string, token: string): boolean {
  const temp = join(dir, `${TEMP_PREFIX}lock-${token}.tmp`);
  const fd = openSync(temp, CREATE_FLAGS, 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    const outcome = linkIfFree(temp, path);
    return outcome === 'unsupported' ? createWithoutLinks(path, content) : outcome === 'linked';
  } finally {
    unlinkQuietly(temp);
  }
}

/** Fallback for filesystems without hard links: exclusive create, then write. */
function createWithoutLinks(path: string, content: string): boolean {
  const fd = createIfFree(path);
  if (fd === undefined) return false;
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * The holder named by the lock file at `path`: `vanished` when there is none, `unreadable` when
 * it cannot be read or is empty (the no-hard-link fallback between create and write: treated
 * as held, unless older than {@link EMPTY_LOCK_STALE_MS}), `garbage` when its content is no
 * holder record (never written by promfork as such: treated as stale).
 */
function readHolder(
  path: string,
): (LockHolder & LivenessSubject) | 'vanished' | 'unreadable' | 'garbage' {
  let text: string;
  let mtimeMs: number;
  try {
    // Never waits: a FIFO under the lock's name opens at once and reads as unreadable (busy).
    const fd = openSync(path, READ_FLAGS);
    try {
      text = readFileSync(fd, 'utf8');
      mtimeMs = fstatSync(fd).mtimeMs;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'vanished' : 'unreadable';
  }
  if (text === '') return Date.now() - mtimeMs > EMPTY_LOCK_STALE_MS ? 'garbage' : 'unreadable';
  const holder = parseHolder(text);
  return holder === undefined ? 'garbage' : { ...holder, leaseMs: mtimeMs };
}

/** Parses lock file content; undefined unless it is a complete holder record. */
export function parseHolder(text: string): LockHolder | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { pid, startTime, token, tid, tidStartTime, pidNamespace, bootId } = raw as Record<
    string,
    unknown
  >;
  // Absent in locks written before threads and namespaces were recorded: unknown (0, '').
  const optional = [tid ?? 0, tidStartTime ?? 0, pidNamespace ?? 0];
  if (
    !optional.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) ||
    (bootId !== undefined && (typeof bootId !== 'string' || !/^(?:[0-9a-f]{32})?$/.test(bootId)))
  ) {
    return undefined;
  }
  if (
    typeof pid !== 'number' ||
    !Number.isSafeInteger(pid) ||
    pid <= 0 ||
    typeof startTime !== 'number' ||
    !Number.isSafeInteger(startTime) ||
    startTime < 0 ||
    typeof token !== 'string' ||
    !/^[0-9a-f]{32}$/.test(token)
  ) {
    return undefined;
  }
  return {
    pid,
    startTime,
    token,
    threadId: 0,
    tid: (tid as number | undefined) ?? 0,
    tidStartTime: (tidStartTime as number | undefined) ?? 0,
    pidNamespace: (pidNamespace as number | undefined) ?? 0,
    bootId: (bootId as string | undefined) ?? '',
  };
}

/**
 * Removes the stale lock naming `stale` (or holding garbage), unless it was replaced meanwhile. Returns false when
 * it had been replaced by a live lock (which is put back).
 */
function clearStaleLock(dir: string, path: string, stale: LockHolder | 'garbage'): boolean {
  const aside = join(dir, `${TEMP_PREFIX}stale-lock-${process.pid}-${randomToken()}.tmp`);
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // Someone cleared it.
    throw error;
  }
  const moved = readHolder(aside);
  if (
    stale === 'garbage'
      ? moved === 'garbage'
      : typeof moved === 'object' && moved.token === stale.token
  ) {
    unlinkQuietly(aside);
    return true;
  }
  // We moved a lock another process had just created: give it back (unless a third process
  // has created one since, in which case that one stands and this one is dropped).
  try {
    linkSync(aside, path);
  } catch {
    // EEXIST: a newer lock is in place; nothing to restore.
  }
  unlinkQuietly(aside);
  return false;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function randomToken(): string {
  return randomBytes(8).toString('hex');
}
