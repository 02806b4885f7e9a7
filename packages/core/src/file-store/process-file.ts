/**
 * This process's own file: an in-memory image of the whole file, dirty-block flags, and one
 * positioned write per event-loop turn.
 *
 * Hot path: `Cells.add/set` change a float64 in the image and flag its 1 KiB block dirty; the
 * first change in a turn schedules a flush with setImmediate. The flush writes the dirty blocks
 * with ONE positioned write, several only when they lie more than 64 KiB apart (measured: one
 * pwrite per update costs ~1.45 µs, one per turn of 20 updates ~83 ns per update), then, only if entries were appended, the header's `used` field in a
 * second write, so readers never see an entry before it is complete. Before writing, the flush
 * refreshes the check of every series in a dirty block (series-check.ts), so a reader can tell
 * a series it read while it was being written. On `process.on('exit')`
 * every open file is flushed synchronously, and changes made after that (by later `exit`
 * listeners) are written at once. A process killed at any moment loses at most the
 * current turn. In a worker thread the flush is a microtask rather than the end of the turn
 * (see {@link ProcessFile.schedule}), so a terminated thread loses at most the synchronous code
 * it was running. With FileStore's opt-in `flushIntervalMs`, a main thread's flush waits that
 * long after the first change instead (one write for every change of the interval), and a
 * process killed without `exit` loses at most the changes of that interval.
 *
 * Write failures (EIO, ENOSPC, ...) never throw into callers: they are reported once, counted,
 * the values stay in the image, and the flush is retried from an unref'd timer (and on exit).
 *
 * Replacing the file. Two things make the writer put a NEW file under its name, written
 * complete (temp file, then rename) from the image, so a reader that opens the name sees
 * either the old file or the new one, each whole:
 * - reclaiming space: `remove`/`reset` only flag entries, so a process that keeps replacing
 *   series (the default metrics' per-type gauges do, every refresh) would grow its file
 *   forever. When removed entries take enough room ({@link shouldReclaim}), the end-of-turn
 *   flush copies the live entries byte for byte into a fresh image, renames its file over the
 *   old one, and moves every pointer into the image: the {@link FileCells} of every series
 *   (bound children a user keeps included: those of dropped series move to a detached image,
 *   where their writes go nowhere, as they went to a removed entry before) and, through
 *   {@link WriteEvents.moved}, the offsets the store keeps. Never inside a user's call: only
 *   the end-of-turn flush does it, when nobody holds an offset being computed.
 * - losing the file: an operator or a new primary (prepareDirectory) may delete or replace the
 *   directory under a running process. At most once per {@link PLACE_CHECK_MS} (and at exit) a
 *   flush checks that its name still leads to its file, and otherwise recreates the directory
 *   (with the usual checks) and the file from the image, which holds every value.
 */
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { describeValue, InvalidOptionError, LabelSetError, StoreError } from '../errors.js';
import type { Cells } from '../store.js';
import type { Exemplar, MetricDescriptor } from '../types.js';
import { MAX_SERIES_KEY_BYTES } from '../validation.js';
import { ensureDirectory } from './directory.js';
import {
  EXEMPLARS_CHECK_OFFSET,
  EXEMPLARS_HEAD,
  exemplarsCheck,
  exemplarsEntrySize,
  writeExemplarRecord,
} from './exemplar-entry.js';
import { createIfFree, linkIfFree, O_NOFOLLOW, writeFully } from './file-io.js';
import {
  DESCRIPTOR_HEAD,
  descriptorEntrySize,
  descriptorJson,
  ENTRY_FLAG_REMOVED,
  ENTRY_FLAGS_OFFSET,
  ENTRY_HEAD,
  FILE_FLAG_SERIES_CHECKS,
  H_CREATED_MS,
  H_GENERATION,
  H_LEASE_MS,
  H_USED,
  HEADER_SIZE,
  type HeaderIdentity,
  KIND_DESCRIPTOR,
  KIND_EXEMPLARS,
  KIND_SERIES,
  LEASE_RENEW_MS,
  MAX_DESCRIPTOR_JSON_BYTES,
  MAX_FILE_SIZE,
  processFileName,
  rewriteTempName,
  SERIES_HEAD,
  seriesEntrySize,
  seriesKey,
  seriesSlotsOffset,
  writeHeader,
} from './format.js';
import { SeriesCheckIndex } from './series-check.js';

/** Initial size of a file and its image; it doubles as entries are appended. */
const INITIAL_CAPACITY = 4096;
/** Delay before retrying a failed flush. */
const RETRY_MS = 1000;
/**
 * Dirty tracking granularity: blocks of 1 KiB (128 float64 words). Marking a block is one
 * typed-array test on the hot path; a flush writes whole dirty blocks. The series checks hash
 * in segments of the same blocks (CHECK_SEGMENT_BYTES in series-check.ts).
 */
const BLOCK_SHIFT_WORDS = 7;
const BLOCK_BYTES = 1024;
/**
 * Dirty blocks spanning at most this many bytes go out in ONE write (the common case). Beyond
 * it (say a counter at the start and a summary window 80 KB further), writing the whole span
 * would cost more than a few writes of the dirty blocks, so runs of dirty blocks are written
 * separately.
 */
