/**
 * Reading other processes' files at scrape time.
 *
 * Each file is read once per scrape: its header first, then exactly the `used` bytes the header
 * announced (the writer publishes `used` only after the entries it covers are written, so
 * everything read is complete), within the limits of FORMAT.md and in chunks that stop at the
 * first bad entry (bounded-read.ts), so a file costs no more than it really holds. Entries never
 * change once written except their slots and flags byte, so the parsed part of each entry
 * (descriptor JSON, the key text of a series) is cached per file in an {@link EntryTable}, by
 * the entry's place in the file, and reused on later scrapes; a file replaced under the same
 * name (other inode or token) starts a new cache.
 *
 * A read racing a write of the same bytes is not atomic, so in files that carry series checks
 * every series shown is verified first (series-check.ts): one read while its writer was
 * writing it is re-read, and never shown torn. Exemplar entries (exemplar-entry.ts) carry a
 * check of their own; one that fails it, or that no writer makes, is left out of the scrape and
 * counted (never the file), and its series is shown without exemplars.
 *
 * Anything wrong with a file (0 bytes, header only with a bad size, truncated mid-entry, random
 * bytes, wrong magic, newer version, vanished between listing and opening) yields a
 * {@link FormatProblem}: the caller skips the file, reports and counts it; nothing throws.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { seriesSize } from '../store.js';
import type { Exemplar, MetricDescriptor } from '../types.js';
import {
  entryHeadProblem,
  fileSizeProblem,
  READ_CHUNK_BYTES,
  type ReadImage,
  readImage,
} from './bounded-read.js';
import {
  decodeExemplarRecords,
  EXEMPLARS_CHECK_OFFSET,
  EXEMPLARS_HEAD,
  type ExemplarsHead,
  exemplarSlotCount,
  exemplarsCheck,
  exemplarsHeadProblem,
  readExemplarsHead,
} from './exemplar-entry.js';
import { READ_FLAGS, readAll } from './file-io.js';
import {
  ABSORBED_SIZE,
  DESCRIPTOR_HEAD,
  decodeDescriptorEntry,
  ENTRY_FLAG_REMOVED,
  ENTRY_FLAGS_OFFSET,
  ENTRY_HEAD,
  FILE_FLAG_SERIES_CHECKS,
  FIRST_SKIPPABLE_KIND,
  type FileHeader,
  type FileIdentity,
  FormatProblem,
  HEADER_SIZE,
  KIND_ABSORBED,
  KIND_DESCRIPTOR,
  KIND_EXEMPLARS,
  KIND_SERIES,
  readHeader,
  SERIES_HEAD,
  seriesEntrySize,
  TOKEN_SIZE,
} from './format.js';
import { type KeyText, KeyTexts } from './key-texts.js';
import type { SourceSeries } from './merge.js';
import {
  type PreviousValues,
  SeriesVerifier,
  type TornCounts,
  WaitBudget,
} from './series-check.js';

/** A parsed descriptor entry (cached). */
interface DescriptorEntry {
  readonly kind: typeof KIND_DESCRIPTOR;
  /** Byte offset of the entry in its file. */
  readonly offset: number;
  readonly length: number;
  readonly descriptor: MetricDescriptor;
  /** When the definition was born, where the entry says (archives); see definitions.ts. */
  readonly bornMs: number | undefined;
  /** Slots of each of its series (`seriesSize`), or why it has no layout; once per entry. */
  readonly slots: number | string;
  /** Series the last parse showed for it: the room the next one makes for their starts. */
  shown: number;
}

/** A parsed absorbed-process record (archives only; cached). */
interface AbsorbedEntry {
  readonly kind: typeof KIND_ABSORBED;
  readonly offset: number;
  readonly length: number;
  readonly identity: FileIdentity;
}

/** A parsed exemplar entry (cached; its records are read again at every scrape). */
interface ExemplarsEntry {
  readonly kind: typeof KIND_EXEMPLARS;
  readonly offset: number;
  readonly length: number;
  readonly head: ExemplarsHead;
  /** Why the head is not one a writer makes (the entry is then skipped, not the file). */
  readonly problem: string | undefined;
  /** The records as last decoded, with the check they had: reused while it is unchanged. */
  decoded?: { readonly check: number; readonly latest: readonly (Exemplar | undefined)[] };
}

