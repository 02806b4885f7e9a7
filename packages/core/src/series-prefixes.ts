/**
 * The line prefixes a renderer keeps per series between scrapes, in one byte arena.
 *
 * A series' lines start with the same bytes at every scrape: `<name>{<labels>,<defaults>} `
 * for a one-line sample, `<name>_bucket{<labels>,<defaults>,` for the lines that end with an
 * added `le` / `quantile` label. A renderer makes them once per series and copies them at
 * every later scrape. They used to be kept as JavaScript values per series (a record object,
 * the escaped label string, the line as a string or as a Buffer with its own object): young
 * objects made by ropes and encoder calls, all surviving, which the scavenges of a cold
 * scrape then copied and promoted (8 × 10,000 label sets: 16.5 MB allocated by the render,
 * 27-84 ms of GC inside it). Here a prefix is written byte by byte, escaped on the way, into
 * one growable arena outside the JavaScript heap, and an entry of an Int32Array table holds
 * where; the only JavaScript values per series are a small integer in its `renderCache`
 * slot (entry × {@link TAGS} + the renderer's tag; series without the slot, or whose slot
 * another renderer took first, are found in a WeakMap by their label values) and a
 * reference to its label values array, which tells whether an entry still belongs to it.
 * A series with a `plainKey` (a FileStore's merged series read from files) stands for its
 * label values by that object instead, and its labels are written from the key's text: a
 * cold scrape asks for no label values at all (the FileStore splits them lazily).
 *
 * An entry is valid for a series while it was made from the very same `labelValues` array
 * or plain key (stores never mutate either; see CollectedSeries) for the same
 * {@link PrefixShape} id: the
 * shape of a family's prefixes (sample name, label names, default labels, open or closed
 * end) gets one id per distinct text, so changed default labels or names make new entries.
 * Entries no series asks for pile up as series come and go; when they outnumber twice the
 * most entries a recent render asked for, the arena starts over (the next scrape makes every
 * prefix again, as a cold one does).
 */
import { escapeLabelValue } from './exposition/escape.js';
import { grownBuffer } from './grow-buffer.js';
import type { CollectedSeries, PlainSeriesKey } from './store.js';
import { encodeText as bytesOf, type TextBuffer, viewOf } from './text-buffer.js';

/** How the prefixes of one family's series are made (see {@link SeriesPrefixes.shape}). */
export interface PrefixShape {
  /** Distinct per distinct text of the fields below: entries made for another id are stale. */
  readonly id: number;
  /** `<name>{`, or the whole prefix (`<name> ` / `<name>{`) when there are no labels at all. */
  readonly head: Uint8Array;
  /** Per declared label: `name="` for the first, `,name="` for the others. */
  readonly labelHeads: readonly Uint8Array[];
  /** The default labels, after a comma when declared labels come first; may be empty. */
  readonly defaults: Uint8Array;
  /** `,` (open: a label follows), `} ` (closed: the value follows), or empty. */
  readonly tail: Uint8Array;
  /** True when all the pieces above are ASCII. */
  readonly ascii: boolean;
  /** Bytes of {@link head}: where the labels of a prefix start. */
  readonly labelsAt: number;
}

/**
 * What an entry was made from, which tells whether it still belongs to a series: the series'
 * plain key where it has one (store.ts), else its label values array.
 */
type LabelsOf = PlainSeriesKey | readonly string[];

