/**
 * Exemplar entries (kind 4, FORMAT.md "Entries"): the latest exemplar of each exemplar slot of
 * one series (a counter's one, a histogram's buckets and `+Inf`), so that whichever process is
 * scraped shows the latest exemplar of every process. Pure functions over bytes.
 *
 * An entry is appended when a series records its first exemplar: nothing is written for series
 * that never carry one, and the hot path of `inc`/`observe` without an exemplar is unchanged.
 * It holds one fixed-size record per slot, so a new exemplar overwrites its record in place and
 * goes out with the end-of-turn flush; a label text longer than a record takes is written into
 * a new entry with larger records (the old one flagged removed). A 32-bit check of the records
 * (series-check.ts's function, counted from the first record so it does not depend on where the
 * entry lies in the file: rewrites move entries) lets a reader tell a record read while it was
 * being written; such an entry is left out of that scrape, never the file.
 */
import { exemplarLabelSet } from '../exemplar.js';
import type { Exemplar, MetricDescriptor } from '../types.js';
import { ENTRY_HEAD } from './format.js';
import { seriesCheck } from './series-check.js';

/**
 * Exemplar entry head: common head, uint32 offset of its series entry, uint32 record count,
 * uint32 record size, uint32 check of the records.
 */
export const EXEMPLARS_HEAD = 24;
/** Offset inside an exemplar entry of the uint32 check of its records. */
export const EXEMPLARS_CHECK_OFFSET = 20;
/** Record head: float64 timestamp (s; 0 = empty), float64 value, uint32 label text bytes, uint32 0. */
export const EXEMPLAR_RECORD_HEAD = 24;
/** Smallest record a writer makes (room for a label text of 40 bytes). */
const MIN_RECORD_BYTES = 64;
/**
 * Largest record: room for the JSON text of any label set OpenMetrics allows (128 code points
 * of names and values: at most 6 bytes each when escaped, plus 6 bytes of quotes, colon and
 * comma per label, so 1538 bytes). Readers refuse larger records (FORMAT.md, "Limits").
 */
export const MAX_EXEMPLAR_RECORD_BYTES = 2048;
/** Most bytes of one exemplar's label text (JSON). */
export const MAX_EXEMPLAR_LABEL_BYTES = MAX_EXEMPLAR_RECORD_BYTES - EXEMPLAR_RECORD_HEAD;

/**
 * Exemplar slots of a series of `descriptor`: 1 for a counter, one per classic bucket and
 * `+Inf` for a histogram (a native-only histogram has `+Inf` only), 0 for other types.
 */
export function exemplarSlotCount(descriptor: MetricDescriptor): number {
  if (descriptor.type === 'counter') return 1;
  if (descriptor.type === 'histogram') return descriptor.buckets.length + 1;
  return 0;
}

/** Total bytes of an exemplar entry of `count` records of `recordSize` bytes. */
export function exemplarsEntrySize(count: number, recordSize: number): number {
  return EXEMPLARS_HEAD + count * recordSize;
}

/** The record size a writer gives an entry whose longest label text has `labelBytes` bytes. */
export function recordSizeFor(labelBytes: number): number {
  let size = MIN_RECORD_BYTES;
  while (size < EXEMPLAR_RECORD_HEAD + labelBytes) size *= 2;
  return Math.min(size, MAX_EXEMPLAR_RECORD_BYTES);
}

/** An exemplar's label set as the record stores it: JSON text, UTF-8. */
export function exemplarLabelText(exemplar: Exemplar): Uint8Array {
  return Buffer.from(JSON.stringify(exemplar.labels), 'utf8');
}

/** Writes one record at byte `at` of `bytes` (`labels`: {@link exemplarLabelText}; it fits). */
export function writeExemplarRecord(
  bytes: Uint8Array,
  at: number,
  recordSize: number,
  exemplar: Exemplar,
  labels: Uint8Array,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, recordSize);
  view.setFloat64(0, exemplar.timestamp ?? 0, true);
  view.setFloat64(8, exemplar.value, true);
  view.setUint32(16, labels.length, true);
  view.setUint32(20, 0, true);
  bytes.fill(0, at + EXEMPLAR_RECORD_HEAD, at + recordSize);
  bytes.set(labels, at + EXEMPLAR_RECORD_HEAD);
}

/**
 * The check of the records of the exemplar entry at byte `entry` of `bytes` (`recordBytes`
 * bytes of records): series-check.ts's check over their words, counted from the first record.
 */
export function exemplarsCheck(bytes: Uint8Array, entry: number, recordBytes: number): number {
  const words = new Uint32Array(
    bytes.buffer,
    bytes.byteOffset + entry + EXEMPLARS_HEAD,
    recordBytes / 4,
  );
  return seriesCheck(words, 0, words.length);
}

/** The fixed fields of an exemplar entry's head. */
export interface ExemplarsHead {
  readonly seriesOffset: number;
  readonly count: number;
  readonly recordSize: number;
}

/** Reads an exemplar entry's head fields (the entry is at least {@link EXEMPLARS_HEAD} long). */
export function readExemplarsHead(view: DataView, entry: number): ExemplarsHead {
  return {
    seriesOffset: view.getUint32(entry + ENTRY_HEAD, true),
    count: view.getUint32(entry + 12, true),
    recordSize: view.getUint32(entry + 16, true),
  };
}

/**
 * What is wrong with an exemplar entry's head fields for an entry of `length` bytes, or
 * undefined: records of a size a writer makes, and exactly as many as the length holds.
 */
export function exemplarsHeadProblem(head: ExemplarsHead, length: number): string | undefined {
  const { count, recordSize } = head;
  if (
    recordSize < EXEMPLAR_RECORD_HEAD + 8 ||
    recordSize > MAX_EXEMPLAR_RECORD_BYTES ||
    recordSize % 8 !== 0
  ) {
    return `exemplar records of ${recordSize} bytes (expected a multiple of 8 up to ${MAX_EXEMPLAR_RECORD_BYTES})`;
  }
  if (exemplarsEntrySize(count, recordSize) !== length) return 'exemplar entry size mismatch';
  return undefined;
}

/**
 * Decodes the records of a verified exemplar entry at byte `entry` of `bytes`: the exemplar
 * of each slot (undefined where none was recorded), or undefined when a record is not one a
 * writer makes (a label set `makeExemplar` refuses, a value or time that is no number): the
 * file is untrusted input, and one bad exemplar must not break the exposition.
 */
export function decodeExemplarRecords(
  bytes: Uint8Array,
  entry: number,
  head: ExemplarsHead,
  metric: string,
): (Exemplar | undefined)[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out: (Exemplar | undefined)[] = [];
  for (let slot = 0; slot < head.count; slot++) {
    const at = entry + EXEMPLARS_HEAD + slot * head.recordSize;
    const timestamp = view.getFloat64(at, true);
    if (timestamp === 0) {
      out.push(undefined);
      continue;
    }
    const value = view.getFloat64(at + 8, true);
    const textBytes = view.getUint32(at + 16, true);
    if (!(timestamp > 0) || !Number.isFinite(timestamp) || Number.isNaN(value)) return undefined;
    if (textBytes > head.recordSize - EXEMPLAR_RECORD_HEAD) return undefined;
    const start = bytes.byteOffset + at + EXEMPLAR_RECORD_HEAD;
    const text = Buffer.from(bytes.buffer, start, textBytes).toString('utf8');
    try {
      out.push({ labels: exemplarLabelSet(JSON.parse(text), metric), value, timestamp });
    } catch {
      return undefined;
    }
  }
  return out;
}