/**
 * What the parse of one entry keeps beside its place in the file: the key text of a series
 * entry, the parsed form of the other kinds; undefined for an entry of a kind this reader does
 * not know but may skip (see FIRST_SKIPPABLE_KIND).
 */
type EntryItem = KeyText | DescriptorEntry | AbsorbedEntry | ExemplarsEntry | undefined;

/**
 * Entries a table makes room for at first: the heads read checked, and for the rest of the
 * image (its last chunk) as many as entries of 64 bytes would fill.
 */
function capacityFor(image: ReadImage, used: number): number {
  return Math.max(16, image.heads + ((used - image.checkedTo) >>> 6));
}

/**
 * The parsed entries of one file in file order (cached between scrapes; entries never move or
 * change once written), as parallel arrays: no object per series entry. A cold scrape of 8
 * files of 20,000 series entries kept 160,000 entry objects (88 bytes each, 14 MB that every
 * young-generation collection of that scrape copied and the old generation then kept, on a
 * machine where each fresh page costs its first touch); here a series entry is 13 bytes of
 * typed arrays (outside the JS heap, never walked by the collector) and a pointer to its key
 * text, which the entries of all files with the same key bytes share (key-texts.ts). Where a
 * series' slots start follows from its end and its descriptor's slot count.
 */
export class EntryTable {
  /** Entries held. */
  count = 0;
  /** Per entry: byte offset, length and kind byte (the cache's identity of an entry). */
  private offsets: Uint32Array;
  private lengths: Uint32Array;
  private kinds: Uint8Array;
  /**
   * Per series entry: the index of its descriptor entry among the file's descriptor entries
   * (stable while the entries before it are, which every later parse that reuses it walks).
   */
  private owners: Uint32Array;
  /**
   * Per entry: see {@link EntryItem}. Made at the table's capacity and written by index:
   * pushed one by one, a cold scrape of 8 files of 20,000 entries regrew it by copies, 4.3 MB
   * of allocations (heap sampling) for 1.3 MB kept.
   */
  private readonly items: EntryItem[];