/** Int32 fields per entry of the table: start in the arena, length, shape id, ASCII flag. */
const FIELDS = 4;
const FIRST_ENTRIES = 1024;
const FIRST_BYTES = 64 * 1024;
/** Most shape ids remembered by text (set up per family and scrape; more are made afresh). */
const MAX_SHAPES = 4096;
/** The arena starts over when it holds more entries than this and twice the live ones. */
const MIN_RESET_ENTRIES = 1024;
/** Entries per chunk of {@link SeriesPrefixes.values} (2 ** CHUNK_BITS). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/** Renderers told apart by the slot numbers they write (more share tags: still correct). */
const TAGS = 64;
let nextTag = 0;
/** Renders per window of {@link SeriesPrefixes.settle}. */
const WINDOW = 16;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LINE_FEED = 0x0a;
const LETTER_N = 0x6e;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** See the module comment. One per renderer. */
export class SeriesPrefixes {
  private bytes: Buffer = Buffer.allocUnsafeSlow(FIRST_BYTES);
  /** {@link bytes} as a DataView (TextBuffer#bytesOf copies through it). */
  private view = viewOf(this.bytes);
  private used = 0;
  private table = new Int32Array(FIRST_ENTRIES * FIELDS);
  /**
   * Per entry: the label values it was made from, in chunks of {@link CHUNK} (entry `i` at
   * `[i >> CHUNK_BITS][i & (CHUNK - 1)]`): one array grown by pushing copied itself over and
   * over, three times its final size of garbage within a cold scrape.
   */
  private values: (LabelsOf | undefined)[][] = [];
  private count = 0;
  /** Entries asked for since {@link settle} last ran. */
  private live = 0;
  /** The most entries a render asked for in this window of renders, and in the one before. */
  private peak = 0;
  private lastPeak = 0;
  private renders = 0;
  /** Prefix entries of series without a `renderCache` slot, by their label values. */
  private byValues = new WeakMap<LabelsOf, number>();
  private readonly shapes = new Map<string, number>();
  private nextShape = 1;
  /** Tells this renderer's `renderCache` slots (entry × {@link TAGS} + tag) from others'. */
  private readonly tag = nextTag++ % TAGS;

