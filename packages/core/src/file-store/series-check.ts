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
 * flagging the head's block too, so a file at rest always holds matching checks. The image does
 * not change during a flush (one thread owns it), so each write carries consistent checks.
 *
 * Reader: {@link SeriesVerifier} recomputes each series' check from the bytes read. A mismatch
 * means the read raced a write of that series: it re-reads just that entry (a small pread),
 * a few times with short waits (a writer preempted in the middle of its write leaves the file
 * inconsistent until it runs again). A series that still fails shows this reader's previous
 * values of it, or is left out of this scrape when it has none; a reader of files that are no
 * longer written (compaction, of dead processes) takes it as read instead, since nothing will
 * ever make it match (a writer killed inside a write, or damage) and dropping it would lose
 * counts. Every series whose first read failed is counted by outcome.
 */
import { readSync } from 'node:fs';
import { SERIES_CHECK_OFFSET } from './format.js';

/**
 * The check of a series: a 32-bit hash of its slots read as `wordCount` uint32 words starting
 * at `words[firstWord]`. Each step (xor a word, multiply by an odd constant, xor-shift) is a
 * bijection of the running state, so two slot contents differing in one word always differ in
 * their checks; a torn mix of two contents matches by chance with probability about 2^-32.
 */
export function seriesCheck(words: Uint32Array, firstWord: number, wordCount: number): number {
  let h = wordCount ^ 0x9e3779b9;
  const end = firstWord + wordCount;
  for (let i = firstWord; i < end; i++) {
    h = Math.imul(h ^ words[i]!, 0x85ebca6b);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/**
 * The writer's map from 1 KiB blocks to the series whose slots lie in them, filled as series are
 * appended, and the flush step that refreshes their checks.
 */
export class SeriesCheckIndex {
  /** Byte offset of each series entry, by series number. */
  private heads: number[] = [];
  /** uint32 index of each series' first slot word. */
  private firstWords: number[] = [];
  /** Slot words (two per float64 slot) of each series. */
  private wordCounts: number[] = [];
  /** Series numbers whose slots overlap each block. */
  private byBlock: number[][] = [];
  /** Flush number in which each series' check was last refreshed (one refresh per flush). */
  private refreshed: number[] = [];
  private flushes = 0;

  constructor(private readonly blockBytes: number) {}

  /** Records a series entry at byte `head` whose `slotCount` slots start at byte `slots`. */
  add(head: number, slots: number, slotCount: number): void {
    const id = this.heads.length;
    this.heads.push(head);
    this.firstWords.push(slots / 4);
    this.wordCounts.push(slotCount * 2);
    this.refreshed.push(0);
    const last = Math.floor((slots + slotCount * 8 - 1) / this.blockBytes);
    for (let block = Math.floor(slots / this.blockBytes); block <= last; block++) {
      const ids = this.byBlock[block];
      if (ids === undefined) this.byBlock[block] = [id];
      else ids.push(id);
    }
  }

  /**
   * Stores the current check of every series whose slots overlap one of `blocks` (the dirty
   * blocks of this flush) into its head in `words` (the image as uint32). A head in a block
   * that is not dirty is flagged with `markDirty` so it is written in this flush; such a block
   * holds no changed slots, so it needs no refresh of its own.
   */
  refresh(words: Uint32Array, blocks: readonly number[], markDirty: (block: number) => void): void {
    const flush = ++this.flushes;
    const count = blocks.length;
    for (let b = 0; b < count; b++) {
      const ids = this.byBlock[blocks[b]!];
      if (ids === undefined) continue;
      for (const id of ids) {
        if (this.refreshed[id] === flush) continue;
        this.refreshed[id] = flush;
        const at = this.heads[id]! + SERIES_CHECK_OFFSET;
        words[at >>> 2] = seriesCheck(words, this.firstWords[id]!, this.wordCounts[id]!);
        markDirty(Math.floor(at / this.blockBytes));
      }
    }
  }
}

/** What became of series whose first read failed its check (counted per scrape). */
export type TornOutcome = 'reread' | 'previous' | 'skipped' | 'as_read';

/** Every {@link TornOutcome}, in the order they are counted. */
export const TORN_OUTCOMES: readonly TornOutcome[] = ['reread', 'previous', 'skipped', 'as_read'];

/** Counts of {@link TornOutcome}s of one file read. */
export type TornCounts = Record<TornOutcome, number>;

/** What a series entry looks like to the verifier. */
export interface CheckedEntry {
  /** Byte offset of the entry. */
  readonly offset: number;
  /** Entry length in bytes. */
  readonly length: number;
  /** Float64 index of its first slot. */
  readonly start: number;
  readonly slotCount: number;
}

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
/**
 * Most time one file read spends waiting for torn series; once spent, series re-read without
 * waiting. Bounds the scrape cost of a file whose checks never match (damage).
 */
const WAIT_BUDGET_MS = 10;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

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
  private waited = 0;

  /**
   * `bytes` is the image read from `fd` (8-byte aligned, file offsets = indices). `final` says
   * the file is no longer written (see the module comment).
   */
  constructor(
    private readonly fd: number,
    private readonly bytes: Uint8Array,
    private readonly previous: PreviousValues | undefined,
    private readonly final: boolean,
  ) {
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    this.slots = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 3);
  }

  /**
   * True when the series' slots in the image are from one moment (re-reading them as needed)
   * or replaced by previous values; false when it must be left out of this read.
   */
  verify(entry: CheckedEntry): boolean {
    if (this.matches(entry)) return true;
    for (const wait of this.final ? [0] : REREAD_WAITS_MS) {
      if (wait > 0 && this.waited < WAIT_BUDGET_MS) {
        Atomics.wait(sleeper, 0, 0, wait);
        this.waited += wait;
      }
      if (!this.reread(entry)) break;
      if (this.matches(entry)) {
        this.torn.reread++;
        return true;
      }
    }
    if (this.final) {
      this.torn.as_read++;
      return true;
    }
    const previous = this.previous;
    const end = entry.start + entry.slotCount;
    if (
      previous !== undefined &&
      previous.words.length >= end &&
      !previous.skipped.has(entry.offset)
    ) {
      this.slots.set(previous.words.subarray(entry.start, end), entry.start);
      this.torn.previous++;
      return true;
    }
    this.skipped.add(entry.offset);
    this.torn.skipped++;
    return false;
  }

  /** What a later read of the same file falls back on. */
  keep(): PreviousValues {
    return { words: this.slots, skipped: this.skipped };
  }

  private matches(entry: CheckedEntry): boolean {
    const stored = this.words[(entry.offset + SERIES_CHECK_OFFSET) >>> 2];
    return stored === seriesCheck(this.words, entry.start * 2, entry.slotCount * 2);
  }

  /** Reads the entry again into the image; false when the read fails or comes up short. */
  private reread(entry: CheckedEntry): boolean {
    try {
      return (
        readSync(this.fd, this.bytes, entry.offset, entry.length, entry.offset) === entry.length
      );
    } catch {
      return false;
    }
  }
}