  constructor(capacity = 16) {
    this.items = new Array<EntryItem>(capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.owners = new Uint32Array(capacity);
  }

  /** True when entry `k` (held) sits at `offset` with this length and kind byte. */
  same(k: number, offset: number, length: number, kind: number): boolean {
    return this.offsets[k] === offset && this.lengths[k] === length && this.kinds[k] === kind;
  }

  /**
   * Stores a newly parsed entry at index `k`, dropping the entries from `k` on (stale: the
   * file was written differently there). `owner` is a series entry's descriptor index.
   */
  put(
    k: number,
    offset: number,
    length: number,
    kind: number,
    item: EntryItem,
    owner: number,
  ): void {
    if (k === this.offsets.length) this.grow(k * 2);
    // Entries past k are stale: their items are let go.
    if (k + 1 < this.count) this.items.fill(undefined, k + 1, this.count);
    this.count = k + 1;
    this.items[k] = item;
    this.offsets[k] = offset;
    this.lengths[k] = length;
    this.kinds[k] = kind;
    this.owners[k] = owner;
  }

  /** What the parse of entry `k` kept (see {@link EntryItem}). */
  item(k: number): EntryItem {
    return this.items[k];
  }

  /** The descriptor index of series entry `k` (see {@link owners}). */
  owner(k: number): number {
    return this.owners[k] as number;
  }

  /** The length in bytes of entry `k`. */
  length(k: number): number {
    return this.lengths[k] as number;
  }

  /**
   * The index of the series entry at byte `offset` among the first `count` entries (all
   * walked by the current parse), or -1. A binary search: keeping a map of every series
   * entry's offset for the exemplar entries cost a map entry per series per scrape.
   */
  seriesAt(offset: number, count: number): number {
    let low = 0;
    let high = count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = this.offsets[middle] as number;
      if (at === offset) return this.kinds[middle] === KIND_SERIES ? middle : -1;
      if (at < offset) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  private grow(capacity: number): void {
    this.offsets = grownTo(this.offsets, capacity, Uint32Array);
    this.lengths = grownTo(this.lengths, capacity, Uint32Array);
    this.kinds = grownTo(this.kinds, capacity, Uint8Array);
    this.owners = grownTo(this.owners, capacity, Uint32Array);
  }
}

/** The starts of a family with no series yet. */
const NO_STARTS = new Uint32Array(0);

/** A copy of `array` with room for `capacity` values. */
function grownTo<T extends Uint32Array | Int32Array | Uint8Array>(
  array: T,
  capacity: number,
  make: new (capacity: number) => T,
): T {
  const copy = new make(capacity);
  copy.set(array);
  return copy;
}

/** Exemplar entries of one file read that were left out, by reason (none shown for them). */
export interface DroppedExemplars {
  /** Records read while their writer was writing them (check mismatch): left out this scrape. */
  torn: number;
  /** Entries no writer makes (a bad head, series or record): left out while they stay so. */
  invalid: number;
}

/**
 * One series of a parsed file: the key text of its entry, shared by the entries of every file
 * with the same key bytes in the scrape that parsed it (its slots: `family.starts`).
 */
export type FileSeries = SourceSeries;

/** One metric of a parsed file with its live (not removed) series. */
export interface FileFamily {
  readonly descriptor: MetricDescriptor;
  /** Birth of the definition as its descriptor entry records it (archives); see definitions.ts. */
  readonly bornMs: number | undefined;
  /** The file image of this scrape as float64 words; series slots are windows of it. */
  readonly data: Float64Array;
  readonly series: FileSeries[];
  /** Per series: the index of its first slot in {@link data} (set once the parse is done). */
  starts: Uint32Array;
  /** The latest exemplars of its series that have an exemplar entry, by index in {@link series}. */
  exemplars?: Map<number, readonly (Exemplar | undefined)[]>;
}

/** The content of one store file as of this scrape. */
export interface ParsedFile {
  readonly name: string;
  readonly header: FileHeader;
  /** Metrics in the order their descriptors appear; removed descriptors are left out. */
  readonly families: FileFamily[];
  /** Process files an archive has absorbed (empty for process files). */
  readonly absorbed: FileIdentity[];
  /** Series whose first read failed its check, by outcome (files with series checks). */
  readonly torn?: TornCounts;
  /** Exemplar entries left out of this read; absent when none was. */
  readonly droppedExemplars?: DroppedExemplars;
}

/** Options of {@link StoreFileReader}. */
export interface StoreFileReaderOptions {
  /**
   * The files read are no longer written (compaction reads dead processes' files): a series
   * that fails its check is taken as read after one re-read instead of being left out.
   * @default false
   */
  readonly filesAreFinal?: boolean;
}

interface FileCache {
  readonly dev: number;
  readonly ino: number;
  readonly token: string;
  /** The header's rewrite count: a rewrite may reuse an inode number and keeps the token. */
  readonly generation: number;
  /** Parsed entries in file order (entries never move or change once written). */
  readonly entries: EntryTable;
  /** Values shown by the last read, for series that stay torn (series-check.ts). */
  previous?: PreviousValues;
}

/** Reads and parses store files, caching parsed entries between scrapes. */
export class StoreFileReader {
  private readonly caches = new Map<string, FileCache>();
  /**
   * The last two images read of each file. A read goes into the older one: the newer may
   * still be in use (the previous values of series checks, the files of a scrape that read
   * this one twice), the older is not, since a scrape's values are merged (copied) before the
   * next one reads (merge.ts). Saves allocating and faulting in a whole file per scrape.
   */
  private readonly images = new Map<string, [Uint8Array, Uint8Array | undefined]>();
  private readonly filesAreFinal: boolean;
  /**
   * Where an image that needs new memory is read before it is copied there, one chunk at a
   * time (bounded-read.ts; made at the first such read, then kept). New memory that a read()
   * fills is touched first by the kernel, and here (a virtual machine that keeps the kernel's
   * and the process's page mappings apart) each side's first touch of a page is a fault of
   * its own; copied from a buffer already in use, it is faulted in once, by the copy. Reading
   * the 8 files of a cold 8 x 10,000 scrape (18 MB) and walking their entry heads took 73-115
   * ms read directly into new images and 51-91 ms read through one 1 MiB buffer (9 runs each,
   * under load): the walk fell from 23-41 ms to 2-3. Images reused from earlier reads are read
   * directly (their pages are in place on both sides). The buffer costs 1 MiB per reader; on
   * a machine whose kernel fills the process's own mappings (no second fault), the copy (from
   * a buffer in cache: 0.6 ms per 18 MB here) saves nothing, and only the first two reads of
   * a file pay it.
   */
  private stage: Uint8Array | undefined;
  /** Key texts of the series parsed since the last {@link retain} (see KeyText). */
  private keys = new KeyTexts();
  /** Time this reader may wait for torn series to be rewritten (series-check.ts). */
  private readonly waits = new WaitBudget();

  constructor(options: StoreFileReaderOptions = {}) {
    this.filesAreFinal = options.filesAreFinal ?? false;
  }

  /** {@link stage}, made when first needed. */
  private readonly staging = (): Uint8Array => {
    this.stage ??= new Uint8Array(READ_CHUNK_BYTES);
    return this.stage;
  };

  /** Reads `name` in `dir`: a ParsedFile, or the problem that makes it unreadable. */
  read(dir: string, name: string): ParsedFile | FormatProblem {
    const fd = openStoreFile(dir, name);
    if (fd instanceof FormatProblem) return fd;
    try {
      const head = new Uint8Array(HEADER_SIZE);
      const headRead = readAll(fd, head, 0);
      // Order matters: the size is taken AFTER the header is read. A writer extends its file
      // (ftruncate) before it publishes a larger `used` (process-file.ts), and files never
      // shrink, so a size read after the header is at least the `used` it holds. Taken before,
      // the size could predate a growing flush whose `used` the header then shows: a healthy
      // live file was called truncated and left out of the scrape (its counters dropped).
      const stat = fstatSync(fd);
      if (!stat.isFile()) return new FormatProblem('corrupt', 'not a regular file');
      const header = readHeader(head.subarray(0, headRead));
      if (header instanceof FormatProblem) return header;
      // A damaged or planted `used` (up to 4 GiB) must not become an allocation of that size.
      const tooLarge = fileSizeProblem(header.used);
      if (tooLarge !== undefined) return tooLarge;
      if (header.used > stat.size) {
        return new FormatProblem(
          'truncated',
          `header says ${header.used} bytes are used but the file has only ${stat.size}`,
        );
      }
      // Read exactly what the header covers (everything in it is complete), in chunks that stop
      // at the first bad entry head (bounded-read.ts).
      const images = this.images.get(name);
      const read = readImage(fd, header.used, header.headerSize, images?.[1], this.staging);
      if (read instanceof FormatProblem) return read;
      const bytes = read.bytes;
      this.images.set(name, [bytes, images?.[0]]);
      let cache = this.caches.get(name);
      if (
        cache === undefined ||
        cache.dev !== stat.dev ||
        cache.ino !== stat.ino ||
        cache.token !== header.token ||
        cache.generation !== header.generation
      ) {
        cache = {
          dev: stat.dev,
          ino: stat.ino,
          token: header.token,
          generation: header.generation,
          entries: new EntryTable(capacityFor(read, header.used)),
        };
        this.caches.set(name, cache);
      }
      // Files written before series checks existed carry none: their series are taken as read.
      const verifier =
        (header.flags & FILE_FLAG_SERIES_CHECKS) === 0
          ? undefined
          : new SeriesVerifier(fd, bytes, cache.previous, this.filesAreFinal, this.waits);
      const parsed = parseEntries(
        name,
        header,
        bytes,
        cache.entries,
        verifier === undefined
          ? undefined
          : (offset, length, start, slotCount) => verifier.verify(offset, length, start, slotCount),
        this.keys,
        read.checkedTo,
      );
      if (parsed instanceof FormatProblem) {
        this.caches.delete(name);
        return parsed;
      }
      if (verifier === undefined) return parsed;
      cache.previous = verifier.keep();
      return { ...parsed, torn: verifier.torn };
    } catch (error) {
      // The new image may be stored already while the cache's previous values still point into
      // the image the next read will overwrite: start this file over rather than let a torn
      // series fall back on bytes rewritten under it.
      this.caches.delete(name);
      return unreadable(error);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Drops the caches of files not in `names` (they were removed from the directory). Called
   * once per scrape, after its reads: the key texts shared by the entries parsed so far are
   * dropped too (the entries keep theirs), so that the table holds no key of a series gone.
   */
  retain(names: ReadonlySet<string>): void {
    if (!this.keys.empty) this.keys = new KeyTexts();
    for (const name of this.caches.keys()) {
      if (!names.has(name)) this.caches.delete(name);
    }
    for (const name of this.images.keys()) {
      if (!names.has(name)) this.images.delete(name);
    }
  }
}

/** Opens a store file for reading (never through a symbolic link), or says why it cannot. */
function openStoreFile(dir: string, name: string): number | FormatProblem {
  try {
    return openSync(join(dir, name), READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new FormatProblem('vanished', 'file vanished before it was read');
    if (code === 'ELOOP') return new FormatProblem('corrupt', 'file is a symbolic link; refused');
    return new FormatProblem('corrupt', `file cannot be opened (${code ?? String(error)})`);
  }
}

/**
 * Reads only the header of `name` in `dir` (64 bytes): enough to tell whose file it is and
 * whether that process is alive, without parsing its entries.
 */
export function readFileHeader(dir: string, name: string): FileHeader | FormatProblem {
  const fd = openStoreFile(dir, name);
  if (fd instanceof FormatProblem) return fd;
  try {
    if (!fstatSync(fd).isFile()) return new FormatProblem('corrupt', 'not a regular file');
    const head = new Uint8Array(HEADER_SIZE);
    return readHeader(head.subarray(0, readAll(fd, head, 0)));
  } catch (error) {
    return unreadable(error);
  } finally {
    closeSync(fd);
  }
}

/** The problem of a file whose read failed with `error` (EIO, ESPIPE on a FIFO, ...). */
function unreadable(error: unknown): FormatProblem {
  const code = (error as NodeJS.ErrnoException).code;
  return new FormatProblem('corrupt', `file cannot be read (${code ?? String(error)})`);
}

/**
 * Per descriptor entry met by one parse: the family its series are shown in (null: removed),
 * the slots of each of its series, and where the series shown so far start. Starts go to a
 * typed array sized from the last parse (a warm scrape allocates it once, outside the JS
 * heap; pushing them to an array cost a warm scrape of 100,000 series about 8%).
 */
interface Owner {
  readonly entry: DescriptorEntry;
  readonly family: FileFamily | null;
  readonly slots: number;
  starts: Uint32Array;
  shown: number;
}

/**
 * Checks a live series entry (offset, length, first slot, slot count) before it is shown;
 * false leaves it out (series-check.ts).
 */
export type VerifySeries = (
  offset: number,
  length: number,
  start: number,
  slotCount: number,
) => boolean;

/**
 * Walks the entries of a file image (`bytes` holds exactly `header.used` bytes), reusing and
 * filling `cache`; `verify` (when given) decides whether a live series is shown. The heads of
 * the entries before `checkedTo` passed entryHeadProblem already (readImage). Exported for
 * the format tests, which feed it damaged images directly.
 */
export function parseEntries(
  name: string,
  header: FileHeader,
  bytes: Uint8Array,
  cache: EntryTable = new EntryTable(),
  verify?: VerifySeries,
  keys: KeyTexts = new KeyTexts(),
  checkedTo = 0,
): ParsedFile | FormatProblem {
  if (bytes.length < header.used) {
    return new FormatProblem(
      'truncated',
      `header says ${header.used} bytes are used but the file has only ${bytes.length}`,
    );
  }
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice(); // Float64Array needs 8-byte alignment.
  const view = new DataView(bytes.buffer, bytes.byteOffset, header.used);
  const words = new Float64Array(bytes.buffer, bytes.byteOffset, header.used / 8);
  const image = Buffer.from(bytes.buffer, bytes.byteOffset, header.used);
  const families: FileFamily[] = [];
  const absorbed: FileIdentity[] = [];
  /**
   * The descriptor entries met so far in file order, as their series see them: the entry
   * table names a series' descriptor by its index here (no map look-up per series).
   */
  const owners: Owner[] = [];
  /** Their indices by offset, for series entries parsed now (which name it by offset). */
  const ordinals = new Map<number, number>();
  let dropped: DroppedExemplars | undefined;
  let offset = header.headerSize;
  // The cache holds the entries of an earlier read of this file in order: the k-th entry is
  // reused when it sits at the same offset with the same length and kind.
  for (let k = 0; offset < header.used; k++) {
    if (offset >= checkedTo) {
      const headProblem = entryHeadProblem(view, offset, header.used);
      if (headProblem !== undefined) return corrupt(offset, headProblem);
    }
    const length = view.getUint32(offset, true);
    const kind = bytes[offset + 4] as number;
    if (k >= cache.count || !cache.same(k, offset, length, kind)) {
      const problem = parseEntry(
        cache,
        k,
        view,
        bytes,
        image,
        offset,
        length,
        kind,
        owners,
        ordinals,
        keys,
      );
      if (problem !== undefined) return corrupt(offset, problem);
    }
    const removed = ((bytes[offset + ENTRY_FLAGS_OFFSET] ?? 0) & ENTRY_FLAG_REMOVED) !== 0;
    if (kind === KIND_SERIES) {
      const owner = owners[cache.owner(k)];
      if (owner === undefined) return corrupt(offset, 'series refers to no descriptor');
      const family = owner.family;
      // The slots end the entry (FORMAT.md).
      const start = (offset + length) / 8 - owner.slots;
      if (
        family !== null &&
        !removed &&
        (verify === undefined || verify(offset, length, start, owner.slots))
      ) {
        family.series.push(cache.item(k) as KeyText);
        if (owner.shown === owner.starts.length) {
          owner.starts = grownTo(owner.starts, owner.shown * 2, Uint32Array);
        }
        owner.starts[owner.shown++] = start;
      }
    } else if (kind === KIND_DESCRIPTOR) {
      const entry = cache.item(k) as DescriptorEntry;
      ordinals.set(offset, owners.length);
      const slots = typeof entry.slots === 'number' ? entry.slots : 0;
      if (removed) {
        owners.push({ entry, family: null, slots, starts: NO_STARTS, shown: 0 });
      } else {
        const family: FileFamily = {
          descriptor: entry.descriptor,
          bornMs: entry.bornMs,
          data: words,
          series: [],
          starts: NO_STARTS,
        };
        const starts = new Uint32Array(Math.max(16, entry.shown));
        owners.push({ entry, family, slots, starts, shown: 0 });
        families.push(family);
      }
    } else if (kind === KIND_EXEMPLARS) {
      if (!removed) {
        const entry = cache.item(k) as ExemplarsEntry;
        const outcome = readExemplars(entry, bytes, view, cache, k, owners);
        if (outcome !== undefined && outcome !== 'hidden') {
          dropped ??= { torn: 0, invalid: 0 };
          dropped[outcome]++;
        }
      }
    } else if (kind === KIND_ABSORBED) {
      absorbed.push((cache.item(k) as AbsorbedEntry).identity);
    }
    offset += length;
  }
  for (const owner of owners) {
    owner.entry.shown = owner.shown;
    if (owner.family !== null) owner.family.starts = owner.starts.subarray(0, owner.shown);
  }
  return dropped === undefined
    ? { name, header, families, absorbed }
    : { name, header, families, absorbed, droppedExemplars: dropped };
}

/**
 * Attaches the exemplars of the exemplar entry `entry` (entry `k` of `cache`) to the family of
 * the series entry it names (an earlier one, walked by this parse; `owners` are the parse's
 * descriptors). Returns why they were left out: `hidden` (its series is not shown: removed,
 * or torn this scrape), `torn` (the records fail their check: read while written), `invalid`
 * (nothing a writer makes); undefined when attached. Never a reason to skip the file.
 */
function readExemplars(
  entry: ExemplarsEntry,
  bytes: Uint8Array,
  view: DataView,
  cache: EntryTable,
  k: number,
  owners: readonly Owner[],
): 'hidden' | 'torn' | 'invalid' | undefined {
  if (entry.problem !== undefined) return 'invalid';
  const { head, offset } = entry;
  const series = cache.seriesAt(head.seriesOffset, k);
  if (series < 0) return 'invalid';
  const owner = owners[cache.owner(series)];
  const family = owner?.family;
  if (owner === undefined || family === null || family === undefined) return 'hidden';
  // Its place among the family's series, whose slots start in file order; absent when the
  // parse left it out (removed, or torn).
  const at = indexOf(
    owner.starts,
    owner.shown,
    (head.seriesOffset + cache.length(series)) / 8 - owner.slots,
  );
  if (at < 0) return 'hidden';
  if (head.count !== exemplarSlotCount(family.descriptor)) return 'invalid';
  const check = exemplarsCheck(bytes, offset, entry.length - EXEMPLARS_HEAD);
  if (check !== view.getUint32(offset + EXEMPLARS_CHECK_OFFSET, true)) return 'torn';
  let latest = entry.decoded?.check === check ? entry.decoded.latest : undefined;
  if (latest === undefined) {
    latest = decodeExemplarRecords(bytes, offset, head, family.descriptor.name);
    if (latest === undefined) return 'invalid';
    entry.decoded = { check, latest };
  }
  family.exemplars ??= new Map();
  family.exemplars.set(at, latest);
  return undefined;
}

/** The index of `value` among the first `count` values of `sorted` (ascending), or -1. */
function indexOf(sorted: Uint32Array, count: number, value: number): number {
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle] as number;
    if (at === value) return middle;
    if (at < value) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

function corrupt(offset: number, why: string): FormatProblem {
  return new FormatProblem('corrupt', `entry at byte ${offset}: ${why}`);
}

/**
 * Parses one entry into entry `k` of `cache`; returns a reason string when it is malformed
 * (the cache is then left as it was).
 */
function parseEntry(
  cache: EntryTable,
  k: number,
  view: DataView,
  bytes: Uint8Array,
  image: Buffer,
  offset: number,
  length: number,
  kind: number,
  owners: readonly Owner[],
  ordinals: ReadonlyMap<number, number>,
  keys: KeyTexts,
): string | undefined {
  switch (kind) {
    case KIND_DESCRIPTOR: {
      if (length < DESCRIPTOR_HEAD) return 'descriptor entry too short';
      const jsonLength = view.getUint32(offset + ENTRY_HEAD, true);
      if (DESCRIPTOR_HEAD + jsonLength > length) return 'descriptor text overruns its entry';
      const start = offset + DESCRIPTOR_HEAD;
      const json = image.toString('utf8', start, start + jsonLength);
      const payload = decodeDescriptorEntry(json);
      if (payload === undefined) return 'descriptor is not a valid metric description';
      let slots: number | string;
      try {
        slots = seriesSize(payload.descriptor);
      } catch {
        slots = `cannot lay out metric "${payload.descriptor.name}"`;
      }
      const entry: DescriptorEntry = {
        kind: KIND_DESCRIPTOR,
        offset,
        length,
        ...payload,
        slots,
        shown: 0,
      };
      cache.put(k, offset, length, kind, entry, 0);
      return undefined;
    }
    case KIND_SERIES: {
      if (length < SERIES_HEAD) return 'series entry too short';
      const descriptorOffset = view.getUint32(offset + 8, true);
      const slotCount = view.getUint32(offset + 12, true);
      const keyLength = view.getUint32(offset + 16, true);
      if (seriesEntrySize(keyLength, slotCount) !== length) return 'series entry size mismatch';
      const ordinal = descriptorOffset < offset ? ordinals.get(descriptorOffset) : undefined;
      const owner = ordinal === undefined ? undefined : owners[ordinal]?.entry;
      if (ordinal === undefined || owner === undefined) {
        return 'series refers to no earlier descriptor';
      }
      const expected = owner.slots;
      if (typeof expected === 'string') return expected;
      if (expected !== slotCount) return `series has ${slotCount} slots, expected ${expected}`;
      const start = offset + SERIES_HEAD;
      // Found by its bytes: a key's text is decoded once per scrape, not once per file.
      const text = keys.find(owner.descriptor.name, image, start, keyLength);
      if (text === null) return 'series label values do not match the label names';
      if (text.count !== owner.descriptor.labelNames.length) {
        return 'series label values do not match the label names';
      }
      cache.put(k, offset, length, kind, text, ordinal);
      return undefined;
    }
    case KIND_ABSORBED: {
      if (length !== ABSORBED_SIZE) return 'absorbed entry has the wrong size';
      const pid = view.getFloat64(offset + ENTRY_HEAD, true);
      const startTime = view.getFloat64(offset + ENTRY_HEAD + 8, true);
      const token = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + offset + ENTRY_HEAD + 16,
        TOKEN_SIZE,
      ).toString('hex');
      const entry: AbsorbedEntry = {
        kind: KIND_ABSORBED,
        offset,
        length,
        identity: { pid, startTime, token },
      };
      cache.put(k, offset, length, kind, entry, 0);
      return undefined;
    }
    case KIND_EXEMPLARS: {
      // entryHeadProblem bounds the length; anything wrong inside skips this entry only.
      const head = readExemplarsHead(view, offset);
      const entry: ExemplarsEntry = {
        kind: KIND_EXEMPLARS,
        offset,
        length,
        head,
        problem: exemplarsHeadProblem(head, length),
      };
      cache.put(k, offset, length, kind, entry, 0);
      return undefined;
    }
    default:
      // A later version's optional entry: its length is bounded like any other's, so it is
      // stepped over whole.
      if (kind >= FIRST_SKIPPABLE_KIND) {
        cache.put(k, offset, length, kind, undefined, 0);
        return undefined;
      }
      return `unknown entry kind ${kind}`;
  }
}