const SINGLE_WRITE_MAX = 64 * 1024;
/** Clean blocks between two dirty runs that are still written through rather than split. */
const RUN_GAP_BLOCKS = 4;
/**
 * Removed entries are reclaimed once they outweigh the live ones and this many bytes, so a
 * file never holds more garbage than data beyond a small constant.
 */
const RECLAIM_FLOOR = 64 * 1024;
/**
 * Room a rewritten image keeps beyond its live entries (at least; a quarter of them when that
 * is more), so that churn must remove that much again before the image outgrows its file and
 * the next rewrite comes: rewrites stay rare however fast series are replaced.
 */
const REWRITE_ROOM = 16 * 1024;
/** Granularity of file sizes (a page). */
const PAGE = 4096;
/** How often, at most, a flush checks that the file is still in the directory (ms). */
const PLACE_CHECK_MS = 1000;
/** After a failed rewrite, how long the writer keeps writing in place before trying again (ms). */
const REWRITE_RETRY_MS = 60_000;

/** How a ProcessFile tells its owner about write problems (the owner reports and counts). */
export interface WriteEvents {
  /**
   * A write failed: a flush (everything stays dirty and a retry is scheduled), or a rewrite
   * (the file is written in place meanwhile).
   */
  failed(error: Error): void;
  /** A flush succeeded after one or more failures. */
  recovered(): void;
  /** A value was changed after close; it stays in memory only. Called once. */
  afterClose(): void;
  /**
   * A rewrite moved the entries: `moves` maps the byte offset of every entry kept to its new
   * offset (entries not in it were removed ones, now gone). Offsets the owner holds must follow.
   * Called during the end-of-turn flush, never inside one of the owner's own calls. Owners
   * that keep no offsets leave it out.
   */
  moved?(moves: ReadonlyMap<number, number>): void;
}

/** Events of a detached image, which has no owner to tell. */
const NO_EVENTS: WriteEvents = {
  failed() {},
  recovered() {},
  afterClose() {},
};

const openFiles = new Set<ProcessFile>();
let exitHookInstalled = false;
/** True once the process emits `exit`: no later event-loop turn will run. */
let exiting = false;

/**
 * Ticks once per {@link PLACE_CHECK_MS} while files are open: a flush checks that its file is
 * still in place when the tick moved since its last check. A clock read per flush would cost
 * more than the rest of the check's bookkeeping (measured 0.1-0.2 µs per read on a loaded
 * machine, against about 2 µs for the flush's write); comparing two integers costs nothing.
 */
let placeTick = 0;
let placeTimer: NodeJS.Timeout | undefined;

/** Starts the shared tick (unref'd: it never keeps the process alive) if it is not running. */
function startPlaceTicks(): void {
  if (placeTimer !== undefined) return;
  placeTimer = setInterval(() => {
    placeTick++;
  }, PLACE_CHECK_MS);
  placeTimer.unref();
}

/** Stops the tick once no file is open. */
function stopPlaceTicksIfIdle(): void {
  if (openFiles.size > 0 || placeTimer === undefined) return;
  clearInterval(placeTimer);
  placeTimer = undefined;
}

/**
 * One `exit` listener for every open file (not one per store, which would trip Node's
 * max-listeners warning in programs and tests that open many stores).
 *
 * It is installed when the first store opens, so it usually runs BEFORE the application's own
 * `exit` listeners, and values those record (a shutdown counter, say) come after this flush.
 * Such a value cannot wait for an end-of-turn flush (no turn follows), so from `exit` on every
 * change is written at once ({@link ProcessFile.schedule}).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    exiting = true;
    // (A flush while exiting also checks that the file is still in place: see flush.)
    for (const file of openFiles) file.flush();
  });
}

/** The writer of this process's file. See the module comment for the write protocol. */
export class ProcessFile {
  /** File name inside the directory. */
  readonly name: string;
  /** Whole-file image; replaced (doubled) when it grows, so never cache it across appends. */
  bytes: Uint8Array;
  /** Float64 view of {@link bytes}: slot `i` of the file is `f64[i]`. */
  f64: Float64Array;
  /** One flag per 1 KiB block of the image: 1 when it changed since the last flush. */
  dirty: Uint8Array;
  /** The blocks flagged in {@link dirty}, in marking order. */
  private dirtyList: number[] = [];
  /**
   * True while a flush is pending (scheduled, or a retry after a failure). Writers schedule only
   * when it is false, so there is at most one flush per turn.
   */
  scheduled = false;
  /**
   * On a main thread, how long changes wait before the flush that writes them (ms); 0: the end
   * of the turn. Set by the owner right after {@link create} (FileStore's `flushIntervalMs`).
   */
  flushIntervalMs = 0;

  private view: DataView;
  /** Uint32 view of {@link bytes}, for the series checks. */
  private u32: Uint32Array;
  private checks = new SeriesCheckIndex();
  private fd: number;
  private used = HEADER_SIZE;
  private usedDirty = false;
  private fileSize: number;
  private closed = false;
  private failing = false;
  /** Renews the header's lease (see {@link renewLease}); unref'd, stopped by close. */
  private readonly leaseTimer: NodeJS.Timeout | undefined;
  /** Device and inode of the file in place, to tell whether the name still leads to it. */
  private dev = 0;
  private ino = 0;
  /** The name no longer leads to this file (directory removed or replaced): recreate it. */
  private lost = false;
  /** {@link placeTick} at the last check that the file is in place. */
  private placeChecked = placeTick;
  /** `performance.now()` before which no rewrite is tried again (after a failed one). */
  private rewriteAfter = 0;
  /** Bytes of the entries flagged removed: what a rewrite would reclaim. */
  private removedBytes = 0;
  /** Every FileCells over this image: a rewrite moves them (see {@link attach}). */
  private readonly attached = new Set<FileCells>();
  /** Exemplar entries (byte offsets) whose records changed since the last flush: checks due. */
  private readonly exemplarChecks = new Set<number>();

