/**
 * The key texts of the series entries one reader parses in one scrape, found by their bytes.
 *
 * The same label set is in every file of a scrape (8 workers: 8 series entries per key), so
 * series entries with the same key bytes share one {@link KeyText}: one key string and, when
 * something asks for them, one array of label values. Finding it by the key's bytes (a hash of
 * the bytes into an open-addressing table holding a copy of each distinct key) decodes a
 * key's text once per distinct key, not once per entry: a cold scrape of 8 files used to make
 * a string per entry only to look it up in a `Map` and drop it (a tenth of its time and its
 * largest garbage after the entries themselves). The shared key string also makes merging's
 * key look-ups cheaper (its hash is computed once, and equal keys are the same string).
 *
 * Per metric name: the renderer keeps per label values array the text of one family's lines
 * (render.ts), so two families sharing arrays would rebuild each other's text at every scrape.
 */
import type { PlainSeriesKey } from '../store.js';
import { decodeSeriesKeyText, plainSeriesKeyCount, splitPlainSeriesKey } from './format.js';

/** The text of one series key, shared by the entries with its bytes (see the module comment). */
export class KeyText implements PlainSeriesKey {
  /**
   * True when {@link key} is plain (format.ts `plainSeriesKeyCount`): merged series then carry
   * this key text as their `plainKey`, and a text scrape never splits it (store.ts).
   */
  readonly plain: boolean;

  constructor(
    /** The in-memory key (`seriesKey(labelValues)`). */
    readonly key: string,
    /** How many label values it holds. */
    readonly count: number,
    /** Undefined while not split from a plain key. */
    private values: readonly string[] | undefined,
  ) {
    this.plain = values === undefined;
  }

  /** Split from a plain key when first asked (JSON, protobuf, snapshots: not a text scrape). */
  get labelValues(): readonly string[] {
    this.values ??= splitPlainSeriesKey(this.key);
    return this.values;
  }
}

/** The checked key of the key text `text`, or undefined when it is not one (format.ts). */
function keyTextOf(text: string): KeyText | undefined {
  const count = plainSeriesKeyCount(text);
  if (count >= 0) return new KeyText(text, count, undefined);
  const decoded = decodeSeriesKeyText(text);
  if (decoded === undefined) return undefined;
  const values = decoded.labelValues;
  return new KeyText(decoded.key, values.length, values);
}

/**
 * Slots of a new table (a power of two). Small: a table is made per metric per scrape that
 * parses a new entry of it, and most metrics hold a few series. Starting at 1,024 slots and a
 * 64 KB pool cost 74 KB per metric: a cold scrape of 300 metrics of 2 series over 8 files
 * allocated 22 MB for tables that each held two keys. Growth by doubling is cheap beside
 * decoding the keys.
 */
const FIRST_SLOTS = 16;
/** Bytes of a new copy pool (grown by doubling like the table). */
const FIRST_POOL = 1024;

/**
 * Most slots a look-up probes before it takes the key to {@link KeyTable.overflow}. The hash is
 * not made to resist chosen keys: a planted file of keys sharing one hash would otherwise make
 * every look-up walk all of them (a scrape quadratic in its keys). Past the bound such keys are
 * found by their decoded text in a `Map` (whose string hashes are seeded per process), as they
 * were before this table.
 */
const MAX_PROBES = 64;

/** The hash of `length` bytes of `image` from `start` (FNV-1a, as an int32). */
export type KeyHash = (image: Uint8Array, start: number, length: number) => number;

/** FNV-1a over the bytes, as an int32 (the hashes array holds int32s). */
function fnv1a(image: Uint8Array, start: number, length: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < start + length; i++) {
    hash = Math.imul(hash ^ (image[i] as number), 0x01000193);
  }
  return hash;
}

