/**
 * Compaction: folding the files of dead processes into the archive, so that the directory holds
 * the live processes plus one archive however many workers have come and gone.
 *
 * What a dead process leaves behind, and what survives in the archive:
 * - counters, histograms, summary sum/count: added; summary sketch windows merged with
 *   `sketchMergeInto` (windows already outside the sliding window are dropped; the rest age out
 *   of the archive on their own);
 * - gauges `sum`: added (the mode means "dead processes included", so a scrape shows the same
 *   value before and after compaction); `min`/`max`: folded into the extreme; `mostrecent`:
 *   the value with the newest timestamp wins, and its timestamp is kept;
 * - gauges `livesum`, `livemin`, `livemax`, `livemostrecent`, `liveall`: dropped (readers
 *   already leave dead processes out of them);
 * - gauges `all`: dropped. Their series carry the dead process's `pid`; keeping them would add
 *   one series per worker ever started (client_python users hit exactly this), and a value of
 *   a process that no longer exists is not a measurement of anything. So once a dead process is
 *   compacted (normally when the primary sees it exit, or at the next scrape) its `all` series
 *   disappear, as with `liveall`.
 * - definitions of one name that differ (a rolling deploy changed a metric): the newest wins by
 *   the birth of each definition, which the archive records per descriptor; older series are
 *   carried into it where the layouts allow, dropped and reported otherwise (definitions.ts).
 *
 * Crash safety. The order is: take the lock; build the new archive in memory from the old
 * archive and the dead files; write it to a temp file, fsync, and rename it over the old
 * archive (the new archive records the identity, pid + start time + token, of every file it
 * absorbed); then unlink the absorbed files. A crash before the rename changes nothing (the
 * temp file is removed by the next compaction); a crash after it leaves absorbed files behind,
 * which readers skip (they read the archive first and ignore files it lists) and the next
 * compaction simply unlinks, never adding them again. A record is dropped from the archive once
 * its file is gone. Readers detect an archive replaced during their scrape and read again (see
 * directory-view.ts), so a scrape never counts a process twice or misses it.
 */

import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describeValue, StoreError } from '../errors.js';
import type { MetricDescriptor } from '../types.js';
import {
  type ArchiveWriteStep,
  encodeArchive,
  removeArchiveTemps,
  syncDirectory,
  writeArchive,
} from './archive.js';
import { conflictError, conflictKey, fileBornMs } from './definitions.js';
import { listStoreFiles } from './directory.js';
import { MAX_EXPOSITION_BYTES, textEstimate } from './exposition-budget.js';
import {
  ARCHIVE_FILE_NAME,
  FILE_FLAG_ARCHIVE,
  type FileIdentity,
  FormatProblem,
  rewriteTempName,
} from './format.js';
import { currentIdentity, LivenessChecker } from './identity.js';
import { CompactionLock } from './lock.js';
import { isLiveMode, type MergedFamily, mergeSources, type Source } from './merge.js';
import { type ParsedFile, readFileHeader, StoreFileReader } from './reader.js';

/**
 * Steps at which {@link CompactionOptions.faultInjection} is called, in order:
 * - `locked`: the lock is held, nothing changed yet;
 * - `cleared`: files an earlier compaction had absorbed but not unlinked are now unlinked;
 * - `temp-partial`: half of the new archive is in its temp file;
 * - `temp-written`: the temp file is complete and synced, not yet renamed;
 * - `renamed`: the new archive is in place; absorbed files still exist;
 * - `unlinked-one`: the first absorbed file is unlinked, the others not yet;
 * - `unlinked`: every absorbed file is unlinked; the lock is still held.
 */
export type CompactionStep = 'locked' | 'cleared' | ArchiveWriteStep | 'unlinked-one' | 'unlinked';

