/**
 * Per-series checks (series-check.ts): files written by a store and archives carry a correct
 * check for every series, whatever was flushed when; a reader detects a slot that does not
 * match its check, re-reads it, and shows previous values, leaves the series out, or (for
 * files no longer written) takes it as read; files without the header flag are read unchecked.
 * The torn reads of real concurrent writers are tested in file-store-torn-reads.test.ts.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { encodeArchive } from '../src/file-store/archive.js';
import {
  FILE_FLAG_SERIES_CHECKS,
  FormatProblem,
  H_FLAGS,
  readHeader,
  SERIES_CHECK_OFFSET,
} from '../src/file-store/format.js';
import { ARCHIVE_FILE_NAME, FileStore, TORN_READS_METRIC } from '../src/file-store/index.js';
import { parseEntries, StoreFileReader } from '../src/file-store/reader.js';
import { SeriesVerifier, seriesCheck, WaitBudget } from '../src/file-store/series-check.js';
import { seriesSize } from '../src/store.js';
import type { MetricDescriptor } from '../src/types.js';
import { addDeadFile } from './compaction-helpers.js';
import { counterOf, flatten, tempDir } from './file-store-helpers.js';

const JOBS = counterOf('jobs_total', ['kind']);
/** 300 buckets: one series spans three 1 KiB blocks. */
const WIDE: MetricDescriptor = {
  name: 'wide_seconds',
  help: 'wide',
  type: 'histogram',
  labelNames: ['i'],
  buckets: Array.from({ length: 300 }, (_, i) => i + 1),
  mode: 'sum',
};
const LEVEL: MetricDescriptor = {
  name: 'level',
  help: 'level',
  type: 'gauge',
  labelNames: [],
  buckets: [],
  mode: 'max',
};
const LATENCY: MetricDescriptor = {
  name: 'latency_seconds',
  help: 'latency',
  type: 'summary',
  labelNames: [],
  buckets: [],
  mode: 'sum',
  summary: { percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 3 },
};

/** A series entry as the verifier is told of it. */
interface CheckedEntry {
  readonly offset: number;
  readonly length: number;
  readonly start: number;
  readonly slotCount: number;
}

/**
 * Every live series entry of a file image, of the metric `name` when given (as the parse asks
 * the verifier about them).
 */
function seriesOf(bytes: Uint8Array, name?: string): CheckedEntry[] {
  const header = readHeader(bytes);
  assert.ok(!(header instanceof FormatProblem), 'readable header');
  const entries: CheckedEntry[] = [];
  const parsed = parseEntries('f', header, bytes, undefined, (offset, length, start, slotCount) => {
    entries.push({ offset, length, start, slotCount });
    return true;
  });
  assert.ok(!(parsed instanceof FormatProblem), 'parsable file');
  const starts = new Set(
    parsed.families
      .filter((f) => name === undefined || f.descriptor.name === name)
      .flatMap((f) => Array.from(f.starts)),
  );
  return entries.filter((e) => starts.has(e.start));
}

/** Series of `bytes` whose stored check is not the check of their slots. */
function mismatches(bytes: Uint8Array): number[] {
  const copy = new Uint8Array(bytes); // aligned
  const words = new Uint32Array(copy.buffer);
  return seriesOf(copy)
    .filter(
      (e) =>
        words[(e.offset + SERIES_CHECK_OFFSET) / 4] !==
        seriesCheck(words, e.start * 2, e.slotCount * 2),
    )
    .map((e) => e.offset);
}