/** The key texts of one metric by key bytes: an open-addressing table with linear probing. */
class KeyTable {
  /** Per slot: 1 + the index of its key in {@link texts}, 0 when free. */
  private slots = new Int32Array(FIRST_SLOTS);
  /** Per key: its hash (to grow the table without hashing again). */
  private hashes = new Int32Array(FIRST_SLOTS / 2);
  /** Per key: where its bytes start in {@link pool}, and their length. */
  private starts = new Int32Array(FIRST_SLOTS / 2);
  private lengths = new Int32Array(FIRST_SLOTS / 2);
  /** Copies of the keys' bytes, end to end. */
  private pool = new Uint8Array(FIRST_POOL);
  private used = 0;
  private readonly texts: (KeyText | null)[] = [];
  /** Keys whose look-up passed {@link MAX_PROBES}, by their text (rare: see there). */
  private overflowed: Map<string, KeyText | null> | undefined;

  constructor(private readonly hashOf: KeyHash) {}

  /**
   * The key text of the bytes `image[start]` ... `image[start + length - 1]`, decoded (once)
   * from `image` when these bytes are new; null when they are not a key (format.ts).
   */
  find(image: Buffer, start: number, length: number): KeyText | null {
    const hash = this.hashOf(image, start, length);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let probes = 0; probes < MAX_PROBES; probes++, slot = (slot + 1) & mask) {
      const index = (this.slots[slot] as number) - 1;
      if (index < 0) return this.add(slot, hash, image, start, length);
      if (this.hashes[index] === hash && this.same(index, image, start, length)) {
        return this.texts[index] as KeyText | null;
      }
    }
    return this.overflow(image.toString('utf8', start, start + length));
  }

  /**
   * The key text of `text`, a key whose look-up passed {@link MAX_PROBES}. (A key that a
   * rehash moved past the bound may then get a second KeyText; merging goes by the key string,
   * so that changes nothing but sharing.)
   */
  private overflow(text: string): KeyText | null {
    this.overflowed ??= new Map();
    let found = this.overflowed.get(text);
    if (found === undefined) {
      found = keyTextOf(text) ?? null;
      this.overflowed.set(text, found);
    }
    return found;
  }

  /** True when key `index` holds the given bytes. */
  private same(index: number, image: Uint8Array, start: number, length: number): boolean {
    if (this.lengths[index] !== length) return false;
    const pool = this.pool;
    const at = (this.starts[index] as number) - start;
    for (let i = start; i < start + length; i++) if (pool[at + i] !== image[i]) return false;
    return true;
  }

  /** Adds the new key at `slot` (free), decoding its text once, and grows the table if due. */
  private add(
    slot: number,
    hash: number,
    image: Buffer,
    start: number,
    length: number,
  ): KeyText | null {
    const index = this.texts.length;
    const text = keyTextOf(image.toString('utf8', start, start + length)) ?? null;
    this.texts.push(text);
    if (index === this.hashes.length) {
      this.hashes = grown(this.hashes, index * 2);
      this.starts = grown(this.starts, index * 2);
      this.lengths = grown(this.lengths, index * 2);
    }
    if (this.used + length > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, this.used + length));
      pool.set(this.pool.subarray(0, this.used));
      this.pool = pool;
    }
    const pool = this.pool;
    const at = this.used - start;
    for (let i = start; i < start + length; i++) pool[at + i] = image[i] as number;
    this.hashes[index] = hash;
    this.starts[index] = this.used;
    this.lengths[index] = length;
    this.used += length;
    this.slots[slot] = index + 1;
    // At most half full: probe chains stay short.
    if ((index + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return text;
  }

  /** Re-places every key in a table of `size` slots (from the hashes kept per key). */
  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let index = 0; index < this.texts.length; index++) {
      let slot = (this.hashes[index] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}

/** A copy of `array` with room for `size` values. */
function grown(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const copy = new Int32Array(size);
  copy.set(array);
  return copy;
}

/** The key texts of one scrape, per metric name (see the module comment). */
export class KeyTexts {
  private readonly tables = new Map<string, KeyTable>();

  /** @param hashOf the hash of key bytes; tests pass a poor one to reach the probe bound. */
  constructor(private readonly hashOf: KeyHash = fnv1a) {}

  /** The key text of metric `name` held in `image` at `start` (`length` bytes); see KeyTable. */
  find(name: string, image: Buffer, start: number, length: number): KeyText | null {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new KeyTable(this.hashOf);
      this.tables.set(name, table);
    }
    return table.find(image, start, length);
  }

  /** True when no key has been looked up since this table was made. */
  get empty(): boolean {
    return this.tables.size === 0;
  }
}