/** Internal options of {@link compactDirectory} (the public wrappers validate theirs). */
export interface CompactionOptions {
  /** Absorb only files written by these pids (markProcessDead). @default every dead process */
  readonly pids?: ReadonlySet<number>;
  /**
   * Absorb at most this many dead files in this run; the rest wait for the next one (their
   * values are read from their own files meanwhile). Bounds the work done inside a scrape.
   * @default Infinity
   */
  readonly maxFiles?: number;
  /** File names never touched (the calling process's own files). @default none */
  readonly keep?: ReadonlySet<string>;
  /**
   * Problems that do not stop compaction: a conflict (PROMFORK_METRIC_CONFLICT, under the key
   * a scrape reports it with, definitions.ts), an absorbed file that cannot be removed.
   */
  readonly onProblem?: (key: string, error: Error) => void;
  /** Liveness answers to reuse (one scrape's). @default a fresh checker */
  readonly liveness?: LivenessChecker;
  /**
   * Tests only: called at each {@link CompactionStep}. A test makes it kill the process to
   * simulate a crash at that step, or throw to simulate a failure there.
   */
  readonly faultInjection?: (step: CompactionStep) => void;
}

/** What one compaction run did. */
export interface CompactionResult {
  /** True when another live process held the lock: nothing was done. */
  readonly busy: boolean;
  /** Files folded into the archive by this run. */
  readonly absorbed: readonly string[];
  /** Files unlinked by this run (those absorbed now, and leftovers absorbed earlier). */
  readonly removed: readonly string[];
  /** Dead processes' files left for a later run because of `maxFiles`. */
  readonly remaining: number;
}

const BUSY: CompactionResult = { busy: true, absorbed: [], removed: [], remaining: 0 };

/** Thrown inside a run when the lock was taken over before the archive was replaced. */
class LockLost extends Error {}

/** Key of an identity in absorbed sets. */
export function identityKey(identity: FileIdentity): string {
  return `${identity.pid}:${identity.startTime}:${identity.token}`;
}

/**
 * Folds the files of dead processes in `dir` into the archive (see the module comment for the
 * merge rules and the crash-safety order). Returns `busy` without doing anything when another
 * live process is compacting. Throws StoreError (PROMFORK_COMPACTION_FAILED) when the archive
 * cannot be read or written; dead files then stay in place and still count.
 */
export function compactDirectory(dir: string, options: CompactionOptions = {}): CompactionResult {
  const fault = options.faultInjection ?? (() => {});
  const liveness = options.liveness ?? new LivenessChecker();
  const writer = currentIdentity();
  const lock = CompactionLock.tryAcquire(dir, writer, liveness);
  if (lock === undefined) return BUSY;
  try {
    fault('locked');
    return compactLocked(dir, options, liveness, writer, lock, fault);
  } catch (error) {
    if (error instanceof LockLost) return BUSY;
    throw error;
  } finally {
    lock.release();
  }
}

