/**
 * The binary layout of a promfork store file (FORMAT.md beside package.json is the prose version;
 * keep the two in step). Pure functions over bytes: no I/O happens here.
 *
 * A file is a 64-byte header followed by entries. All integers are little-endian; every entry
 * starts and ends on an 8-byte boundary so the float64 slots inside it are aligned and can be
 * viewed through a Float64Array over the whole file image.
 *
 * Crash and concurrency contract: a writer appends an entry, writes it to the file, and only
 * then writes the header's `used` field to cover it. A reader reads `used` first and parses
 * nothing beyond it, so it never sees half an entry. After an entry is written, only its slots
 * and its flags byte ever change.
 */

import { assertBuckets } from '../buckets.js';
import { decodeNativeSettings, sameNativeSettings } from '../native-histogram.js';
import { sketchWindowCount } from '../sketch.js';
import type { GaugeMode, MetricDescriptor, MetricType, SummarySettings } from '../types.js';
import { GAUGE_MODES } from '../types.js';
import {
  assertLabelNames,
  assertMetricName,
  isUnicodeText,
  MAX_PERCENTILES,
} from '../validation.js';

/** The 8 bytes every store file starts with: ASCII `PROMFORK`. */
export const MAGIC: Uint8Array = Buffer.from('PROMFORK', 'latin1');
/** The format version this code writes. Files with a higher version are skipped, not guessed at. */
export const FORMAT_VERSION = 1;
/**
 * Size in bytes of the header this code writes (recorded in the header itself, offset 20).
 * The first 64 bytes are the original header; bytes 64-127 carry the writer's thread, pid
 * namespace and lease. Readers start entries at the recorded size, so a reader that knows only
 * the first 64 bytes reads these files unchanged: the extension needs no version bump.
 */
export const HEADER_SIZE = 128;
/** Smallest valid header: the original 64 bytes (files written before the extension). */
export const MIN_HEADER_SIZE = 64;

/** Byte offsets of the header fields. */
export const H_MAGIC = 0;
export const H_VERSION = 8;
export const H_FLAGS = 12;
/** uint32: bytes of the file covered by the header and complete entries. */
export const H_USED = 16;
export const H_HEADER_SIZE = 20;
/** float64: process id of the writer. */
export const H_PID = 24;
/** float64: start time of the writer in clock ticks since boot (0 when unknown). */
export const H_START_TIME = 32;
/** 16 random bytes chosen by the writer when it created the file. */
export const H_TOKEN = 40;
export const TOKEN_SIZE = 16;
/** float64: milliseconds since the epoch when the file was created. */
export const H_CREATED_MS = 56;
/** float64: Node `threadId` of the writer; 0 for a main thread (a process writer). */
export const H_THREAD_ID = 64;
/** float64: OS thread id (tid) of a worker-thread writer; 0 for a main thread or unknown. */
export const H_TID = 72;
/** float64: start time of that OS thread in clock ticks since boot; 0 when unknown. */
export const H_TID_START_TIME = 80;
/** float64: lease, ms since the epoch; the writer renews it every {@link LEASE_RENEW_MS}. */
export const H_LEASE_MS = 88;
/** float64: inode of the writer's pid namespace (`/proc/self/ns/pid`); 0 when unknown. */
export const H_PID_NAMESPACE = 96;
/** 16 bytes: the boot id of the writer's kernel (`/proc/sys/kernel/random/boot_id`); 0s if unknown. */
export const H_BOOT_ID = 104;
export const BOOT_ID_SIZE = 16;
/**
 * uint32: how many times the writer has put a new file in place under its name (a rewrite,
 * process-file.ts). Readers key their parsed entries on it with the inode and token: a rewrite
 * keeps the token, and a filesystem may give the new file an inode number an earlier file of
 * the same name had (ext4 reuses the one freed by the rewrite before).
 */
export const H_GENERATION = 120;

