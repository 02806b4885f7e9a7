/**
 * Per-series checks: how a scrape sees every series of another process from one moment.
 *
 * A writer flushes its changed blocks with positioned writes while other processes read the
 * file with read(). The kernel gives a read racing a write no atomicity (page-cache copies
 * interleave at any byte), so without a check a scrape could show a histogram whose buckets,
 * `_sum` and `_count` come from two turns, or a summary whose windows disagree with its count.
 *
 * Writer: the hot path is unchanged (an update only flags its 1 KiB block dirty). At flush, for
 * every dirty block, {@link SeriesCheckIndex.refresh} recomputes the check of each series whose
 * slots overlap the block and stores it in the series head ({@link SERIES_CHECK_OFFSET}),
 * flagging the head's block too, so a file at rest always holds matching checks. The image
 * does not change during a flush (one thread owns it), so each write carries consistent
 * checks. Checks hash a series in 1 KiB segments whose hashes the writer keeps, with a copy of
 * the slots as last hashed, so a flush rehashes only segments whose slots changed (one counter
 * of the ~25 in a block, one segment of an 80 KB summary).
 *
 * Reader: {@link SeriesVerifier} recomputes each series' check from the bytes read. A mismatch
 * means the read raced a write of that series: it re-reads just that entry (a small pread),
 * a few times with short waits (a writer preempted in the middle of its write leaves the file
 * inconsistent until it runs again; the waits are budgeted per reader, {@link WaitBudget}). A series that still fails shows this reader's previous
 * values of it, or is left out of this scrape when it has none; a reader of files that are no
 * longer written (compaction, of dead processes) takes it as read instead, since nothing will
 * ever make it match (a writer killed inside a write, or damage) and dropping it would lose
 * counts. Every series whose first read failed is counted by outcome.
 */
import { readSync } from 'node:fs';
import { SERIES_CHECK_OFFSET } from './format.js';

/**
 * Checks hash a series' slots in segments cut at these boundaries of the file (the writer's
 * dirty blocks, process-file.ts), so a flush rehashes only the changed part of a large series
 * (a summary's sketch windows take 16 KB each).
 */
export const CHECK_SEGMENT_BYTES = 1024;
const SEGMENT_WORDS = CHECK_SEGMENT_BYTES / 4;

/**
 * Hash of `words[first]` to `words[end - 1]` (an even count: two words per float64 slot). Low
 * and high words run in two independent lanes (twice the throughput of one chain of
 * multiplies); each step (xor a word, multiply by an odd constant, xor-shift) is a bijection
 * of the lane's state, and the lanes are mixed at the end.
 */