function compactLocked(
  dir: string,
  options: CompactionOptions,
  liveness: LivenessChecker,
  writer: FileIdentity,
  lock: CompactionLock,
  fault: (step: CompactionStep) => void,
): CompactionResult {
  const report = options.onProblem ?? (() => {});
  const maxFiles = options.maxFiles ?? Number.POSITIVE_INFINITY;
  removeArchiveTemps(dir);
  // Compaction folds only dead processes' files: nothing writes them any more, so a series
  // whose check fails (its writer was killed inside a write) is taken as it is, not dropped.
  const reader = new StoreFileReader({ filesAreFinal: true });
  const names = listStoreFiles(dir);
  const archive = names.includes(ARCHIVE_FILE_NAME) ? readArchive(dir, reader) : undefined;
  const recorded = new Set((archive?.absorbed ?? []).map(identityKey));
  // The token of the archive this run merges; checked again just before the rename, so a run
  // never replaces an archive generation it did not read (whatever let another compactor in).
  const readToken = archive?.header.token;

  const leftovers: string[] = [];
  const dead: ParsedFile[] = [];
  let remaining = 0;
  for (const name of names) {
    if (name === ARCHIVE_FILE_NAME || options.keep?.has(name)) continue;
    // Order matters: whose file it is and whether that process is dead are decided from the
    // header BEFORE the content is read. A process found dead writes nothing more, so content
    // read afterwards is final. Read first and judged after, the content could predate the
    // process's last flush (a worker that flushed and was SIGKILLed in between is then seen
    // dead): folding that stale content in and unlinking the file lost the worker's counts
    // without any error (the 1,000-lifetime churn test found it). Reading the header first also
    // keeps live processes' files (most of them, at every store start) from being parsed.
    const header = readFileHeader(dir, name);
    if (header instanceof FormatProblem) continue;
    if ((header.flags & FILE_FLAG_ARCHIVE) !== 0) continue;
    const absorbedEarlier = recorded.has(identityKey(header));
    if (!absorbedEarlier) {
      if (options.pids !== undefined && !options.pids.has(header.pid)) continue;
      if (liveness.isAlive(header)) continue;
    }
    const parsed = reader.read(dir, name);
    // A damaged file cannot be folded in: left alone (scrapes skip, report and count it).
    if (parsed instanceof FormatProblem) continue;
    // Nor can one whose text alone passes a scrape's budget: in the archive, it would make
    // every scrape skip the archive; left alone, scrapes skip only it (exposition-budget.ts).
    if (textEstimate(parsed.families) > MAX_EXPOSITION_BYTES) continue;
    // Only the file judged above may be used: one replaced under its name since (not something
    // promfork does) is left for the next run, which judges it before reading it.
    if (
      identityKey(parsed.header) !== identityKey(header) ||
      parsed.header.flags !== header.flags
    ) {
      continue;
    }
    if (absorbedEarlier) {
      leftovers.push(name);
      continue;
    }
    if (dead.length >= maxFiles) {
      remaining++;
      continue;
    }
    dead.push(parsed);
  }

  // Files absorbed by an earlier run that crashed before unlinking them: their values are in
  // the archive already, so they are only unlinked, never added again.
  const removed: string[] = [];
  const kept: FileIdentity[] = [];
  for (const name of leftovers) {
    const header = readFileHeader(dir, name);
    if (unlinkFile(dir, name, report)) {
      removed.push(name);
      if (!(header instanceof FormatProblem)) removeRewriteTemp(dir, header);
    } else {
      const parsed = reader.read(dir, name);
      if (!(parsed instanceof FormatProblem)) kept.push(parsed.header);
    }
  }
  if (leftovers.length > 0) {
    syncDirectory(dir);
    fault('cleared');
  }
  if (dead.length === 0) return { busy: false, absorbed: [], removed, remaining };

  const families = mergeForArchive(dir, archive, dead, report);
  const absorbed = [...kept, ...dead.map((file) => identityOf(file.header))];
  const image = encodeArchive({ families, absorbed }, writer, Date.now());
  writeArchive(
    dir,
    image,
    writer.token,
    () => {
      if (!lock.held() || archiveToken(dir) !== readToken) throw new LockLost();
    },
    fault,
  );
  const absorbedNames: string[] = [];
  for (const file of dead) {
    absorbedNames.push(file.name);
    if (unlinkFile(dir, file.name, report)) {
      removed.push(file.name);
      removeRewriteTemp(dir, file.header);
    }
    if (absorbedNames.length === 1 && dead.length > 1) fault('unlinked-one');
  }
  syncDirectory(dir);
  fault('unlinked');
  return { busy: false, absorbed: absorbedNames, removed, remaining };
}

/**
 * Removes the temp file a writer of `identity` left when it died between creating a file and
 * renaming it into place (a rewrite or a recreation: process-file.ts names it
 * `.promfork-<pid>-<token>.tmp`). Its process is dead (its file was just absorbed) and the token
 * is that writer's own, so no live writer can be using the name. Best effort: a temp that
 * cannot be removed only takes space, and prepareDirectory() clears it at the next start.
 */
function removeRewriteTemp(dir: string, identity: FileIdentity): void {
  try {
    unlinkSync(join(dir, rewriteTempName(identity)));
  } catch {
    // Usually ENOENT: the writer died with no rewrite under way.
  }
}