/** How often a writer renews the lease in its header (one 8-byte positioned write). */
export const LEASE_RENEW_MS = 10_000;

/** Header flag: the file is an archive of dead processes, not one live process's file. */
export const FILE_FLAG_ARCHIVE = 1;
/**
 * Header flag: every series entry carries a check of its slots at {@link SERIES_CHECK_OFFSET}
 * (series-check.ts). Files without it (older writers) are read unchecked.
 */
export const FILE_FLAG_SERIES_CHECKS = 2;

/** Entry kinds (byte 4 of every entry). */
export const KIND_DESCRIPTOR = 1;
export const KIND_SERIES = 2;
/** Archive only: records one process file whose values the archive has absorbed. */
export const KIND_ABSORBED = 3;
/**
 * Process files only: the latest exemplar of each exemplar slot of one series (exemplar-entry.ts),
 * written once the series records its first exemplar.
 */
export const KIND_EXEMPLARS = 4;

/**
 * First of the entry kinds a reader skips when it does not know them (16..255): the room for
 * optional additions, which older readers can ignore instead of refusing the file. Unknown
 * kinds below it (5..15) are refused: they are for additions a reader must understand.
 */
export const FIRST_SKIPPABLE_KIND = 16;

/** Entry flag (byte 5 of every entry): the entry was removed (reset/remove/forget). */
export const ENTRY_FLAG_REMOVED = 1;

/** Size of the part every entry shares: uint32 length, uint8 kind, uint8 flags, uint16 0. */
export const ENTRY_HEAD = 8;
/** Offset of the flags byte inside an entry. */
export const ENTRY_FLAGS_OFFSET = 5;
/** Series entry: common head, uint32 descriptor offset, uint32 slot count, uint32 key length, uint32 check. */
export const SERIES_HEAD = 24;
/** Offset inside a series entry of the uint32 check of its slots (0 without FILE_FLAG_SERIES_CHECKS). */
export const SERIES_CHECK_OFFSET = 20;
/** Descriptor entry: common head, uint32 JSON length, uint32 0. */
export const DESCRIPTOR_HEAD = 16;
/** Absorbed entry: common head, float64 pid, float64 start time, 16-byte token. */
export const ABSORBED_SIZE = ENTRY_HEAD + 16 + TOKEN_SIZE;

/**
 * Largest store file (process file or archive) a writer makes and a reader accepts: 256 MiB.
 * The uint32 `used` field could address 4 GiB, but every scrape reads every file whole, and
 * 256 MiB already holds about 2 million histogram series of one process. A writer that would
 * exceed it refuses the new series with an error; a reader skips a file whose header claims
 * more before reading any of it (FORMAT.md, "Limits").
 */
export const MAX_FILE_SIZE = 256 * 1024 * 1024;

/**
 * Most bytes of a descriptor entry's JSON text. A metric whose description (help text, names,
 * buckets, percentiles) encodes longer is refused by the writer; a reader refuses the entry
 * before decoding it.
 */
export const MAX_DESCRIPTOR_JSON_BYTES = 64 * 1024;

/**
 * Which file a process wrote: enough to tell files apart (absorbed records hold exactly this).
 * See identity.ts for how it is obtained and checked for liveness.
 */
export interface FileIdentity {
  readonly pid: number;
  /** Clock ticks since boot when the process started (`/proc/<pid>/stat` field 22); 0 if unknown. */
  readonly startTime: number;
  /** 32 lowercase hex digits, random per file. */
  readonly token: string;
}

/**
 * Who wrote a file, in full: the process, the thread within it, and the pid namespace and
 * kernel in which those ids mean something. Every number is 0 (the boot id '') when unknown:
 * a file written before the header extension, a platform without `/proc`.
 */