  private constructor(
    name: string,
    /** Absolute path of the directory. */
    readonly dir: string,
    /** Path of the temp file this writer creates complete before putting it in place. */
    private readonly tempPath: string,
    fd: number,
    bytes: Uint8Array,
    private readonly events: WriteEvents,
  ) {
    this.name = name;
    this.fd = fd;
    this.bytes = bytes;
    this.f64 = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    this.fileSize = bytes.byteLength;
    this.dirty = new Uint8Array(bytes.byteLength / BLOCK_BYTES);
    // A detached image (fd -1) has no file to hold a lease.
    this.leaseTimer = fd >= 0 ? setInterval(this.renewLease, LEASE_RENEW_MS).unref() : undefined;
    if (fd >= 0) {
      const stat = fstatSync(fd);
      this.dev = stat.dev;
      this.ino = stat.ino;
    }
    openFiles.add(this);
    installExitHook();
    if (fd >= 0) startPlaceTicks();
  }

  /**
   * An image backed by no file, for the cells of series a rewrite dropped (see
   * {@link FileCells.detachTo}): a ProcessFile like any other, so the cells' hot path sees one
   * class only; every block is flagged dirty already, so writes never schedule a flush.
   */
  private static detachedImage(words: number): ProcessFile {
    const bytes = new Uint8Array(
      new ArrayBuffer(Math.max(1, Math.ceil((words * 8) / BLOCK_BYTES)) * BLOCK_BYTES),
    );
    const image = new ProcessFile('', '', '', -1, bytes, NO_EVENTS);
    openFiles.delete(image);
    image.closed = true;
    image.dirty.fill(1);
    return image;
  }

  /**
   * Creates this process's file in `dir` complete: header written to a temp file (mode 0600,
   * O_EXCL, O_NOFOLLOW), then linked into place without overwriting anything (a second store of
   * the same process in the same directory gets the next instance number). Throws StoreError on
   * failure: this runs at store construction, not on a hot path.
   */
  static create(dir: string, identity: HeaderIdentity, events: WriteEvents): ProcessFile {
    const bytes = new Uint8Array(new ArrayBuffer(INITIAL_CAPACITY));
    writeHeader(bytes, identity, FILE_FLAG_SERIES_CHECKS, Date.now());
    const temp = join(dir, rewriteTempName(identity));
    let fd: number;
    try {
      fd = openSync(
        temp,
        constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | O_NOFOLLOW,
        0o600,
      );
    } catch (error) {
      throw new StoreError(
        'PROMFORK_DIRECTORY_UNUSABLE',
        `Cannot create a metrics file in ${describeValue(dir)} (${errorCode(error)}); ` +
          'check the directory permissions and free space',
        { cause: error },
      );
    }
    try {
      writeFully(fd, bytes, 0, bytes.byteLength, 0);
      for (let instance = 1; ; instance++) {
        const name = processFileName(identity, instance);
        // A name another open store of this thread holds is taken even when no file has it:
        // after the directory was removed, that store puts its file back under it, and the two
        // would replace each other's file at every check.
        if (nameInUse(dir, name)) continue;
        if (placeFile(temp, join(dir, name))) {
          return new ProcessFile(name, dir, temp, fd, bytes, events);
        }
      }
    } catch (error) {
      closeSync(fd);
      try {
        unlinkSync(temp);
      } catch {
        // Already renamed or never created: nothing to clean up.
      }
      throw new StoreError(
        'PROMFORK_DIRECTORY_UNUSABLE',
        `Cannot create a metrics file in ${describeValue(dir)} (${errorCode(error)}); ` +
          'check the directory permissions and free space',
        { cause: error },
      );
    }
  }

  /** The header's creation time (ms since the epoch): when this writer's definitions were born. */
  get createdMs(): number {
    return this.view.getFloat64(H_CREATED_MS, true);
  }

  /** Bytes covered by the header and complete entries (the image's `used`). */
  get usedSize(): number {
    return this.used;
  }

  /** Appends a descriptor entry; returns its byte offset. */
  appendDescriptor(descriptor: MetricDescriptor): number {
    const json = Buffer.from(descriptorJson(descriptor), 'utf8');
    // Readers refuse longer descriptors (FORMAT.md, "Limits"): refused here, where it is the
    // caller's mistake, rather than written into a file nobody can read.
    if (json.length > MAX_DESCRIPTOR_JSON_BYTES) {
      throw new InvalidOptionError(
        'PROMFORK_INVALID_OPTION',
        `Metric ${describeValue(descriptor.name)} is described by ${json.length} bytes of JSON ` +
          `(help text, label names, buckets, percentiles): a metrics file takes at most ` +
          `${MAX_DESCRIPTOR_JSON_BYTES}`,
      );
    }
    const size = descriptorEntrySize(json.length);
    const offset = this.reserve(size, KIND_DESCRIPTOR);
    this.view.setUint32(offset + ENTRY_HEAD, json.length, true);
    this.bytes.set(json, offset + DESCRIPTOR_HEAD);
    this.appended(offset, size);
    return offset;
  }