/** Reads the current archive; throws StoreError when it exists but cannot be used. */
function readArchive(dir: string, reader: StoreFileReader): ParsedFile | undefined {
  const parsed = reader.read(dir, ARCHIVE_FILE_NAME);
  if (parsed instanceof FormatProblem) {
    if (parsed.kind === 'vanished') return undefined;
    throw new StoreError(
      'PROMFORK_COMPACTION_FAILED',
      `The archive ${describeValue(ARCHIVE_FILE_NAME)} in ${describeValue(dir)} cannot be read ` +
        `(${parsed.message}), so dead processes' files are left in place (they still count). ` +
        'Remove the archive (its counts are lost) or start afresh with prepareDirectory()',
    );
  }
  if ((parsed.header.flags & FILE_FLAG_ARCHIVE) === 0) {
    throw new StoreError(
      'PROMFORK_COMPACTION_FAILED',
      `The file ${describeValue(ARCHIVE_FILE_NAME)} in ${describeValue(dir)} is not flagged as ` +
        'an archive; remove it or start afresh with prepareDirectory()',
    );
  }
  return parsed;
}

/**
 * Merges the archive and the dead files into the archive's new families. Where definitions of
 * one name differ (a deploy changed a metric's buckets, say), the newest definition wins, by
 * the birth of each definition (definitions.ts: a process file's creation time, the birth the
 * archive recorded for each of its own), never by the order below; older series are carried
 * into it where the layouts allow and otherwise dropped and reported, as scrapes skip them.
 * Dead files come first, newest first, then the archive: that order only settles ties of
 * `mostrecent` gauges.
 */
function mergeForArchive(
  dir: string,
  archive: ParsedFile | undefined,
  dead: readonly ParsedFile[],
  report: (key: string, error: Error) => void,
): MergedFamily[] {
  const ordered = [...dead].sort((a, b) => b.header.createdMs - a.header.createdMs);
  if (archive !== undefined) ordered.push(archive);
  const sources: Source[] = ordered.map((file) => ({
    file: file.name,
    pid: String(file.header.pid),
    live: false,
    bornMs: fileBornMs(file.header),
    families: file.families,
  }));
  const merged = mergeSources(sources, () => true, Date.now(), {
    conflict: (conflict) => report(conflictKey(conflict), conflictError(dir, conflict)),
    failed: (file, error) => {
      // Values a merge cannot take (a sketch window it rejects): that metric of that file is
      // left out of the archive, like a scrape leaves it out of its view.
      report(
        `compaction-merge:${file}`,
        new StoreError(
          'PROMFORK_FILE_UNREADABLE',
          `Compaction in ${describeValue(dir)} left out part of ${describeValue(file)}: ` +
            `merging it failed (${String(error)})`,
          { cause: error },
        ),
      );
    },
  });
  return merged.filter((family) => family.series.length > 0 && archived(family.descriptor));
}

/** False for the gauges a dead process does not keep (see the module comment). */
function archived(descriptor: MetricDescriptor): boolean {
  if (descriptor.type !== 'gauge') return true;
  return descriptor.mode !== 'all' && !isLiveMode(descriptor.mode);
}

/** Token of the archive now in place; undefined when there is none (or it cannot be read). */
function archiveToken(dir: string): string | undefined {
  const header = readFileHeader(dir, ARCHIVE_FILE_NAME);
  return header instanceof FormatProblem ? undefined : header.token;
}

function identityOf(header: FileIdentity): FileIdentity {
  return { pid: header.pid, startTime: header.startTime, token: header.token };
}

/** Unlinks an absorbed file; true when it is gone. Failures are reported, never thrown. */
function unlinkFile(
  dir: string,
  name: string,
  report: (key: string, error: Error) => void,
): boolean {
  try {
    unlinkSync(join(dir, name));
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    report(
      `compaction-unlink:${name}`,
      new StoreError(
        'PROMFORK_COMPACTION_FAILED',
        `Cannot remove the absorbed metrics file ${describeValue(name)} in ${describeValue(dir)} ` +
          `(${code ?? String(error)}); readers skip it and the next compaction retries`,
        { cause: error },
      ),
    );
    return false;
  }
}
