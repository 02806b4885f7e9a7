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
 * it was running.
 *
 * Write failures (EIO, ENOSPC, ...) never throw into callers: they are reported once, counted,
 * the values stay in the image, and the flush is retried from an unref'd timer (and on exit).
 */
import { closeSync, constants, ftruncateSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { describeValue, InvalidOptionError, LabelSetError, StoreError } from '../errors.js';
import type { Cells } from '../store.js';
import type { MetricDescriptor } from '../types.js';
import { MAX_SERIES_KEY_BYTES } from '../validation.js';
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
  H_LEASE_MS,
  H_USED,
  HEADER_SIZE,
  type HeaderIdentity,
  KIND_DESCRIPTOR,
  KIND_SERIES,
  LEASE_RENEW_MS,
  MAX_DESCRIPTOR_JSON_BYTES,
  MAX_FILE_SIZE,
  processFileName,
  SERIES_HEAD,
  seriesEntrySize,
  seriesKey,
  seriesSlotsOffset,
  TEMP_PREFIX,
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

/** How a ProcessFile tells its owner about write problems (the owner reports and counts). */
export interface WriteEvents {
  /** A flush failed; everything stays dirty and a retry is scheduled. */
  failed(error: Error): void;
  /** A flush succeeded after one or more failures. */
  recovered(): void;
  /** A value was changed after close; it stays in memory only. Called once. */
  afterClose(): void;
}

const openFiles = new Set<ProcessFile>();
let exitHookInstalled = false;
/** True once the process emits `exit`: no later event-loop turn will run. */
let exiting = false;

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

  private view: DataView;
  /** Uint32 view of {@link bytes}, for the series checks. */
  private u32: Uint32Array;
  private readonly checks = new SeriesCheckIndex();
  private fd: number;
  private used = HEADER_SIZE;
  private usedDirty = false;
  private fileSize: number;
  private closed = false;
  private failing = false;
  /** Renews the header's lease (see {@link renewLease}); unref'd, stopped by close. */
  private readonly leaseTimer: NodeJS.Timeout;

  private constructor(
    name: string,
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
    this.leaseTimer = setInterval(this.renewLease, LEASE_RENEW_MS).unref();
    openFiles.add(this);
    installExitHook();
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
    const temp = join(dir, `${TEMP_PREFIX}${identity.pid}-${identity.token}.tmp`);
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
        if (placeFile(temp, join(dir, name))) {
          return new ProcessFile(name, fd, bytes, events);
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

  /** Marks the entry at byte `offset` removed; readers skip it from the next flush on. */
  markRemoved(offset: number): void {
    this.bytes[offset + ENTRY_FLAGS_OFFSET] =
      (this.bytes[offset + ENTRY_FLAGS_OFFSET] ?? 0) | ENTRY_FLAG_REMOVED;
    const block = Math.floor(offset / BLOCK_BYTES);
    if (this.dirty[block] === 0) this.markBlock(block);
  }

  /** Flags block `block` dirty (it was clean) and makes sure a flush is pending. */
  markBlock(block: number): void {
    this.dirty[block] = 1;
    this.dirtyList.push(block);
    if (!this.scheduled) this.schedule();
  }

  /**
   * Schedules a flush at the end of this event-loop turn (called when none is pending); once
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
    if (isMainThread) setImmediate(this.flushTask);
    else queueMicrotask(this.flushTask);
  }

  private readonly flushTask = (): void => {
    this.flush();
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
   * when they are far apart), then the header's `used` if entries were appended. Never throws.
   */
  flush(): void {
    if (this.closed) return;
    this.scheduled = false;
    if (this.dirtyList.length === 0 && !this.usedDirty) return;
    try {
      // The file is extended before anything is written and `used` goes last, so the size of
      // the file is never below a `used` a reader has seen (reader.ts takes the size after
      // the header for that reason).
      if (this.fileSize < this.bytes.byteLength) {
        ftruncateSync(this.fd, this.bytes.byteLength);
        this.fileSize = this.bytes.byteLength;
      }
      if (this.dirtyList.length > 0) {
        this.checks.refresh(this.u32, this.f64, this.dirty, this.dirtyList);
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
    if (!this.scheduled) this.schedule();
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

/** The Cells of one series: a window of `size` slots starting at float64 index `base`. */
export class FileCells implements Cells {
  constructor(
    private readonly file: ProcessFile,
    private readonly base: number,
    private readonly size: number,
  ) {}

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

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