export interface WriterIdentity extends FileIdentity {
  /** Node `threadId` (worker_threads); 0 for the main thread. */
  readonly threadId: number;
  /** OS thread id of a worker thread (`/proc/thread-self`); 0 for the main thread or unknown. */
  readonly tid: number;
  /** Start time of that OS thread in clock ticks since boot; 0 when unknown. */
  readonly tidStartTime: number;
  /** Inode of the pid namespace (`/proc/self/ns/pid` reads `pid:[<inode>]`); 0 when unknown. */
  readonly pidNamespace: number;
  /** The kernel's boot id as 32 hex digits (no dashes); '' when unknown. */
  readonly bootId: string;
}

/**
 * What a header is written from: the file identity, plus whatever is known of the writer (a
 * field left out is written as unknown: archives and test files need none of them).
 */
export type HeaderIdentity = FileIdentity & Partial<Omit<WriterIdentity, keyof FileIdentity>>;

/** The decoded header of a store file. */
export interface FileHeader extends WriterIdentity {
  readonly version: number;
  readonly flags: number;
  readonly used: number;
  readonly headerSize: number;
  readonly createdMs: number;
  /** Last lease renewal, ms since the epoch; 0 in files without one (see identity.ts). */
  readonly leaseMs: number;
  /** Rewrites of the file so far ({@link H_GENERATION}); 0 in 64-byte headers. */
  readonly generation: number;
}

/** Rounds `n` up to a multiple of 8. */
export function align8(n: number): number {
  // Arithmetic, not `& ~7`: bitwise operators would wrap above 2 GiB.
  return Math.ceil(n / 8) * 8;
}

const PROCESS_FILE_RE =
  /^promfork-([1-9][0-9]*)-([0-9]+|t[0-9a-f]{8})(?:-thread[1-9][0-9]*)?(?:-([1-9][0-9]*))?\.db$/;
const ARCHIVE_FILE_RE = /^promfork-archive\.db$/;

/**
 * File name of a writer's file: `promfork-<pid>-<startTime>.db`, with `t<first 8 hex of token>`
 * in place of the start time when it is unknown, `-thread<threadId>` for a worker thread (its
 * Node threadId: unique within the process, so threads never compete for a name), and
 * `-<n>` for the second and later store of one thread in one directory. The name is a hint for
 * humans and for recognition; readers trust the header.
 */
export function processFileName(identity: HeaderIdentity, instance: number): string {
  const start =
    identity.startTime > 0 ? String(identity.startTime) : `t${identity.token.slice(0, 8)}`;
  const threadId = identity.threadId ?? 0;
  const thread = threadId > 0 ? `-thread${threadId}` : '';
  const suffix = instance > 1 ? `-${instance}` : '';
  return `promfork-${identity.pid}-${start}${thread}${suffix}.db`;
}

/** Name of the archive file compaction writes (same format, {@link FILE_FLAG_ARCHIVE} set). */
export const ARCHIVE_FILE_NAME = 'promfork-archive.db';

/** True for names promfork reads: process files and the archive. Everything else is ignored. */
export function isStoreFileName(name: string): boolean {
  return PROCESS_FILE_RE.test(name) || ARCHIVE_FILE_RE.test(name);
}

/** Prefix of temporary files (created complete, then renamed into place). */
export const TEMP_PREFIX = '.promfork-';
/** True for promfork's temporary files (left behind only by a crash between create and rename). */
export function isTempFileName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith('.tmp');
}

/**
 * Name of the temp file a process-file writer creates complete and then puts in place (at
 * creation, at a rewrite, at a recreation). Unique per writer: the token is random per file.
 */
export function rewriteTempName(identity: {
  readonly pid: number;
  readonly token: string;
}): string {
  return `${TEMP_PREFIX}${identity.pid}-${identity.token}.tmp`;
}

/**
 * Writes a fresh header (used = HEADER_SIZE) for `identity` into `bytes`; the lease starts at
 * `createdMs`.
 */
