/**
 * The archive file (`promfork-archive.db`): what compaction folds dead processes into.
 *
 * Same format as a process file (FORMAT.md) with the archive flag set, plus one absorbed entry
 * (kind 3) per process file whose values it holds. It is never updated in place: every
 * compaction encodes a complete new image, writes it to a temp file, syncs it, and renames it
 * over the old archive, so a reader sees either the old archive or the new one, never a mix,
 * and a crash leaves at worst an orphaned temp file.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { describeValue, StoreError } from '../errors.js';
import { CREATE_FLAGS, writeFully } from './file-io.js';
import {
  ABSORBED_SIZE,
  ARCHIVE_FILE_NAME,
  align8,
  DESCRIPTOR_HEAD,
  descriptorEntrySize,
  descriptorJson,
  ENTRY_HEAD,
  FILE_FLAG_ARCHIVE,
  FILE_FLAG_SERIES_CHECKS,
  type FileIdentity,
  H_USED,
  HEADER_SIZE,
  KIND_ABSORBED,
  KIND_DESCRIPTOR,
  KIND_SERIES,
  MAX_DESCRIPTOR_JSON_BYTES,
  MAX_FILE_SIZE,
  SERIES_CHECK_OFFSET,
  SERIES_HEAD,
  seriesEntrySize,
  seriesKey,
  seriesSlotsOffset,
  TEMP_PREFIX,
  TOKEN_SIZE,
  writeHeader,
} from './format.js';
import type { MergedFamily } from './merge.js';
import { seriesCheck } from './series-check.js';

/** Prefix of the temp files archives are written to before the rename. */
export const ARCHIVE_TEMP_PREFIX = `${TEMP_PREFIX}archive-`;

/** What an archive holds. */
export interface ArchiveContent {
  /**
   * Merged families of every absorbed process; series cells in the store's slot layout. Each
   * descriptor is written with the birth of its definition (`bornMs`, definitions.ts), since
   * the archive's own header time says only when it was written.
   */
  readonly families: readonly MergedFamily[];
  /** Identities of the process files folded in (kept while such a file may still exist). */
  readonly absorbed: readonly FileIdentity[];
}

/**
 * The descriptor text of an archived family, with the birth of its definition. A definition
 * whose text is already at the reader's limit (only a hand-made file can declare one) goes in
 * without its birth, so it counts as the oldest: with it, the entry would pass the limit and
 * make every reader skip the whole archive.
 */
function archivedDescriptorJson(family: MergedFamily): Buffer {
  const json = Buffer.from(descriptorJson(family.descriptor, family.bornMs), 'utf8');
  if (json.length <= MAX_DESCRIPTOR_JSON_BYTES) return json;
  return Buffer.from(descriptorJson(family.descriptor), 'utf8');
}

/**
 * Encodes a complete archive image: header (archive flag, `used` = image length), absorbed
 * entries, then each family's descriptor followed by its series. Throws StoreError when the
 * archive would exceed the format's size limit.
 */
