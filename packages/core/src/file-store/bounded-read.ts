/**
 * Reading a store file within the limits of FORMAT.md ("Limits"): whatever its header and
 * entry heads claim, a file costs a scrape no more than the bytes it really holds up to its
 * first bad entry, and never more than those limits. Write access to the directory is the
 * trust boundary, yet one planted or damaged file must not stall every scrape.
 *
 * Two claims could otherwise cost far more than a file holds:
 * - `used`, in the header: a sparse file with 4 KiB of data whose header claimed 2 GiB made
 *   every scrape allocate and read 2 GiB of zeros (7-10 s, 2.1 GB RSS). A file claiming more
 *   than {@link MAX_FILE_SIZE} is refused before anything is allocated.
 * - entry lengths: the image is read in chunks of {@link READ_CHUNK_BYTES}, and after each
 *   chunk the heads of the entries it reaches are checked (length, kind, and the bound of
 *   that kind); the read stops at the first bad head. A sparse or zeroed tail reads as an
 *   entry of length 0, so it costs at most one chunk beyond the real data. A valid entry may
 *   still span zeros, but none is longer than its kind allows.
 *
 * Why not compare `used` with the blocks the file occupies (`fstat` blocks): a writer's own
 * file is sparse beyond `used` (it grows by `ftruncate`), and filesystems that compress or
 * deduplicate (ZFS, btrfs) report fewer blocks than bytes for healthy files, so the block
 * count can neither prove nor disprove that a file holds what it claims.
 */
import { MAX_BUCKETS } from '../buckets.js';
import { MAX_SERIES_SLOTS } from '../store.js';
import { MAX_SERIES_KEY_BYTES } from '../validation.js';
import { EXEMPLARS_HEAD, exemplarsEntrySize, MAX_EXEMPLAR_RECORD_BYTES } from './exemplar-entry.js';
import { readAll } from './file-io.js';
import {
  DESCRIPTOR_HEAD,
  descriptorEntrySize,
  ENTRY_HEAD,
  FIRST_SKIPPABLE_KIND,
  FormatProblem,
  KIND_ABSORBED,
  KIND_DESCRIPTOR,
  KIND_EXEMPLARS,
  KIND_SERIES,
  MAX_DESCRIPTOR_JSON_BYTES,
  MAX_FILE_SIZE,
  SERIES_HEAD,
  seriesEntrySize,
} from './format.js';

/** Bytes read at a time before the entry heads read so far are checked. */
export const READ_CHUNK_BYTES = 1024 * 1024;

const MAX_DESCRIPTOR_ENTRY = descriptorEntrySize(MAX_DESCRIPTOR_JSON_BYTES);
const MAX_SERIES_ENTRY = seriesEntrySize(MAX_SERIES_KEY_BYTES, MAX_SERIES_SLOTS);
/** An exemplar entry of the most slots a series has (a histogram's buckets and +Inf). */
const MAX_EXEMPLARS_ENTRY = exemplarsEntrySize(MAX_BUCKETS + 1, MAX_EXEMPLAR_RECORD_BYTES);
/**
 * Largest entry of a kind this reader does not know and steps over (FIRST_SKIPPABLE_KIND..255):
 * one read chunk, so that a later version's optional entries stay bounded for this reader too.
 */
export const MAX_SKIPPABLE_ENTRY = 1024 * 1024;

/** The problem of a file whose header claims more than a store file may hold, if it does. */
export function fileSizeProblem(used: number): FormatProblem | undefined {
  if (used <= MAX_FILE_SIZE) return undefined;
  return new FormatProblem(
    'corrupt',
    `header says ${used} bytes are used; a store file holds at most ${MAX_FILE_SIZE}`,
  );
}

/** An image read by {@link readImage}, with what it already checked. */
export interface ReadImage {
  readonly bytes: Uint8Array;
  /** Offset of the first entry head not checked (those before it passed entryHeadProblem). */
  readonly checkedTo: number;
  /** Entry heads checked (the entries before {@link checkedTo}). */
  readonly heads: number;
}

/**
 * Reads the first `used` bytes of the file open as `fd` (the caller has checked `used`
 * against {@link fileSizeProblem} and the file's size), checking entry heads from
 * `headerSize` on as chunks arrive. When the image needs new memory (`reuse` is absent or too
 * small) and `stage` gives a buffer of {@link READ_CHUNK_BYTES}, the chunks are read into that
 * buffer and copied into the image. Returns the image (in `reuse` when it is large enough)
 * with how far its heads are checked, or the first problem found before the last chunk; the
 * caller's parse checks the rest (a file of one chunk is read whole) and need not check the
 * heads before `checkedTo` again.
 */