  /**
   * The shape of the prefixes `<sampleName>{<labels>,<defaults>` + (`open` ? `,` : `} `) of a
   * family with label names `names` and rendered default labels `defaults` (empty when none).
   */
  shape(
    sampleName: string,
    names: readonly string[],
    defaults: string,
    open: boolean,
  ): PrefixShape {
    const key = `${open ? 'o' : 'c'}\u0001${sampleName}\u0001${names.join('\u0001')}\u0001${defaults}`;
    let id = this.shapes.get(key);
    if (id === undefined) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      id = this.nextShape++;
      this.shapes.set(key, id);
    }
    const bare = names.length === 0 && defaults === '';
    const pieces = {
      head: bytesOf(bare ? (open ? `${sampleName}{` : `${sampleName} `) : `${sampleName}{`),
      labelHeads: names.map((name, i) => bytesOf(i === 0 ? `${name}="` : `,${name}="`)),
      defaults: bytesOf(names.length > 0 && defaults !== '' ? `,${defaults}` : defaults),
      tail: bytesOf(bare ? '' : open ? ',' : '} '),
    };
    const ascii = [pieces.head, pieces.defaults, ...pieces.labelHeads].every((p) => p.ascii);
    return {
      id,
      head: pieces.head.bytes,
      labelHeads: pieces.labelHeads.map((p) => p.bytes),
      defaults: pieces.defaults.bytes,
      tail: pieces.tail.bytes,
      ascii,
      labelsAt: pieces.head.bytes.length,
    };
  }

  /**
   * Makes room for the prefixes of `series` more series at once, before a render that may
   * make them all (a cold one): growing by doubling from 64 KB touched twice the memory the
   * prefixes need (fresh pages cost about 11 µs each on the benchmark VM).
   */
  expect(series: number): void {
    const entries = this.count + series;
    if (entries * FIELDS > this.table.length) this.table = grownTable(this.table, entries * FIELDS);
    // Bytes per prefix: as made so far, else a guess (3 labels of 8 characters and a name).
    const each = this.count > 0 ? Math.ceil(this.used / this.count) : 96;
    const bytes = this.used + series * each;
    if (bytes > this.bytes.length) {
      this.bytes = grownBuffer(this.bytes, this.used, bytes);
      this.view = viewOf(this.bytes);
    }
  }

  /**
   * The entry holding the prefix of `series` (without store labels) in `shape`: kept, or
   * made now.
   */
  entry(series: CollectedSeries, shape: PrefixShape): number {
    // A plain key stands for its series' label values (store.ts): asking for them would split
    // the key into strings that nothing else in a text scrape needs.
    const values: LabelsOf = series.plainKey ?? series.labelValues;
    // The slot is this renderer's unless another one (a second registry rendering the same
    // series) took it first: then this one finds its entries by label values, as for series
    // without the slot, instead of both making every prefix again at each of their renders.
    const slot = 'renderCache' in series ? series.renderCache : undefined;
    const own = slot === undefined ? 'renderCache' in series : ownSlot(slot, this.tag);
    const kept = own
      ? typeof slot === 'number'
        ? (slot - this.tag) / TAGS
        : undefined
      : this.byValues.get(values);
    this.live++;
    if (
      kept !== undefined &&
      this.values[kept >> CHUNK_BITS]?.[kept & (CHUNK - 1)] === values &&
      this.table[kept * FIELDS + 2] === shape.id
    ) {
      return kept;
    }
    const made = this.make(series, values, shape);
    if (own) series.renderCache = made * TAGS + this.tag;
    else this.byValues.set(values, made);
    return made;
  }

  /** Appends the prefix of entry `index` to `out`, without its first `skip` and last `drop` bytes. */
  copy(out: TextBuffer, index: number, skip = 0, drop = 0): void {
    const at = index * FIELDS;
    const table = this.table;
    out.bytesOf(
      this.bytes,
      this.view,
      (table[at] as number) + skip,
      (table[at + 1] as number) - skip - drop,
      table[at + 3] === 1,
    );
  }

  /** Bytes of the prefix of entry `index`. */
  length(index: number): number {
    return this.table[index * FIELDS + 1] as number;
  }

  /**
   * Appends the labels and defaults of entry `index` of `shape`, between braces (`{a="x"}`),
   * or nothing when it has none: the labels of a `_sum` or `_count` line.
   */
  copyBraced(out: TextBuffer, index: number, shape: PrefixShape): void {
    const inner = this.length(index) - shape.labelsAt - shape.tail.length;
    if (inner <= 0) return;
    out.byte(OPEN);
    this.copy(out, index, shape.labelsAt, shape.tail.length);
    out.byte(CLOSE);
  }

  /**
   * Ends a render: starts the arena over when most of its entries belong to series that no
   * recent render asked for (removed ones, or made for names and defaults no longer used).
   * Recent: the most any render asked for within the last {@link WINDOW} to 2 × WINDOW
   * renders, so that a render of one family (`getSingleMetricAsString`, a filtered scrape)
   * does not throw away the prefixes of all the others.
   */
  settle(): void {
    this.peak = Math.max(this.peak, this.live);
    const recent = Math.max(this.peak, this.lastPeak);
    if (this.count > MIN_RESET_ENTRIES && this.count > 2 * recent) {
      this.count = 0;
      this.used = 0;
      this.values = [];
      this.byValues = new WeakMap();
    }
    this.live = 0;
    if (++this.renders % WINDOW === 0) {
      this.lastPeak = this.peak;
      this.peak = 0;
    }
  }

  /**
   * Writes the prefix of `series` in `shape` into the arena as a new entry made for `values`
   * (its plain key or its label values; see {@link entry}).
   */
  private make(series: CollectedSeries, values: LabelsOf, shape: PrefixShape): number {
    const plain = series.plainKey;
    const labels = plain === undefined ? series.labelValues : undefined;
    const heads = shape.labelHeads;
    let most = shape.head.length + shape.defaults.length + shape.tail.length;
    // A UTF-16 unit takes at most 3 bytes of UTF-8, and an escaped character 2.
    for (let i = 0; i < heads.length; i++) {
      most += (heads[i] as Uint8Array).length + 1 + (labels ? 3 * (labels[i] ?? '').length : 0);
    }
    if (plain !== undefined) most += 3 * plain.key.length;
    if (this.used + most > this.bytes.length) {
      this.bytes = grownBuffer(this.bytes, this.used, this.used + most);
      this.view = viewOf(this.bytes);
    }
    const bytes = this.bytes;
    const start = this.used;
    let pos = put(bytes, start, shape.head);
    let ascii = shape.ascii;
    // Where the next value starts in a plain key (after `["`, then after each `","`).
    let next = 2;
    for (let i = 0; i < heads.length; i++) {
      pos = put(bytes, pos, heads[i] as Uint8Array);
      if (labels !== undefined) {
        const written = putEscaped(bytes, pos, labels[i] ?? '');
        ascii &&= written >= 0;
        pos += Math.abs(written);
      } else if (plain !== undefined && next < plain.key.length) {
        const key = plain.key;
        const written = putPlain(bytes, pos, key, next);
        pos += Math.abs(written);
        // ASCII: one byte per character, up to the closing quote.
        if (written >= 0) next += written + 3;
        else {
          ascii = false;
          next = key.indexOf('"', next) + 3;
        }
      }
      bytes[pos++] = QUOTE;
    }
    pos = put(bytes, pos, shape.defaults);
    pos = put(bytes, pos, shape.tail);
    this.used = pos;
    const index = this.count++;
    if ((index + 1) * FIELDS > this.table.length) this.table = grownTable(this.table, 0);
    const at = index * FIELDS;
    this.table[at] = start;
    this.table[at + 1] = pos - start;
    this.table[at + 2] = shape.id;
    this.table[at + 3] = ascii ? 1 : 0;
    const chunk = index >> CHUNK_BITS;
    if (chunk === this.values.length) this.values.push(new Array(CHUNK));
    (this.values[chunk] as (LabelsOf | undefined)[])[index & (CHUNK - 1)] = values;
    return index;
  }
}