  /**
   * Appends a series entry with `slotCount` zeroed slots for the descriptor entry at
   * `descriptorOffset`; returns the entry's byte offset and the float64 index of its first slot.
   */
  appendSeries(
    descriptorOffset: number,
    labelValues: readonly string[],
    slotCount: number,
  ): { offset: number; word: number } {
    const key = Buffer.from(seriesKey(labelValues), 'utf8');
    // Metrics check this before they ask for a series (assertSeriesKeySize); this guards the
    // format for any other caller of the Store API.
    if (key.length > MAX_SERIES_KEY_BYTES) {
      throw new LabelSetError(
        'PROMFORK_INVALID_LABEL_VALUE',
        `The label values of one series take ${key.length} bytes as a JSON array: a metrics ` +
          `file takes at most ${MAX_SERIES_KEY_BYTES}`,
      );
    }
    const size = seriesEntrySize(key.length, slotCount);
    const offset = this.reserve(size, KIND_SERIES);
    this.view.setUint32(offset + 8, descriptorOffset, true);
    this.view.setUint32(offset + 12, slotCount, true);
    this.view.setUint32(offset + 16, key.length, true);
    this.bytes.set(key, offset + SERIES_HEAD);
    const slots = offset + seriesSlotsOffset(key.length);
    this.checks.add(offset, slots, slotCount);
    this.appended(offset, size);
    return { offset, word: slots / 8 };
  }

  /**
   * Appends an exemplar entry (exemplar-entry.ts) for the series entry at `seriesOffset`: `count`
   * empty records of `recordSize` bytes. Returns its byte offset. Throws like
   * {@link appendSeries} when the file would pass its size limit.
   */
  appendExemplars(seriesOffset: number, count: number, recordSize: number): number {
    const size = exemplarsEntrySize(count, recordSize);
    const offset = this.reserve(size, KIND_EXEMPLARS);
    this.view.setUint32(offset + ENTRY_HEAD, seriesOffset, true);
    this.view.setUint32(offset + 12, count, true);
    this.view.setUint32(offset + 16, recordSize, true);
    this.exemplarChecks.add(offset);
    this.appended(offset, size);
    return offset;
  }

  /**
   * Writes `exemplar` (its label text `labels`, which fits) into record `slot` of the exemplar
   * entry at `entry`; it reaches the file with the end-of-turn flush, which refreshes the
   * entry's check first.
   */
  writeExemplar(entry: number, slot: number, exemplar: Exemplar, labels: Uint8Array): void {
    const recordSize = this.view.getUint32(entry + 16, true);
    const at = entry + EXEMPLARS_HEAD + slot * recordSize;
    writeExemplarRecord(this.bytes, at, recordSize, exemplar, labels);
    this.exemplarChecks.add(entry);
    // The head's block too (the check is written there at the flush), and both before the
    // flush is asked for: once exiting it runs at once, and must see the two together.
    this.flagBlocks(entry, EXEMPLARS_HEAD);
    this.flagBlocks(at, recordSize);
    if (!this.scheduled) this.schedule();
  }

  /**
   * Marks the entry at byte `offset` removed; readers skip it from the next flush on, and a
   * later rewrite drops it.
   */
  markRemoved(offset: number): void {
    const flags = this.bytes[offset + ENTRY_FLAGS_OFFSET] ?? 0;
    if ((flags & ENTRY_FLAG_REMOVED) !== 0) return;
    this.bytes[offset + ENTRY_FLAGS_OFFSET] = flags | ENTRY_FLAG_REMOVED;
    this.removedBytes += this.view.getUint32(offset, true);
    const block = Math.floor(offset / BLOCK_BYTES);
    if (this.dirty[block] === 0) this.markBlock(block);
  }

  /**
   * Registers cells over this image (FileCells' constructor calls it), so that a rewrite moves
   * them with their series. Cells of a series a rewrite drops are detached and forgotten.
   */
  attach(cells: FileCells): void {
    this.attached.add(cells);
  }

  /** Flags block `block` dirty (it was clean) and makes sure a flush is pending. */
  markBlock(block: number): void {
    this.dirty[block] = 1;
    this.dirtyList.push(block);
    if (!this.scheduled) this.schedule();
  }

  /**
   * Schedules a flush at the end of this event-loop turn, or {@link flushIntervalMs} later on
   * a main thread when that is set (called when none is pending); once
   * the process is exiting, flushes right away instead (no turn follows `exit`). Callers
   * therefore call it only when the image is complete: after a whole entry is written.
   *
   * In a worker thread the flush runs when the current synchronous code is done (a microtask)
   * instead: thread pools park idle threads in `Atomics.wait` between tasks (Piscina does by
   * default), so the thread may never reach the end of its turn before it is terminated, and
   * `terminate()` runs no `exit` listener. A task's values are then in the file by the time
   * its result is posted.
   */
  schedule(): void {
    this.scheduled = true;
    if (this.closed) {
      this.events.afterClose();
      return; // `scheduled` stays true: a closed file never schedules again.
    }
    if (exiting) {
      this.flush();
      return;
    }
    if (!isMainThread) queueMicrotask(this.flushTask);
    else if (this.flushIntervalMs === 0) setImmediate(this.flushTask);
    // Unref'd: a process that ends normally is flushed by the exit hook, not kept alive.
    else setTimeout(this.flushTask, this.flushIntervalMs).unref();
  }