export function writeHeader(
  bytes: Uint8Array,
  identity: HeaderIdentity,
  flags: number,
  createdMs: number,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  bytes.set(MAGIC, H_MAGIC);
  view.setUint32(H_VERSION, FORMAT_VERSION, true);
  view.setUint32(H_FLAGS, flags, true);
  view.setUint32(H_USED, HEADER_SIZE, true);
  view.setUint32(H_HEADER_SIZE, HEADER_SIZE, true);
  view.setFloat64(H_PID, identity.pid, true);
  view.setFloat64(H_START_TIME, identity.startTime, true);
  bytes.set(Buffer.from(identity.token, 'hex').subarray(0, TOKEN_SIZE), H_TOKEN);
  view.setFloat64(H_CREATED_MS, createdMs, true);
  view.setFloat64(H_THREAD_ID, identity.threadId ?? 0, true);
  view.setFloat64(H_TID, identity.tid ?? 0, true);
  view.setFloat64(H_TID_START_TIME, identity.tidStartTime ?? 0, true);
  view.setFloat64(H_LEASE_MS, createdMs, true);
  view.setFloat64(H_PID_NAMESPACE, identity.pidNamespace ?? 0, true);
  bytes.set(Buffer.from(identity.bootId ?? '', 'hex').subarray(0, BOOT_ID_SIZE), H_BOOT_ID);
}

/** Why a file cannot be read; `message` is for humans, `kind` is stable. */
export class FormatProblem {
  constructor(
    readonly kind: 'empty' | 'short' | 'magic' | 'version' | 'truncated' | 'corrupt' | 'vanished',
    readonly message: string,
  ) {}
}

/**
 * Decodes and checks a header from the first bytes of a file (`bytes` is everything read, at
 * most the whole file). Returns a FormatProblem for anything this version must not read.
 * Whether the file really holds `used` bytes is the caller's check (see reader.ts).
 */