describe('series checks: writers', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('promfork-check-')));
  afterEach(() => cleanup());

  it('a rewritten file (space of removed series reclaimed) holds the right checks, then and later', async () => {
    const store = new FileStore({ dir, compactDeadProcesses: false });
    const path = join(dir, store.fileName);
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    try {
      // About 240 KB of series, then removed: enough for the end-of-turn flush to rewrite.
      // They come first, so the kept series move to other offsets.
      for (let i = 0; i < 100; i++) store.series(WIDE, [`gone${i}`]).add(0, 1);
      const kept = [0, 1, 2].map((i) => store.series(WIDE, [`kept${i}`]));
      await turn();
      const before = statSync(path).ino;
      for (let i = 0; i < 100; i++) store.remove(WIDE, [`gone${i}`]);
      // Changed in the same turn as the rewrite: the new file must carry these values' checks.
      for (const [i, cells] of kept.entries()) cells.add(299, i + 1);
      await turn();
      assert.notEqual(statSync(path).ino, before, 'the file was rewritten');
      assert.deepEqual(mismatches(readFileSync(path)), [], 'right after the rewrite');
      // Later flushes refresh the checks of the moved series (one segment of a wide series).
      for (let round = 0; round < 5; round++) {
        kept[round % 3]!.add(round * 50, 1);
        await turn();
        assert.deepEqual(mismatches(readFileSync(path)), [], `after flush ${round}`);
      }
      assert.equal(seriesOf(readFileSync(path), 'wide_seconds').length, 3);
    } finally {
      store.close();
    }
  });

  it('a store file holds the right check for every series after every flush', () => {
    const store = new FileStore({ dir, compactDeadProcesses: false });
    const path = join(dir, store.fileName);
    try {
      const wide = [0, 1, 2].map((i) => store.series(WIDE, [String(i)]));
      const latency = store.series(LATENCY, []);
      const level = store.series(LEVEL, []);
      store.flush();
      const header = readHeader(readFileSync(path));
      assert.ok(!(header instanceof FormatProblem) && header.flags & FILE_FLAG_SERIES_CHECKS);
      for (let round = 0; round < 40; round++) {
        // Partial updates: a slot of one block of a wide series, a summary window slot, new
        // series (the file grows past its first 4 KiB), counters sharing blocks.
        wide[round % 3]!.add((round * 37) % seriesSize(WIDE), round + 0.5);
        latency.add(round % seriesSize(LATENCY), 1);
        store.series(JOBS, [`k${round}`]).add(0, round);
        if (round % 4 === 0) store.series(JOBS, ['k0']).add(0, 1);
        // Changes that compare equal as numbers still change the bytes: 0 / -0, NaN / NaN.
        level.set(0, [0, -0, Number.NaN, -0, 0][round % 5]!);
        store.flush();
        assert.deepEqual(mismatches(readFileSync(path)), [], `after flush ${round}`);
      }
      assert.ok(readFileSync(path).length > 4096 * 8, 'the file grew');
    } finally {
      store.close();
    }
  });

  it('an archive holds the right check for every series', () => {
    const cells = new Float64Array(seriesSize(WIDE)).map((_, i) => i * 1.5);
    const image = encodeArchive(
      {
        families: [
          { descriptor: WIDE, bornMs: 0, series: [{ labelValues: ['a'], cells }] },
          {
            descriptor: JOBS,
            bornMs: 0,
            series: [{ labelValues: ['x'], cells: Float64Array.of(7) }],
          },
        ],
        absorbed: [],
      },
      { pid: 1, startTime: 1, token: '00'.repeat(16) },
      0,
    );
    const header = readHeader(image);
    assert.ok(!(header instanceof FormatProblem) && header.flags & FILE_FLAG_SERIES_CHECKS);
    assert.equal(seriesOf(image).length, 2);
    assert.deepEqual(mismatches(image), []);
  });
});