  /** The end-of-turn flush (and the retry after a failure): the one that may rewrite the file. */
  private readonly flushTask = (): void => {
    this.write(true);
  };

  /**
   * Writes the current time into the header's lease: one 8-byte positioned write of its own,
   * independent of flushes. It is what lets a process in another pid namespace, which cannot
   * check our pid, tell this writer is alive (identity.ts). A failure is reported like a failed
   * flush; the next renewal tries again.
   */
  private readonly renewLease = (): void => {
    if (this.closed) return;
    this.view.setFloat64(H_LEASE_MS, Date.now(), true);
    try {
      writeFully(this.fd, this.bytes, H_LEASE_MS, 8, H_LEASE_MS);
    } catch (error) {
      this.events.failed(
        new StoreError(
          'PROMFORK_WRITE_FAILED',
          `Cannot renew the lease in the metrics file ${describeValue(this.name)} ` +
            `(${errorCode(error)}); retried in ${LEASE_RENEW_MS / 1000} s`,
          { cause: error },
        ),
      );
    }
  };

  /**
   * Writes pending changes now: the dirty blocks in one positioned write (split into runs only
   * when they are far apart), then the header's `used` if entries were appended. Recreates the
   * file first when it is no longer in the directory. Never throws, and never rewrites the file
   * to reclaim space (the caller may be in the middle of an append).
   */
  flush(): void {
    this.write(false);
  }

  /** {@link flush}, and with `mayReclaim` a rewrite when removed entries take enough room. */
  private write(mayReclaim: boolean): void {
    if (this.closed) return;
    this.scheduled = false;
    if (this.dirtyList.length === 0 && !this.usedDirty) return;
    let reclaimError: unknown;
    try {
      // Checks first: a file put in place below (lost, or rewritten) is written from the image
      // as it is, and must carry the checks of this turn's values.
      this.refreshExemplarChecks();
      if (this.dirtyList.length > 0) {
        this.checks.refresh(this.u32, this.f64, this.dirty, this.dirtyList);
      }
      this.checkPlace();
      if (this.lost) {
        // Everything is in the image: the new file gets all of it, the old one is gone.
        this.putInPlace(this.bytes, this.used);
        this.allWritten();
      } else if (mayReclaim && !exiting && this.shouldReclaim()) {
        try {
          this.reclaim();
        } catch (error) {
          // Not a loss: the file is written in place below, and reclaiming waits a while.
          reclaimError = error;
          this.rewriteAfter = performance.now() + REWRITE_RETRY_MS;
        }
      }
      // The file is extended before anything is written and `used` goes last, so the size of
      // the file is never below a `used` a reader has seen (reader.ts takes the size after
      // the header for that reason).
      if (this.fileSize < this.bytes.byteLength) {
        ftruncateSync(this.fd, this.bytes.byteLength);
        this.fileSize = this.bytes.byteLength;
      }
      if (this.dirtyList.length > 0) {
        this.writeDirtyBlocks();
        for (const block of this.dirtyList) this.dirty[block] = 0;
        this.dirtyList = [];
      }
      if (this.usedDirty) {
        // Only after the entries are in the file may the header cover them.
        writeFully(this.fd, this.bytes, H_USED, 4, H_USED);
        this.usedDirty = false;
      }
      if (this.failing) {
        this.failing = false;
        this.events.recovered();
      }
    } catch (error) {
      // Keep everything dirty; retry later without keeping the process alive for it.
      this.scheduled = true;
      setTimeout(this.flushTask, RETRY_MS).unref();
      const failure = new StoreError(
        'PROMFORK_WRITE_FAILED',
        `Cannot write the metrics file ${describeValue(this.name)} (${errorCode(error)}); ` +
          'values are kept in memory and writing is retried',
        { cause: error },
      );
      this.failing = true;
      this.events.failed(failure);
    }
    if (reclaimError !== undefined) {
      // Reported last: counting it changes the image, which schedules the next flush.
      this.events.failed(
        new StoreError(
          'PROMFORK_WRITE_FAILED',
          `Cannot rewrite the metrics file ${describeValue(this.name)} to reclaim the space of ` +
            `removed series (${errorCode(reclaimError)}); it is written in place meanwhile`,
          { cause: reclaimError },
        ),
      );
    }
  }

  /**
   * Stores the check of every exemplar entry whose records changed (their blocks, the head's
   * included, are dirty already). Position-independent (exemplar-entry.ts): a rewrite copies
   * entries with their checks.
   */
  private refreshExemplarChecks(): void {
    if (this.exemplarChecks.size === 0) return;
    for (const entry of this.exemplarChecks) {
      const length = this.view.getUint32(entry, true);
      const check = exemplarsCheck(this.bytes, entry, length - EXEMPLARS_HEAD);
      this.view.setUint32(entry + EXEMPLARS_CHECK_OFFSET, check, true);
    }
    this.exemplarChecks.clear();
  }