export function encodeArchive(
  content: ArchiveContent,
  writer: FileIdentity,
  createdMs: number,
): Uint8Array {
  const encoded = content.families.map((family) => ({
    json: archivedDescriptorJson(family),
    series: family.series.map((s) => ({
      key: Buffer.from(seriesKey(s.labelValues), 'utf8'),
      cells: s.cells,
    })),
  }));
  let size = HEADER_SIZE + content.absorbed.length * ABSORBED_SIZE;
  for (const family of encoded) {
    size += descriptorEntrySize(family.json.length);
    for (const s of family.series) size += seriesEntrySize(s.key.length, s.cells.length);
  }
  if (size > MAX_FILE_SIZE) {
    throw new StoreError(
      'PROMFORK_COMPACTION_FAILED',
      `The archive of dead processes would exceed ${MAX_FILE_SIZE} bytes (${size}); ` +
        'too many series (check for unbounded label values)',
    );
  }
  const bytes = new Uint8Array(new ArrayBuffer(align8(size)));
  const view = new DataView(bytes.buffer);
  const words = new Uint32Array(bytes.buffer);
  writeHeader(bytes, writer, FILE_FLAG_ARCHIVE | FILE_FLAG_SERIES_CHECKS, createdMs);
  let offset = HEADER_SIZE;
  const head = (length: number, kind: number): void => {
    view.setUint32(offset, length, true);
    bytes[offset + 4] = kind;
  };
  for (const identity of content.absorbed) {
    head(ABSORBED_SIZE, KIND_ABSORBED);
    view.setFloat64(offset + ENTRY_HEAD, identity.pid, true);
    view.setFloat64(offset + ENTRY_HEAD + 8, identity.startTime, true);
    bytes.set(Buffer.from(identity.token, 'hex').subarray(0, TOKEN_SIZE), offset + ENTRY_HEAD + 16);
    offset += ABSORBED_SIZE;
  }
  for (const family of encoded) {
    const descriptorOffset = offset;
    const length = descriptorEntrySize(family.json.length);
    head(length, KIND_DESCRIPTOR);
    view.setUint32(offset + ENTRY_HEAD, family.json.length, true);
    bytes.set(family.json, offset + DESCRIPTOR_HEAD);
    offset += length;
    for (const s of family.series) {
      const seriesLength = seriesEntrySize(s.key.length, s.cells.length);
      head(seriesLength, KIND_SERIES);
      view.setUint32(offset + 8, descriptorOffset, true);
      view.setUint32(offset + 12, s.cells.length, true);
      view.setUint32(offset + 16, s.key.length, true);
      bytes.set(s.key, offset + SERIES_HEAD);
      const slots = offset + seriesSlotsOffset(s.key.length);
      for (let i = 0; i < s.cells.length; i++) {
        view.setFloat64(slots + i * 8, s.cells[i] ?? 0, true);
      }
      const check = seriesCheck(words, slots / 4, s.cells.length * 2);
      view.setUint32(offset + SERIES_CHECK_OFFSET, check, true);
      offset += seriesLength;
    }
  }
  view.setUint32(H_USED, offset, true);
  return bytes;
}

/** Points at which {@link writeArchive} calls its `step` hook (crash tests). */
export type ArchiveWriteStep = 'temp-partial' | 'temp-written' | 'renamed';

/**
 * Replaces the archive of `dir` with `image`: temp file (O_EXCL, 0600), written and fsynced,
 * then renamed over `promfork-archive.db`, then the directory fsynced so the rename survives a
 * power cut. `beforeRename` runs last before the rename and may throw to abort (the temp file
 * is removed). Throws StoreError (PROMFORK_COMPACTION_FAILED) on I/O failure.
 */
export function writeArchive(
  dir: string,
  image: Uint8Array,
  token: string,
  beforeRename: () => void,
  step: (step: ArchiveWriteStep) => void,
): void {
  const temp = join(dir, `${ARCHIVE_TEMP_PREFIX}${process.pid}-${token}.tmp`);
  let renamed = false;
  try {
    const fd = openSync(temp, CREATE_FLAGS, 0o600);
    try {
      // Two writes, so the crash tests can stop between them and leave half a temp file.
      const half = Math.floor(image.length / 16) * 8;
      writeFully(fd, image, 0, half);
      step('temp-partial');
      writeFully(fd, image, half, image.length - half);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    step('temp-written');
    beforeRename();
    renameSync(temp, join(dir, ARCHIVE_FILE_NAME));
    renamed = true;
  } catch (error) {
    if (!renamed) unlinkQuietly(temp);
    if (error instanceof StoreError || !isErrno(error)) throw error;
    throw new StoreError(
      'PROMFORK_COMPACTION_FAILED',
      `Cannot write the archive of dead processes in ${describeValue(dir)} (${error.code}); ` +
        'their files stay in place and are retried at the next compaction',
      { cause: error },
    );
  }
  syncDirectory(dir);
  step('renamed');
}

/**
 * Removes archive temp files left by crashed compactions. Only the lock holder writes archive
 * temp files, so under the lock every one found is an orphan.
 */
export function removeArchiveTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(ARCHIVE_TEMP_PREFIX) && name.endsWith('.tmp')) {
      unlinkQuietly(join(dir, name));
    }
  }
}

/** Makes the directory's entries (a rename, an unlink) durable. Best effort. */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot open or fsync a directory; the rename itself is still atomic.
  }
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