function segmentHash(words: Uint32Array, first: number, end: number): number {
  let low = (end - first) ^ 0x9e3779b9;
  let high = 0x7f4a7c15;
  for (let i = first; i < end; i += 2) {
    low = Math.imul(low ^ words[i]!, 0x85ebca6b);
    low ^= low >>> 15;
    high = Math.imul(high ^ words[i + 1]!, 0xc2b2ae35);
    high ^= high >>> 13;
  }
  const h = Math.imul(low ^ ((high << 16) | (high >>> 16)), 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** Folds one segment hash into a series check being built (start: {@link checkSeed}). */
function checkStep(h: number, segment: number): number {
  const next = Math.imul(h ^ segment, 0x165667b1);
  return next ^ (next >>> 13);
}

function checkSeed(wordCount: number): number {
  return wordCount ^ 0x27d4eb2f;
}

function checkFinish(h: number): number {
  const mixed = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (mixed ^ (mixed >>> 13)) >>> 0;
}

/**
 * The check of a series: a 32-bit hash of its slots, read as `wordCount` uint32 words starting
 * at `words[firstWord]` (the image as uint32, file offset / 4), folded segment by segment
 * ({@link CHECK_SEGMENT_BYTES}). A torn mix of two slot contents matches by chance with a
 * probability of about 2^-32.
 */
export function seriesCheck(words: Uint32Array, firstWord: number, wordCount: number): number {
  const end = firstWord + wordCount;
  let h = checkSeed(wordCount);
  for (let start = firstWord; start < end; ) {
    const stop = Math.min(end, (Math.floor(start / SEGMENT_WORDS) + 1) * SEGMENT_WORDS);
    h = checkStep(h, segmentHash(words, start, stop));
    start = stop;
  }
  return checkFinish(h);
}

/**
 * The writer's map from 1 KiB blocks to the series whose slots lie in them, filled as series are
 * appended, and the flush step that refreshes their checks. It keeps each series' segment
 * hashes and a copy of the slot words as last hashed, so a flush rehashes only the segments
 * whose words changed (one counter of the ~25 in a dirty block, one window segment of a
 * summary), at the price of a second copy of the image in memory.
 */
export class SeriesCheckIndex {
  /** Per series number: byte offset of its entry's check field. */
  private checkAt = new Int32Array(64);
  /** Per series number: uint32 index of its first slot word. */
  private firstWord = new Int32Array(64);
  /** Per series number: its slot words (two per float64 slot). */
  private wordCount = new Int32Array(64);
  /** Per series number: the block of its first slot. */
  private firstBlock = new Int32Array(64);
  /** Per series number: where its segment hashes start in {@link segments}. */
  private segmentsAt = new Int32Array(64);
  /** Per series number: the flush in which its check was last refreshed (once per flush). */
  private refreshed = new Uint32Array(64);
  /** Segment hashes of every series, one per block it spans. */
  private segments = new Int32Array(256);
  /** The slots of the image as last hashed. */
  private shadow = new Float64Array(0);
  /** Per series number: 1 until its first refresh (all its segments must be hashed). */
  private fresh = new Uint8Array(64);
  /** Series numbers whose slots overlap each block. */
  private readonly byBlock: number[][] = [];
  /** Series whose segments the current flush rehashed (reused between flushes). */
  private readonly touched: number[] = [];
  private count = 0;
  private segmentCount = 0;
  private flushes = 0;

  /** Records a series entry at byte `head` whose `slotCount` slots start at byte `slots`. */
  add(head: number, slots: number, slotCount: number): void {
    const id = this.count++;
    if (id === this.checkAt.length) this.growSeries();
    const first = Math.floor(slots / CHECK_SEGMENT_BYTES);
    const last = Math.floor((slots + slotCount * 8 - 1) / CHECK_SEGMENT_BYTES);
    while (this.segmentCount + (last - first + 1) > this.segments.length) this.growSegments();
    this.checkAt[id] = head + SERIES_CHECK_OFFSET;
    this.firstWord[id] = slots / 4;
    this.wordCount[id] = slotCount * 2;
    this.firstBlock[id] = first;
    this.segmentsAt[id] = this.segmentCount;
    this.fresh[id] = 1;
    this.segmentCount += last - first + 1;
    for (let block = first; block <= last; block++) {
      const ids = this.byBlock[block];
      if (ids === undefined) this.byBlock[block] = [id];
      else ids.push(id);
    }
  }

  /**
   * Stores the current check of every series whose slots overlap a block of `dirtyList` (the
   * dirty blocks of this flush; `dirty` flags them) into its head in `words` (the image as
   * uint32). A head in a block that is not dirty is flagged and listed, so this flush writes
   * it; such a block holds no changed slots, so it needs no refresh of its own.
   *
   * Every block of a new series is dirty at its first flush (process-file.ts flags a whole
   * appended entry), so each segment hash is computed before it is first used.
   */
  refresh(words: Uint32Array, slots: Float64Array, dirty: Uint8Array, dirtyList: number[]): void {
    const flush = ++this.flushes;
    const touched = this.touched;
    if (this.shadow.length < slots.length) {
      const shadow = new Float64Array(slots.length);
      shadow.set(this.shadow);
      this.shadow = shadow;
    }
    const shadow = this.shadow;
    const blocks = dirtyList.length;
    for (let b = 0; b < blocks; b++) {
      const block = dirtyList[b]!;
      const ids = this.byBlock[block];
      if (ids === undefined) continue;
      const blockStart = block * SEGMENT_WORDS;
      const blockEnd = blockStart + SEGMENT_WORDS;
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        const first = this.firstWord[id]!;
        const from = Math.max(first, blockStart);
        const end = first + this.wordCount[id]!;
        const to = Math.min(end, blockEnd);
        if (!copyIfChanged(slots, shadow, from / 2, to / 2) && this.fresh[id] === 0) continue;
        this.segments[this.segmentsAt[id]! + block - this.firstBlock[id]!] = segmentHash(
          words,
          from,
          to,
        );
        if (this.refreshed[id] !== flush) {
          this.refreshed[id] = flush;
          touched.push(id);
        }
      }
    }
    for (let k = 0; k < touched.length; k++) {
      const id = touched[k]!;
      const wordCount = this.wordCount[id]!;
      const from = this.segmentsAt[id]!;
      const to = from + this.spannedBlocks(id);
      let h = checkSeed(wordCount);
      for (let j = from; j < to; j++) h = checkStep(h, this.segments[j]!);
      this.fresh[id] = 0;
      const at = this.checkAt[id]!;
      words[at >>> 2] = checkFinish(h);
      const block = Math.floor(at / CHECK_SEGMENT_BYTES);
      if (dirty[block] === 0) {
        dirty[block] = 1;
        dirtyList.push(block);
      }
    }
    touched.length = 0;
  }

  /** Blocks spanned by the slots of series `id`. */
  private spannedBlocks(id: number): number {
    const lastWord = this.firstWord[id]! + this.wordCount[id]! - 1;
    return Math.floor(lastWord / SEGMENT_WORDS) - this.firstBlock[id]! + 1;
  }

  private growSeries(): void {
    const size = this.checkAt.length * 2;
    this.checkAt = widened(this.checkAt, size);
    this.firstWord = widened(this.firstWord, size);
    this.wordCount = widened(this.wordCount, size);
    this.firstBlock = widened(this.firstBlock, size);
    this.segmentsAt = widened(this.segmentsAt, size);
    const refreshed = new Uint32Array(size);
    refreshed.set(this.refreshed);
    this.refreshed = refreshed;
    const fresh = new Uint8Array(size);
    fresh.set(this.fresh);
    this.fresh = fresh;
  }

  private growSegments(): void {
    this.segments = widened(this.segments, this.segments.length * 2);
  }
}

/**
 * Compares `slots` with `shadow` from `from` to `to` (exclusive); where they differ, copies the
 * rest of the range into `shadow` and returns true. Compared as float64 (half the steps of
 * uint32 words): `===` misses only a change between 0 and -0, checked apart, and calls NaN
 * always changed (a needless rehash, never a missed one).
 */
function copyIfChanged(
  slots: Float64Array,
  shadow: Float64Array,
  from: number,
  to: number,
): boolean {
  for (let i = from; i < to; i++) {
    const value = slots[i]!;
    const old = shadow[i]!;
    if (value !== old || (value === 0 && 1 / value !== 1 / old)) {
      for (let j = i; j < to; j++) shadow[j] = slots[j]!;
      return true;
    }
  }
  return false;
}

/** A copy of `array` with room for `size` elements. */
function widened(array: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const wider = new Int32Array(size);
  wider.set(array);
  return wider;
}

/** What became of series whose first read failed its check (counted per scrape). */
export type TornOutcome = 'reread' | 'previous' | 'skipped' | 'as_read';

/** Every {@link TornOutcome}, in the order they are counted. */
export const TORN_OUTCOMES: readonly TornOutcome[] = ['reread', 'previous', 'skipped', 'as_read'];

/** Counts of {@link TornOutcome}s of one file read. */
export type TornCounts = Record<TornOutcome, number>;

/** The values a reader showed for a file last time, for series that stay torn. */
export interface PreviousValues {
  /** That read's image as float64 words (with its fallbacks applied). */
  readonly words: Float64Array;
  /** Entry offsets of series that read left out (it has no values of them). */
  readonly skipped: ReadonlySet<number>;
}

/**
 * Waits before each re-read of a torn series, in ms: the first re-reads follow at once (a
 * racing write is over within microseconds), the later ones give a writer preempted inside its
 * write time to run again.
 */
const REREAD_WAITS_MS: readonly number[] = [0, 0, 0, 0.1, 1, 4];
/** Re-reads of a torn series once waiting is pointless or spent: one, at once. */
const ONE_REREAD: readonly number[] = [0];
/** Most a reader waits for torn series per second (so per scrape: files are read back to back). */
const WAIT_BUDGET_MS = 10;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The time one reader may spend waiting for torn series: {@link WAIT_BUDGET_MS} per second.
 * Once spent, each further torn series gets {@link ONE_REREAD}, so files whose checks never
 * match (damage) cost a scrape one small pread per series, never a wait per series.
 */
export class WaitBudget {
  private spent = 0;
  private since = Number.NEGATIVE_INFINITY;

  /** True while some of this second's budget is left. */
  get available(): boolean {
    const now = performance.now();
    if (now - this.since >= 1000) {
      this.since = now;
      this.spent = 0;
    }
    return this.spent < WAIT_BUDGET_MS;
  }

  /** Blocks this thread for `ms` if budget is left (a scrape runs synchronously anyway). */
  wait(ms: number): void {
    if (!this.available) return;
    Atomics.wait(sleeper, 0, 0, ms);
    this.spent += ms;
  }
}

/**
 * Checks the series of one file read (see the module comment); the reader calls
 * {@link verify} for each series it is about to show.
 */
export class SeriesVerifier {
  /** Outcomes of series whose first read failed its check. */
  readonly torn: TornCounts = { reread: 0, previous: 0, skipped: 0, as_read: 0 };
  private readonly words: Uint32Array;
  private readonly slots: Float64Array;
  private readonly skipped = new Set<number>();

  /**
   * `bytes` is the image read from `fd` (8-byte aligned, file offsets = indices). `final` says
   * the file is no longer written (see the module comment); `budget` is the reader's.
   */
  constructor(
    private readonly fd: number,
    private readonly bytes: Uint8Array,
    private readonly previous: PreviousValues | undefined,
    private readonly final: boolean,
    private readonly budget: WaitBudget,
  ) {
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    this.slots = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 3);
  }

  /**
   * True when the slots of the series entry at byte `offset` (`length` bytes; `slotCount`
   * slots from float64 index `start`) in the image are from one moment (re-reading them as
   * needed) or replaced by previous values; false when it must be left out of this read.
   * Plain numbers, not an entry object: the reader keeps none per series (reader.ts).
   */
  verify(offset: number, length: number, start: number, slotCount: number): boolean {
    if (this.matches(offset, start, slotCount)) return true;
    const waits = this.final || !this.budget.available ? ONE_REREAD : REREAD_WAITS_MS;
    for (const wait of waits) {
      if (wait > 0) this.budget.wait(wait);
      if (!this.reread(offset, length)) break;
      if (this.matches(offset, start, slotCount)) {
        this.torn.reread++;
        return true;
      }
    }
    if (this.final) {
      this.torn.as_read++;
      return true;
    }
    const previous = this.previous;
    const end = start + slotCount;
    if (previous !== undefined && previous.words.length >= end && !previous.skipped.has(offset)) {
      this.slots.set(previous.words.subarray(start, end), start);
      this.torn.previous++;
      return true;
    }
    this.skipped.add(offset);
    this.torn.skipped++;
    return false;
  }

  /** What a later read of the same file falls back on. */
  keep(): PreviousValues {
    return { words: this.slots, skipped: this.skipped };
  }

  private matches(offset: number, start: number, slotCount: number): boolean {
    const stored = this.words[(offset + SERIES_CHECK_OFFSET) >>> 2];
    return stored === seriesCheck(this.words, start * 2, slotCount * 2);
  }

  /** Reads the entry again into the image; false when the read fails or comes up short. */
  private reread(offset: number, length: number): boolean {
    try {
      return readSync(this.fd, this.bytes, offset, length, offset) === length;
    } catch {
      return false;
    }
  }
}