  /**
   * Notes in {@link lost} whether the name no longer leads to this file: the directory was
   * removed (rm -rf, a new primary's prepareDirectory) or replaced. One lstat, at most once
   * per {@link PLACE_CHECK_MS}, and on every flush once the process is exiting (the last
   * chance to put its values where a scrape finds them).
   */
  private checkPlace(): void {
    if (this.lost) return;
    if (this.placeChecked === placeTick && !exiting) return;
    this.placeChecked = placeTick;
    try {
      const stat = lstatSync(join(this.dir, this.name));
      this.lost = stat.ino !== this.ino || stat.dev !== this.dev;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Other failures (EACCES, EIO) say nothing about the file: keep writing to it.
      this.lost = code === 'ENOENT' || code === 'ENOTDIR';
    }
  }

  /**
   * True when removed entries take enough room to rewrite the file without them: as much as
   * the live entries (and {@link RECLAIM_FLOOR}), or enough to spare the file the growth its
   * image has just had (an eighth of its size: rewrites stay at least that much garbage apart).
   */
  private shouldReclaim(): boolean {
    const removed = this.removedBytes;
    if (removed === 0) return false;
    const live = this.used - HEADER_SIZE - removed;
    const worth =
      removed >= Math.max(live, RECLAIM_FLOOR) ||
      (this.bytes.byteLength > this.fileSize && removed * 8 >= this.fileSize);
    return worth && performance.now() >= this.rewriteAfter;
  }

  /**
   * Rewrites the file with its live entries only: copies them byte for byte (header included,
   * as it is in the image) into a fresh image, keeping their order, with only the descriptor
   * offset of each series changed to where its descriptor went; puts that image in place as a
   * new file; then moves every FileCells and tells the owner where the entries went. Throws,
   * changing nothing, when the new file cannot be written.
   */
  private reclaim(): void {
    const old = this.bytes;
    const oldView = this.view;
    const copy = new Uint8Array(new ArrayBuffer(this.used));
    const copyView = new DataView(copy.buffer);
    copy.set(old.subarray(0, HEADER_SIZE));
    const moves = new Map<number, number>();
    /** First-slot float64 index of each kept series, old -> new. */
    const words = new Map<number, number>();
    /** Kept series as [head, first slot byte, slot count] in the new image. */
    const kept: [number, number, number][] = [];
    let to = HEADER_SIZE;
    for (let from = HEADER_SIZE; from < this.used; ) {
      const length = oldView.getUint32(from, true);
      const removed = ((old[from + ENTRY_FLAGS_OFFSET] ?? 0) & ENTRY_FLAG_REMOVED) !== 0;
      // A series of a removed descriptor goes with it, and so do the exemplars of a removed
      // series (both refer to an earlier entry at offset 8).
      const kind = old[from + 4];
      const refers = kind === KIND_SERIES || kind === KIND_EXEMPLARS;
      const owner = refers ? moves.get(oldView.getUint32(from + 8, true)) : to;
      if (!removed && owner !== undefined) {
        copy.set(old.subarray(from, from + length), to);
        if (refers) copyView.setUint32(to + 8, owner, true);
        if (kind === KIND_SERIES) {
          const slots = seriesSlotsOffset(oldView.getUint32(from + 16, true));
          words.set((from + slots) / 8, (to + slots) / 8);
          kept.push([to, to + slots, oldView.getUint32(from + 12, true)]);
        }
        moves.set(from, to);
        to += length;
      }
      from += length;
    }
    copyView.setUint32(H_USED, to, true);
    const live = to - HEADER_SIZE;
    const capacity = Math.min(
      MAX_FILE_SIZE - (MAX_FILE_SIZE % PAGE),
      Math.ceil((to + Math.max(live / 4, REWRITE_ROOM)) / PAGE) * PAGE,
    );
    const bytes = new Uint8Array(new ArrayBuffer(capacity));
    bytes.set(copy.subarray(0, to));
    const f64 = new Float64Array(bytes.buffer, 0, capacity / 8);
    const u32 = new Uint32Array(bytes.buffer, 0, capacity / 4);
    // A check depends on where its slots fall in the file's 1 KiB blocks, so the checks of
    // moved series are computed anew, before the new file is written.
    const checks = checkIndexOf(kept, u32, f64, to);
    this.putInPlace(bytes, to);
    const oldWords = this.f64;
    this.bytes = bytes;
    this.f64 = f64;
    this.view = new DataView(bytes.buffer);
    this.u32 = u32;
    this.checks = checks;
    this.dirty = new Uint8Array(capacity / BLOCK_BYTES);
    this.used = to;
    this.removedBytes = 0;
    this.allWritten();
    this.moveCells(words, oldWords);
    this.events.moved?.(moves);
  }

  /**
   * Moves every attached FileCells to where its series went (`words`: old first-slot index ->
   * new); cells of dropped series get their own detached image, holding their last values.
   */
  private moveCells(words: ReadonlyMap<number, number>, oldWords: Float64Array): void {
    const dropped: FileCells[] = [];
    let total = 0;
    for (const cells of this.attached) {
      if (cells.follow(words)) continue;
      this.attached.delete(cells);
      dropped.push(cells);
      total += cells.slotCount;
    }
    if (dropped.length === 0) return;
    const image = ProcessFile.detachedImage(total);
    let at = 0;
    for (const cells of dropped) {
      cells.detachTo(image, at, oldWords);
      at += cells.slotCount;
    }
  }

