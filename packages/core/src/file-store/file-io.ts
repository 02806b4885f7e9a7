/**
 * The low-level file operations the store's writers and readers share (process files, the
 * archive, the compaction lock): complete writes and reads, and putting a fully written file
 * under a name only if the name is free.
 */
import { constants, linkSync, openSync, readSync, writeSync } from 'node:fs';

/** `O_NOFOLLOW` where the platform has it (0 elsewhere, e.g. Windows). */
export const O_NOFOLLOW: number = constants.O_NOFOLLOW ?? 0;

/**
 * Flags for opening a file of the directory to read it: never through a symbolic link, and
 * never waiting. Listings keep regular files only, but a name can be replaced after the
 * listing; a FIFO opened without `O_NONBLOCK` would block the scrape until something writes
 * to it. With it, the open returns at once and the file is then refused as not a regular file.
 * (`O_NONBLOCK` changes nothing for regular files.)
 */
export const READ_FLAGS: number = constants.O_RDONLY | O_NOFOLLOW | (constants.O_NONBLOCK ?? 0);

/**
 * Writes `length` bytes of `bytes` from index `start` at file position `position` (default
 * `start`: the image and the file share offsets), looping over short writes. Throws on error.
 */
export function writeFully(
  fd: number,
  bytes: Uint8Array,
  start: number,
  length: number,
  position: number = start,
): void {
  let done = 0;
  while (done < length) {
    const n = writeSync(fd, bytes, start + done, length - done, position + done);
    if (n <= 0) throw new Error('short write');
    done += n;
  }
}

/**
 * Reads into `target` from file position `position` until it is full or the file ends; returns
 * the bytes read. Throws on error.
 */
export function readAll(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Flags for creating a new file of the directory: write-only, exclusive, no symbolic link. */
export const CREATE_FLAGS: number =
  constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | O_NOFOLLOW;

/** What {@link linkIfFree} did. */
export type LinkOutcome = 'linked' | 'exists' | 'unsupported';

/**
 * Hard-links `existing` to `target` unless `target` exists: atomic, and never replaces
 * anything. `unsupported` when the filesystem has no hard links (the caller falls back to
 * {@link createIfFree}); other errors are thrown.
 */
export function linkIfFree(existing: string, target: string): LinkOutcome {
  try {
    linkSync(existing, target);
    return 'linked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'exists';
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      return 'unsupported';
    }
    throw error;
  }
}

/**
 * Creates `path` (0600, never through a symbolic link) and returns its descriptor, open for
 * writing; undefined when it exists. Other errors are thrown.
 */
export function createIfFree(path: string): number | undefined {
  try {
    return openSync(path, CREATE_FLAGS, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
}
