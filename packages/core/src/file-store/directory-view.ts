/**
 * One scrape's consistent view of the directory: the archive, and the process files it has not
 * absorbed.
 *
 * Compaction (compaction.ts) renames a new archive into place and only then unlinks the files
 * it absorbed. A scrape that read a process file and then the new archive would count that
 * process twice; one that read the old archive and then found the file already unlinked would
 * miss it (and a counter going down looks like a reset to Prometheus). So a scrape:
 * 1. notes which archive is in place (inode + token) and reads it;
 * 2. lists the directory and reads every process file, skipping those the archive lists as
 *    absorbed (a compactor that crashed, or has not got round to unlinking them yet);
 * 3. checks the archive in place is still the one it read. If a compaction replaced it in the
 *    meantime, it starts again (parsed entries are cached, so a new attempt mostly re-reads
 *    slots). After {@link ATTEMPTS} attempts, which only compactions back to back for the
 *    whole time could cause, it keeps the last view; that view can miss a file absorbed during
 *    the read, never count one twice.
 * A record leaves the archive only after its file is unlinked, so a file listed in step 2 is
 * either absorbed by the archive read in step 1 (skipped) or not in it (counted once).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { identityKey } from './compaction.js';
import { listStoreFiles } from './directory.js';
import { READ_FLAGS } from './file-io.js';
import {
  ARCHIVE_FILE_NAME,
  FILE_FLAG_ARCHIVE,
  FormatProblem,
  H_TOKEN,
  HEADER_SIZE,
  TOKEN_SIZE,
} from './format.js';
import type { ParsedFile, StoreFileReader } from './reader.js';

/** Reads of the directory before accepting a view read while the archive kept changing. */
const ATTEMPTS = 10;

/** A file the view could not use, with the reason. */
export interface ViewProblem {
  readonly name: string;
  readonly problem: FormatProblem;
}

/** What one scrape reads. */
export interface DirectoryView {
  /** Every store file name listed (for the reader's cache housekeeping). */
  readonly names: ReadonlySet<string>;
  /** The archive (when present and readable), then the process files it has not absorbed. */
  readonly files: readonly ParsedFile[];
  /** Files skipped because they are unreadable. */
  readonly problems: readonly ViewProblem[];
  /** Process files skipped because the archive has absorbed them. */
  readonly absorbedSkipped: number;
}

/**
 * Reads `dir` consistently (see the module comment), leaving out `ownName` (the caller's own
 * file, which it renders from memory). Throws only when the directory cannot be listed.
 */
export function readDirectoryView(
  dir: string,
  reader: StoreFileReader,
  ownName: string,
): DirectoryView {
  let view: DirectoryView | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = archiveFingerprint(dir);
    view = readOnce(dir, reader, ownName, before !== undefined);
    const archive = view.files[0];
    const readToken =
      archive !== undefined && archive.name === ARCHIVE_FILE_NAME
        ? archive.header.token
        : undefined;
    const after = archiveFingerprint(dir);
    if (
      before?.key === after?.key &&
      (after === undefined || readToken === undefined || readToken === after.token)
    ) {
      break;
    }
  }
  return view!;
}

function readOnce(
  dir: string,
  reader: StoreFileReader,
  ownName: string,
  hasArchive: boolean,
): DirectoryView {
  const files: ParsedFile[] = [];
  const problems: ViewProblem[] = [];
  let absorbed = new Set<string>();
  if (hasArchive) {
    const archive = reader.read(dir, ARCHIVE_FILE_NAME);
    if (archive instanceof FormatProblem) {
      if (archive.kind !== 'vanished') problems.push({ name: ARCHIVE_FILE_NAME, problem: archive });
    } else if ((archive.header.flags & FILE_FLAG_ARCHIVE) === 0) {
      problems.push({
        name: ARCHIVE_FILE_NAME,
        problem: new FormatProblem('corrupt', 'the archive file is not flagged as an archive'),
      });
    } else {
      files.push(archive);
      absorbed = new Set(archive.absorbed.map(identityKey));
    }
  }
  const names = listStoreFiles(dir);
  let absorbedSkipped = 0;
  for (const name of names) {
    if (name === ownName || name === ARCHIVE_FILE_NAME) continue;
    const parsed = reader.read(dir, name);
    if (parsed instanceof FormatProblem) {
      // A process file that vanished since the listing was unlinked by a compaction after its
      // values went into an archive: either the archive read above (a leftover of a crashed
      // compactor, which the next compaction unlinks without writing a new archive), or a
      // newer one, which step 3 notices. Nothing is lost, so it is no read error.
      if (parsed.kind !== 'vanished') problems.push({ name, problem: parsed });
      continue;
    }
    if (absorbed.has(identityKey(parsed.header))) {
      absorbedSkipped++;
      continue;
    }
    files.push(parsed);
  }
  return { names: new Set(names), files, problems, absorbedSkipped };
}

/** Which archive file is in place: its inode and token; undefined when there is none. */
function archiveFingerprint(dir: string): { key: string; token: string } | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, ARCHIVE_FILE_NAME), READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const head = Buffer.alloc(HEADER_SIZE);
    const got = readSync(fd, head, 0, HEADER_SIZE, 0);
    const token =
      got >= H_TOKEN + TOKEN_SIZE
        ? head.subarray(H_TOKEN, H_TOKEN + TOKEN_SIZE).toString('hex')
        : '';
    return { key: `${stat.dev}:${stat.ino}:${token}`, token };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