  /**
   * Writes `bytes[0..used)` (sized `bytes.byteLength`) to a new file and renames it over this
   * file's name, then writes through it. Created like the first file (O_EXCL, 0600, no
   * symlink, never visible half written); the directory is created again first when the file
   * was lost. A reader that opened the old file keeps a whole, older view of it. Throws,
   * leaving the old file in use, on failure.
   */
  private putInPlace(bytes: Uint8Array, used: number): void {
    if (this.lost) ensureDirectory(this.dir);
    // A new generation tells readers this is another file even when its inode number is one
    // an earlier file of this name had (FORMAT.md, "Rewrite").
    const header = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
    header.setUint32(H_GENERATION, (header.getUint32(H_GENERATION, true) + 1) >>> 0, true);
    const fd = openTemp(this.tempPath);
    try {
      ftruncateSync(fd, bytes.byteLength);
      writeFully(fd, bytes, 0, used, 0);
      renameSync(this.tempPath, join(this.dir, this.name));
    } catch (error) {
      closeSync(fd);
      try {
        unlinkSync(this.tempPath);
      } catch {
        // Never created or already renamed: nothing to clean up.
      }
      throw error;
    }
    try {
      closeSync(this.fd);
    } catch {
      // The old file is no longer ours to write; a failing close changes nothing.
    }
    this.fd = fd;
    const stat = fstatSync(fd);
    this.dev = stat.dev;
    this.ino = stat.ino;
    this.fileSize = bytes.byteLength;
    this.lost = false;
    this.placeChecked = placeTick;
  }

  /** Clears the dirty state: the file in place holds the whole image. */
  private allWritten(): void {
    for (const block of this.dirtyList) this.dirty[block] = 0;
    this.dirtyList = [];
    this.usedDirty = false;
  }

  /** Writes the dirty blocks: one write for the whole span, or one per run when sparse. */
  private writeDirtyBlocks(): void {
    const blocks = this.dirtyList;
    if (blocks.length > 1) blocks.sort((a, b) => a - b);
    const first = blocks[0]!;
    const last = blocks[blocks.length - 1]!;
    if ((last - first + 1) * BLOCK_BYTES <= SINGLE_WRITE_MAX) {
      this.writeBlocks(first, last);
      return;
    }
    let runStart = first;
    let runEnd = first;
    for (let i = 1; i < blocks.length; i++) {
      const block = blocks[i]!;
      if (block - runEnd > RUN_GAP_BLOCKS + 1) {
        this.writeBlocks(runStart, runEnd);
        runStart = block;
      }
      runEnd = block;
    }
    this.writeBlocks(runStart, runEnd);
  }

  /**
   * Writes blocks `first..last` inclusive, never the header: the header's `used` field is
   * written on its own, after the entries it covers.
   */
  private writeBlocks(first: number, last: number): void {
    const start = Math.max(first * BLOCK_BYTES, HEADER_SIZE);
    const end = (last + 1) * BLOCK_BYTES;
    writeFully(this.fd, this.bytes, start, end - start, start);
  }

  /** True while the last flush failed (values are held in memory). */
  get isFailing(): boolean {
    return this.failing;
  }

  /** Flushes and closes the file. Later writes only reach the image and are reported once. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.scheduled = false;
    clearInterval(this.leaseTimer);
    openFiles.delete(this);
    stopPlaceTicksIfIdle();
    try {
      closeSync(this.fd);
    } catch {
      // Nothing useful can be done about a failing close of a file we no longer use.
    }
  }

  /**
   * Reserves `size` bytes at the end of the used area for an entry and writes its head; the
   * caller writes the rest of the entry and then calls {@link appended}.
   */
  private reserve(size: number, kind: number): number {
    const offset = this.used;
    const end = offset + size;
    if (end > MAX_FILE_SIZE) {
      throw new StoreError(
        'PROMFORK_DIRECTORY_UNUSABLE',
        `The metrics file ${describeValue(this.name)} would exceed ${MAX_FILE_SIZE} bytes; ` +
          'too many series (check for unbounded label values)',
      );
    }
    if (end > this.bytes.byteLength) this.grow(end);
    this.view.setUint32(offset, size, true);
    this.bytes[offset + 4] = kind;
    this.used = end;
    this.view.setUint32(H_USED, end, true);
    this.usedDirty = true;
    return offset;
  }

  /**
   * Flags every block of the entry just written at `offset` dirty (its head, content and
   * initial slots), and only then asks for a flush: a flush, which also publishes `used`,
   * must never see an entry half written (it can run at once when the process is exiting).
   */
  private appended(offset: number, size: number): void {
    this.flagBlocks(offset, size);
    if (!this.scheduled) this.schedule();
  }

  /** Flags the blocks of bytes `offset .. offset + size` dirty, without asking for a flush. */
  private flagBlocks(offset: number, size: number): void {
    for (
      let block = Math.floor(offset / BLOCK_BYTES);
      block * BLOCK_BYTES < offset + size;
      block++
    ) {
      if (this.dirty[block] === 0) {
        this.dirty[block] = 1;
        this.dirtyList.push(block);
      }
    }
  }