describe('series checks: readers', () => {
  let dir: string;
  let cleanup: () => void;
  let path: string;
  /** Byte offset of the slot of `jobs_total{kind="x"}` (7; `kind="y"` is 3). */
  let slot: number;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('promfork-check-'));
    const writer = new FileStore({ dir, compactDeadProcesses: false });
    writer.series(JOBS, ['x']).add(0, 7);
    writer.series(JOBS, ['y']).add(0, 3);
    writer.close();
    path = join(dir, writer.fileName);
    const x = seriesOf(new Uint8Array(readFileSync(path)), JOBS.name)[0]!;
    slot = x.start * 8;
  });
  afterEach(() => cleanup());

  /** Changes the slot of `kind="x"` on disk without updating its check (a torn state). */
  function corrupt(value: number): void {
    const bytes = readFileSync(path);
    bytes.writeDoubleLE(value, slot);
    writeFileSync(path, bytes);
  }

  function scraper(onError: (error: Error) => void = assert.fail): FileStore {
    return new FileStore({ dir, compactDeadProcesses: false, onError });
  }

  function jobs(store: FileStore): Record<string, number[]> {
    const all = flatten(store.collect(), false);
    const out: Record<string, number[]> = {};
    for (const [key, value] of Object.entries(all)) {
      if (key.startsWith('jobs_total') || key.startsWith(TORN_READS_METRIC.name)) out[key] = value;
    }
    return out;
  }

  it('a scrape with no earlier values leaves a series that stays torn out, unreported', () => {
    corrupt(99);
    const store = scraper();
    try {
      assert.deepEqual(jobs(store), {
        'jobs_total{kind=y}': [3],
        'promfork_store_torn_reads_total{outcome=skipped}': [1],
      });
    } finally {
      store.close();
    }
  });

  it('a scrape shows the previous values of a series that stays torn', () => {
    const store = scraper();
    try {
      assert.deepEqual(jobs(store), { 'jobs_total{kind=x}': [7], 'jobs_total{kind=y}': [3] });
      corrupt(99);
      assert.deepEqual(jobs(store), {
        'jobs_total{kind=x}': [7],
        'jobs_total{kind=y}': [3],
        'promfork_store_torn_reads_total{outcome=previous}': [1],
      });
      // Still torn: the previous values of the previous scrape (its fallback) again.
      assert.deepEqual(jobs(store)['jobs_total{kind=x}'], [7]);
    } finally {
      store.close();
    }
  });

  it('a reader of files no longer written takes a series that stays torn as read', () => {
    corrupt(99);
    const parsed = new StoreFileReader({ filesAreFinal: true }).read(dir, path.split('/').pop()!);
    assert.ok(!(parsed instanceof FormatProblem));
    assert.deepEqual(parsed.torn, { reread: 0, previous: 0, skipped: 0, as_read: 1 });
    const family = parsed.families.find((f) => f.descriptor.name === 'jobs_total')!;
    assert.deepEqual(
      Array.from(family.starts, (start) => family.data[start]),
      [99, 3],
    );
  });

  it('a series read torn is re-read from the file', () => {
    const fd = openSync(path, 'r');
    try {
      const bytes = new Uint8Array(readFileSync(path).length);
      readSync(fd, bytes, 0, bytes.length, 0);
      const [x] = seriesOf(bytes, JOBS.name);
      // The image read holds a value the file never had together with this check.
      new DataView(bytes.buffer).setFloat64(slot, 99, true);
      const verifier = new SeriesVerifier(fd, bytes, undefined, false, new WaitBudget());
      assert.equal(verifier.verify(x!.offset, x!.length, x!.start, x!.slotCount), true);
      assert.equal(new DataView(bytes.buffer).getFloat64(slot, true), 7);
      assert.deepEqual(verifier.torn, { reread: 1, previous: 0, skipped: 0, as_read: 0 });
    } finally {
      closeSync(fd);
    }
  });

  it('a file without the checks flag is read unchecked', () => {
    corrupt(99);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(bytes.readUInt32LE(H_FLAGS) & ~FILE_FLAG_SERIES_CHECKS, H_FLAGS);
    writeFileSync(path, bytes);
    const store = scraper();
    try {
      assert.deepEqual(jobs(store), { 'jobs_total{kind=x}': [99], 'jobs_total{kind=y}': [3] });
    } finally {
      store.close();
    }
  });
});

describe('series checks: compaction', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('promfork-check-')));
  afterEach(() => cleanup());

  it('folds a dead process whose series stays torn as read, into an archive that verifies', async () => {
    // Worker 4 counted work_total = 5 and ended; its file then holds 50 behind the check of 5
    // (a writer killed inside its write leaves such a file).
    const name = await addDeadFile(dir, 4);
    const path = join(dir, name);
    const bytes = readFileSync(path);
    const [work] = seriesOf(new Uint8Array(bytes), 'work_total');
    bytes.writeDoubleLE(50, work!.start * 8);
    writeFileSync(path, bytes);

    const look = new FileStore({ dir, compactDeadProcesses: false, onError: assert.fail });
    try {
      // A scrape has no earlier values of it: left out of this scrape, not reported.
      assert.equal(flatten(look.collect())['work_total{}'], undefined);
    } finally {
      look.close();
    }
    const store = new FileStore({ dir, onError: assert.fail }); // compacts at start
    try {
      assert.deepEqual(mismatches(readFileSync(join(dir, ARCHIVE_FILE_NAME))), []);
      assert.deepEqual(flatten(store.collect())['work_total{}'], [50]);
    } finally {
      store.close();
    }
  });
});