export function readHeader(bytes: Uint8Array): FileHeader | FormatProblem {
  if (bytes.length === 0) return new FormatProblem('empty', 'file is empty (0 bytes)');
  if (bytes.length < MIN_HEADER_SIZE) {
    return new FormatProblem('short', `file is ${bytes.length} bytes, shorter than the header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[H_MAGIC + i] !== MAGIC[i]) {
      return new FormatProblem('magic', 'file does not start with the PROMFORK magic');
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEADER_SIZE));
  const version = view.getUint32(H_VERSION, true);
  if (version > FORMAT_VERSION) {
    return new FormatProblem(
      'version',
      `file has format version ${version}; this promfork reads up to version ${FORMAT_VERSION}`,
    );
  }
  if (version < 1)
    return new FormatProblem('corrupt', `file has invalid format version ${version}`);
  const headerSize = view.getUint32(H_HEADER_SIZE, true);
  const used = view.getUint32(H_USED, true);
  if (headerSize < MIN_HEADER_SIZE || headerSize % 8 !== 0) {
    return new FormatProblem('corrupt', `header size ${headerSize} is invalid`);
  }
  if (used < headerSize || used % 8 !== 0) {
    return new FormatProblem('corrupt', `used size ${used} is invalid`);
  }
  const pid = view.getFloat64(H_PID, true);
  const startTime = view.getFloat64(H_START_TIME, true);
  if (!Number.isInteger(pid) || pid < 0 || !Number.isInteger(startTime) || startTime < 0) {
    return new FormatProblem('corrupt', 'header has an invalid pid or start time');
  }
  const createdMs = view.getFloat64(H_CREATED_MS, true);
  const writer =
    headerSize >= HEADER_SIZE && bytes.length >= HEADER_SIZE ? readWriter(view) : NO_WRITER;
  if (writer === undefined)
    return new FormatProblem('corrupt', 'header has an invalid thread or namespace');
  return {
    version,
    flags: view.getUint32(H_FLAGS, true),
    used,
    headerSize,
    pid,
    startTime,
    token: Buffer.from(bytes.buffer, bytes.byteOffset + H_TOKEN, TOKEN_SIZE).toString('hex'),
    createdMs,
    ...writer,
    // A file without a lease counts as renewed when it was created.
    leaseMs: writer.leaseMs > 0 ? writer.leaseMs : createdMs,
    generation:
      headerSize >= HEADER_SIZE && bytes.length >= HEADER_SIZE
        ? view.getUint32(H_GENERATION, true)
        : 0,
  };
}

/** The header extension's fields (bytes 64-127): unknown in files written before it. */
type WriterFields = Omit<WriterIdentity, keyof FileIdentity> & { readonly leaseMs: number };

const NO_WRITER: WriterFields = {
  threadId: 0,
  tid: 0,
  tidStartTime: 0,
  pidNamespace: 0,
  bootId: '',
  leaseMs: 0,
};

/** Reads the header extension; undefined when a field is not a non-negative integer. */
function readWriter(view: DataView): WriterFields | undefined {
  const threadId = view.getFloat64(H_THREAD_ID, true);
  const tid = view.getFloat64(H_TID, true);
  const tidStartTime = view.getFloat64(H_TID_START_TIME, true);
  const pidNamespace = view.getFloat64(H_PID_NAMESPACE, true);
  for (const n of [threadId, tid, tidStartTime, pidNamespace]) {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
  }
  // The lease is the one field rewritten after creation; whatever it holds, the file is
  // readable (a value that is no time counts as no lease).
  const lease = view.getFloat64(H_LEASE_MS, true);
  const leaseMs = Number.isFinite(lease) && lease > 0 ? lease : 0;
  const boot = new Uint8Array(view.buffer, view.byteOffset + H_BOOT_ID, BOOT_ID_SIZE);
  const bootId = boot.every((b) => b === 0) ? '' : Buffer.from(boot).toString('hex');
  return { threadId, tid, tidStartTime, pidNamespace, bootId, leaseMs };
}

// ---------------------------------------------------------------------------------------------
// Descriptor entries

/**
 * Encodes a descriptor entry's JSON payload; the inverse of {@link decodeDescriptorEntry}.
 * `bornMs` (archives only) records when the definition was born: the creation time of the
 * process file that declared it (definitions.ts).
 */
export function descriptorJson(d: MetricDescriptor, bornMs?: number): string {
  const plain: Record<string, unknown> = {
    name: d.name,
    help: d.help,
    type: d.type,
    labelNames: d.labelNames,
    buckets: d.buckets,
    mode: d.mode,
  };
  if (d.summary !== undefined) {
    plain.summary = {
      percentiles: d.summary.percentiles,
      maxAgeSeconds: d.summary.maxAgeSeconds,
      ageBuckets: d.summary.ageBuckets,
    };
  }
  if (d.native !== undefined) {
    plain.native = {
      schema: d.native.schema,
      maxBuckets: d.native.maxBuckets,
      zeroThreshold: d.native.zeroThreshold,
    };
  }
  if (bornMs !== undefined) plain.bornMs = bornMs;
  return JSON.stringify(plain);
}

/** Total bytes of a descriptor entry whose JSON payload is `jsonBytes` long. */
export function descriptorEntrySize(jsonBytes: number): number {
  return align8(DESCRIPTOR_HEAD + jsonBytes);
}

const METRIC_TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary'];

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** A descriptor entry's payload: the descriptor and, in archives, its definition's birth. */
export interface DescriptorPayload {
  readonly descriptor: MetricDescriptor;
  /** Milliseconds since the epoch; undefined when the entry does not say (process files). */
  readonly bornMs: number | undefined;
}

/**
 * Parses and checks a descriptor payload read from a file. Returns undefined for anything that
 * is not a well-formed descriptor: a file is untrusted input, and a half-valid descriptor
 * would break rendering later.
 */
export function decodeDescriptorEntry(json: string): DescriptorPayload | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name === '' || typeof r.help !== 'string') return undefined;
  // As a constructor refuses it: a lone surrogate would reach Prometheus as U+FFFD.
  if (!isUnicodeText(r.help)) return undefined;
  if (!METRIC_TYPES.includes(r.type as MetricType)) return undefined;
  if (!GAUGE_MODES.includes(r.mode as GaugeMode)) return undefined;
  if (!isStringArray(r.labelNames)) return undefined;
  const buckets = r.buckets;
  if (
    !Array.isArray(buckets) ||
    !buckets.every((b) => typeof b === 'number' && Number.isFinite(b))
  ) {
    return undefined;
  }
  // Not a descriptor's meaning, only its age: anything else than a finite number >= 0 is taken
  // as absent (the oldest), rather than making the whole archive unreadable.
  const bornMs =
    typeof r.bornMs === 'number' && Number.isFinite(r.bornMs) && r.bornMs >= 0
      ? r.bornMs
      : undefined;
  const type = r.type as MetricType;
  if (type !== 'histogram' && buckets.length > 0) return undefined;
  let summary: SummarySettings | undefined;
  if (type === 'summary') {
    const s = r.summary as Record<string, unknown> | null | undefined;
    if (typeof s !== 'object' || s === null) return undefined;
    const { percentiles, maxAgeSeconds, ageBuckets } = s;
    if (
      !Array.isArray(percentiles) ||
      percentiles.length > MAX_PERCENTILES ||
      !percentiles.every((p) => typeof p === 'number' && p >= 0 && p <= 1) ||
      typeof maxAgeSeconds !== 'number' ||
      !(maxAgeSeconds >= 0) ||
      typeof ageBuckets !== 'number' ||
      !Number.isInteger(ageBuckets) ||
      ageBuckets < 1
    ) {
      return undefined;
    }
    summary = { percentiles, maxAgeSeconds, ageBuckets };
  }
  // Native settings (histograms only) are checked like a constructor checks them; absent means
  // none (and so for every file written before the option existed).
  const native = r.native === undefined ? undefined : decodeNativeSettings(r.native);
  if (r.native !== undefined && (native === undefined || type !== 'histogram')) return undefined;
  // The rules a metric constructor enforces hold for a file too: a name or label the
  // exposition cannot carry (a damaged byte, a hand-made file) would break the whole scrape,
  // not just this metric. Such a descriptor makes the file unreadable (skipped and counted).
  try {
    assertMetricName(r.name);
    assertLabelNames(r.labelNames, r.name, type);
    // A native histogram may have no classic buckets (FORMAT.md); others need at least one.
    if (type === 'histogram' && (native === undefined || buckets.length > 0)) {
      assertBuckets(buckets, r.name);
    }
    // Settings no summary could be built with (too many age buckets) have no slot layout:
    // refused here, before anything tries to lay out or merge its series.
    if (summary !== undefined) sketchWindowCount(summary);
  } catch {
    return undefined;
  }
  const descriptor: MetricDescriptor = {
    name: r.name,
    help: r.help,
    type,
    labelNames: r.labelNames,
    buckets: buckets as number[],
    mode: r.mode as GaugeMode,
    ...(summary !== undefined ? { summary } : {}),
    ...(native !== undefined ? { native } : {}),
  };
  return { descriptor, bornMs };
}

/** True when two descriptors lay out and merge identically (help text may differ). */
export function compatibleDescriptors(a: MetricDescriptor, b: MetricDescriptor): boolean {
  if (a.name !== b.name || a.type !== b.type || a.mode !== b.mode) return false;
  if (!sameArray(a.labelNames, b.labelNames) || !sameArray(a.buckets, b.buckets)) return false;
  if (!sameNativeSettings(a.native, b.native)) return false;
  if (a.summary === undefined || b.summary === undefined) return a.summary === b.summary;
  return (
    sameArray(a.summary.percentiles, b.summary.percentiles) &&
    a.summary.maxAgeSeconds === b.summary.maxAgeSeconds &&
    a.summary.ageBuckets === b.summary.ageBuckets
  );
}

/**
 * True when a store holding `a` keeps it for `b` as it is: one definition, help included (a
 * FileStore declares a metric of the same name but another definition anew, which drops the
 * series of the one it held).
 */
export function sameDefinition(a: MetricDescriptor, b: MetricDescriptor): boolean {
  return a === b || (a.help === b.help && compatibleDescriptors(a, b));
}

function sameArray<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Series entries

/**
 * The key of a series: its label values as a JSON array of strings. Injective whatever the
 * values contain; stored as is in series entries and used as the in-memory key everywhere.
 */
export function seriesKey(labelValues: readonly string[]): string {
  return JSON.stringify(labelValues);
}

/** Byte offset, from the start of a series entry, of its first slot. */
export function seriesSlotsOffset(keyBytes: number): number {
  return align8(SERIES_HEAD + keyBytes);
}

/** Total bytes of a series entry. */
export function seriesEntrySize(keyBytes: number, slotCount: number): number {
  return seriesSlotsOffset(keyBytes) + slotCount * 8;
}

/**
 * How many label values the series key text `text` holds when it is written the way
 * `seriesKey` writes keys without escapes: `["v1","v2",...]` with no backslash, no control
 * character and no `"` inside a value (a quote or control character in a value would have been
 * escaped). Such a text equals `seriesKey(values)`, so it is its own in-memory key, and
 * {@link splitPlainSeriesKey} gives its values. -1 for any other text (escapes, spacing, a
 * writer with another JSON style, not JSON at all): {@link decodeSeriesKeyText} decides.
 *
 * Allocates nothing: a reader checks every key it parses but needs the values of few of them
 * (merging takes them only for the first file that brings a merged series).
 */
export function plainSeriesKeyCount(text: string): number {
  if (text === '[]') return 0;
  const end = text.length - 2; // Index of the closing quote.
  if (
    end < 2 ||
    text.charCodeAt(0) !== 0x5b ||
    text.charCodeAt(1) !== 0x22 ||
    text.charCodeAt(end) !== 0x22 ||
    text.charCodeAt(end + 1) !== 0x5d
  ) {
    return -1;
  }
  let count = 1;
  for (let i = 2; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x5c) return -1;
    if (code === 0x22) {
      // Only as the `","` between two values, whole before the closing quote.
      if (i + 2 >= end || text.charCodeAt(i + 1) !== 0x2c || text.charCodeAt(i + 2) !== 0x22) {
        return -1;
      }
      count++;
      i += 2;
    }
  }
  return count;
}

/** The label values of a key text that {@link plainSeriesKeyCount} accepts. */
export function splitPlainSeriesKey(text: string): string[] {
  return text === '[]' ? [] : text.slice(2, -2).split('","');
}

/**
 * A series key read from a file: its label values, and the in-memory key
 * (`seriesKey(labelValues)`), or undefined unless the text is a JSON array of Unicode strings.
 * A plain key ({@link plainSeriesKeyCount}) is split directly and is itself the key: no
 * JSON.parse, no re-encoding. Anything else is parsed and re-encoded, so keys stay canonical
 * either way.
 */
export function decodeSeriesKeyText(
  text: string,
): { readonly labelValues: string[]; readonly key: string } | undefined {
  if (plainSeriesKeyCount(text) >= 0) return { labelValues: splitPlainSeriesKey(text), key: text };
  const labelValues = decodeSeriesKey(text);
  return labelValues === undefined ? undefined : { labelValues, key: seriesKey(labelValues) };
}

/** Parses a series key read from a file; undefined unless it is an array of strings. */
export function decodeSeriesKey(json: string): string[] | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  // A lone surrogate (valid as a JSON escape) would reach Prometheus as U+FFFD: refused, as
  // metrics refuse it when recording.
  return isStringArray(raw) && raw.every(isUnicodeText) ? raw : undefined;
}