  /** Doubles the image until `needed` bytes fit; the file follows at the next flush. */
  private grow(needed: number): void {
    let capacity = this.bytes.byteLength;
    while (capacity < needed) capacity *= 2;
    capacity = Math.min(capacity, MAX_FILE_SIZE);
    const bytes = new Uint8Array(new ArrayBuffer(capacity));
    bytes.set(this.bytes);
    this.bytes = bytes;
    this.f64 = new Float64Array(bytes.buffer, 0, capacity / 8);
    this.view = new DataView(bytes.buffer);
    this.u32 = new Uint32Array(bytes.buffer, 0, capacity / 4);
    const dirty = new Uint8Array(capacity / BLOCK_BYTES);
    dirty.set(this.dirty);
    this.dirty = dirty;
  }
}

/**
 * The Cells of one series: a window of `size` slots starting at float64 index `base`. A rewrite
 * of the file moves `base` ({@link follow}); the hot path reads both fields as before.
 */
export class FileCells implements Cells {
  private file: ProcessFile;
  private base: number;
  private readonly size: number;

  constructor(file: ProcessFile, base: number, size: number) {
    this.file = file;
    this.base = base;
    this.size = size;
    file.attach(this);
  }

  /** Number of slots. */
  get slotCount(): number {
    return this.size;
  }

  /**
   * Follows a rewrite of the file: `words` maps the old first-slot index of every kept series
   * to its new one. False when this series was dropped (it was removed).
   */
  follow(words: ReadonlyMap<number, number>): boolean {
    const to = words.get(this.base);
    if (to === undefined) return false;
    this.base = to;
    return true;
  }

  /**
   * Moves the slots of a dropped (removed) series to `image` at `at`, copied from `from` (the
   * image before the rewrite): a child handle kept after `remove` or `reset` writes there,
   * seen by nobody, as it wrote to the removed entry before, and never into the space the
   * rewrite gave to other series.
   */
  detachTo(image: ProcessFile, at: number, from: Float64Array): void {
    image.f64.set(from.subarray(this.base, this.base + this.size), at);
    this.file = image;
    this.base = at;
  }

  add(index: number, delta: number): void {
    // The bound check keeps a bad index from overwriting the next entry in the file.
    if (index >= this.size) return;
    const file = this.file;
    const word = this.base + index;
    file.f64[word]! += delta;
    const block = word >>> BLOCK_SHIFT_WORDS;
    if (file.dirty[block] === 0) file.markBlock(block);
  }

  set(index: number, value: number): void {
    if (index >= this.size) return;
    const file = this.file;
    const word = this.base + index;
    file.f64[word] = value;
    const block = word >>> BLOCK_SHIFT_WORDS;
    if (file.dirty[block] === 0) file.markBlock(block);
  }

  get(index: number): number {
    if (index >= this.size) return Number.NaN;
    return this.file.f64[this.base + index] ?? Number.NaN;
  }

  /** Where the slots are now (for collect): `data[start]`, ... of the live image. */
  window(): { data: Float64Array; start: number } {
    return { data: this.file.f64, start: this.base };
  }
}

/**
 * Writes what the other open files of this thread in `dir` hold back (a `flushIntervalMs`
 * store's changes wait for its timer), so that a scrape by one store of a thread shows what
 * another store of the same thread recorded, as its own scrape would. Cheap when nothing waits.
 */
export function flushSiblings(dir: string, self: ProcessFile): void {
  for (const file of openFiles) if (file !== self && file.dir === dir) file.flush();
}

/** True when an open store of this thread writes a file of `name` in `dir`. */
function nameInUse(dir: string, name: string): boolean {
  for (const file of openFiles) if (file.name === name && file.dir === dir) return true;
  return false;
}

/**
 * Puts the temp file at `target` without overwriting an existing file. Returns false when the
 * target exists. A hard link is atomic and refuses to overwrite; filesystems without hard links
 * fall back to rename after an existence check.
 */
function placeFile(temp: string, target: string): boolean {
  const outcome = linkIfFree(temp, target);
  if (outcome === 'exists') return false;
  if (outcome === 'linked') {
    unlinkSync(temp);
    return true;
  }
  // No hard links here: O_EXCL on the target reserves the name, then rename replaces it.
  const fd = createIfFree(target);
  if (fd === undefined) return false;
  closeSync(fd);
  renameSync(temp, target);
  return true;
}

/**
 * Opens `path` as a new file for a replacement image (O_EXCL, 0600, no symlink). A file left
 * there can only be a failed earlier attempt of this writer (the name holds its token): it is
 * removed and the open tried once more.
 */
function openTemp(path: string): number {
  const flags = constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | O_NOFOLLOW;
  try {
    return openSync(path, flags, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(path);
    return openSync(path, flags, 0o600);
  }
}

function errorCode(error: unknown): string {
  if (error instanceof StoreError) return error.message;
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/**
 * The check index of a rewritten image (`kept`: its series as [head, first slot byte, slot
 * count]; `used` bytes): every series is new to it, so its segment hashes and checks are
 * computed over every block at once, and the checks are stored in the image.
 */
function checkIndexOf(
  kept: readonly (readonly [number, number, number])[],
  u32: Uint32Array,
  f64: Float64Array,
  used: number,
): SeriesCheckIndex {
  const checks = new SeriesCheckIndex();
  for (const [head, slots, count] of kept) checks.add(head, slots, count);
  const blocks = Math.ceil(used / BLOCK_BYTES);
  const all = Array.from({ length: blocks }, (_, block) => block);
  checks.refresh(u32, f64, new Uint8Array(Math.ceil((f64.length * 8) / BLOCK_BYTES)).fill(1), all);
  return checks;
}