/**
 * Writes `value` escaped (escape.ts `escapeLabelValue`) as UTF-8 into `bytes` at `pos`: the
 * bytes written, negated when they are not all ASCII.
 */
function putEscaped(bytes: Buffer, pos: number, value: string): number {
  const from = pos;
  for (let j = 0; j < value.length; j++) {
    const code = value.charCodeAt(j);
    if (code >= 0x80) {
      // Not ASCII: the whole value through Buffer's encoder (surrogates and all), as
      // encodeText would.
      return -bytes.write(escapeLabelValue(value), from, 'utf8');
    }
    // escapeLabelValue's three escapes, inline.
    if (code === BACKSLASH || code === QUOTE) {
      bytes[pos++] = BACKSLASH;
      bytes[pos++] = code;
    } else if (code === LINE_FEED) {
      bytes[pos++] = BACKSLASH;
      bytes[pos++] = LETTER_N;
    } else {
      bytes[pos++] = code;
    }
  }
  return pos - from;
}

/**
 * Writes the value of the plain key `key` that starts at `at` (up to its closing quote) as
 * UTF-8 into `bytes` at `pos`, unchanged: a plain value holds nothing that escaping changes
 * (store.ts `PlainSeriesKey`). The bytes written, negated when they are not all ASCII.
 */
function putPlain(bytes: Buffer, pos: number, key: string, at: number): number {
  const from = pos;
  for (let j = at; j < key.length; j++) {
    const code = key.charCodeAt(j);
    if (code === QUOTE) return pos - from;
    if (code >= 0x80) {
      const end = key.indexOf('"', j);
      return -bytes.write(key.slice(at, end), from, 'utf8');
    }
    bytes[pos++] = code;
  }
  return pos - from;
}

/** Writes `piece` into `bytes` at `pos`; returns the position after it. */
function put(bytes: Uint8Array, pos: number, piece: Uint8Array): number {
  for (let i = 0; i < piece.length; i++) bytes[pos++] = piece[i] as number;
  return pos;
}

/** A copy of `table` with room for at least `size` values (and at least twice as many). */
function grownTable(table: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(Math.max(table.length * 2, size));
  grown.set(table);
  return grown;
}

/** True when `slot` (a series' `renderCache`) holds an entry of the renderer tagged `tag`. */
function ownSlot(slot: unknown, tag: number): boolean {
  return typeof slot === 'number' && slot % TAGS === tag;
}