export function readImage(
  fd: number,
  used: number,
  headerSize: number,
  reuse?: Uint8Array,
  stage?: () => Uint8Array,
): ReadImage | FormatProblem {
  // `reuse` (an earlier image of the file nothing refers to any more) saves allocating and
  // faulting in the memory again. Otherwise zero-filled memory is committed page by page as
  // reads fill it: a read stopped early leaves the rest of the allocation untouched.
  const fresh = reuse === undefined || reuse.byteOffset !== 0 || reuse.length < used;
  const bytes = fresh ? new Uint8Array(new ArrayBuffer(used)) : reuse.subarray(0, used);
  // Fresh memory is read through `stage` (see StoreFileReader.stage) when given.
  const through = fresh ? stage?.() : undefined;
  const view = new DataView(bytes.buffer, 0, used);
  let read = 0;
  /** Offset of the next entry head not yet checked. */
  let next = headerSize;
  let heads = 0;
  while (read < used) {
    const end = Math.min(used, read + READ_CHUNK_BYTES);
    if (through === undefined) {
      read += readAll(fd, bytes.subarray(read, end), read);
    } else {
      const got = readAll(fd, through.subarray(0, end - read), read);
      bytes.set(got === through.length ? through : through.subarray(0, got), read);
      read += got;
    }
    if (read < end) {
      return new FormatProblem(
        'truncated',
        `header says ${used} bytes are used but the file has only ${read}`,
      );
    }
    // Heads are checked while more is to be read (once a head's widest form, a series head,
    // is in): that is what stops a read early. Those of the last chunk are left to the parse,
    // which checks every head with entryHeadProblem anyway.
    while (read < used && next + SERIES_HEAD <= read) {
      const problem = entryHeadProblem(view, next, used);
      if (problem !== undefined) {
        return new FormatProblem('corrupt', `entry at byte ${next}: ${problem}`);
      }
      next += view.getUint32(next, true);
      heads++;
    }
  }
  return { bytes, checkedTo: next, heads };
}

/**
 * What is wrong with the head of the entry at `offset` of an image holding `used` bytes, or
 * undefined: it must be complete, its length a multiple of 8 within `used`, its kind known,
 * and its length and the lengths in its head within the bounds of its kind.
 */
export function entryHeadProblem(view: DataView, offset: number, used: number): string | undefined {
  if (offset + ENTRY_HEAD > used) return 'entry head is cut off';
  const length = view.getUint32(offset, true);
  if (length < ENTRY_HEAD || length % 8 !== 0 || offset + length > used) {
    return `entry length ${length} is invalid`;
  }
  const kind = view.getUint8(offset + 4);
  switch (kind) {
    case KIND_DESCRIPTOR: {
      const json = length >= DESCRIPTOR_HEAD ? view.getUint32(offset + ENTRY_HEAD, true) : 0;
      if (length > MAX_DESCRIPTOR_ENTRY || json > MAX_DESCRIPTOR_JSON_BYTES) {
        return `descriptor entry of ${length} bytes exceeds the limit (JSON text at most ${MAX_DESCRIPTOR_JSON_BYTES} bytes)`;
      }
      return undefined;
    }
    case KIND_SERIES: {
      const slots = length >= SERIES_HEAD ? view.getUint32(offset + 12, true) : 0;
      const key = length >= SERIES_HEAD ? view.getUint32(offset + 16, true) : 0;
      if (length > MAX_SERIES_ENTRY || key > MAX_SERIES_KEY_BYTES || slots > MAX_SERIES_SLOTS) {
        return (
          `series entry of ${length} bytes (key ${key} bytes, ${slots} slots) exceeds the ` +
          `limits (key at most ${MAX_SERIES_KEY_BYTES} bytes, at most ${MAX_SERIES_SLOTS} slots)`
        );
      }
      return undefined;
    }
    case KIND_ABSORBED:
      return undefined;
    case KIND_EXEMPLARS:
      if (length < EXEMPLARS_HEAD || length > MAX_EXEMPLARS_ENTRY) {
        return `exemplar entry of ${length} bytes is outside ${EXEMPLARS_HEAD}..${MAX_EXEMPLARS_ENTRY}`;
      }
      return undefined;
    default:
      if (kind >= FIRST_SKIPPABLE_KIND) {
        return length > MAX_SKIPPABLE_ENTRY
          ? `entry of unknown kind ${kind} of ${length} bytes exceeds the limit (${MAX_SKIPPABLE_ENTRY})`
          : undefined;
      }
      return `unknown entry kind ${kind}`;
  }
}
