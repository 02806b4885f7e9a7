/**
 * The file format from the reading side: every kind of damaged file is skipped, reported once
 * and counted, and the scrape still returns everything else.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MAX_SKIPPABLE_ENTRY } from '../src/file-store/bounded-read.js';
import {
  FORMAT_VERSION,
  FormatProblem,
  H_USED,
  H_VERSION,
  HEADER_SIZE,
  isStoreFileName,
  readHeader,
} from '../src/file-store/format.js';
import { FileStore, READ_ERRORS_METRIC } from '../src/file-store/index.js';
import { parseEntries, StoreFileReader } from '../src/file-store/reader.js';
import { counterOf, flatten, singleValue, tempDir } from './file-store-helpers.js';

const JOBS = counterOf('jobs_total', ['kind']);

/** A healthy file written by a real store: `jobs_total{kind=x}` = 7, with histogram entries. */
function healthyFile(): Buffer {
  const { dir, cleanup } = tempDir();
  try {
    const store = new FileStore({ dir });
    store.series(JOBS, ['x']).add(0, 7);
    store.close();
    return readFileSync(join(dir, store.fileName));
  } finally {
    cleanup();
  }
}

describe('store file names', () => {
  it('recognises process files and the archive, nothing else', () => {
    assert.equal(isStoreFileName('promfork-123-456.db'), true);
    assert.equal(isStoreFileName('promfork-123-456-2.db'), true);
    assert.equal(isStoreFileName('promfork-123-t0a1b2c3d.db'), true);
    assert.equal(isStoreFileName('promfork-archive.db'), true);
    for (const name of [
      'counter_123.db',
      'promfork-123-456.db.tmp',
      '.promfork-123-abc.tmp',
      'promfork-0-1.db',
      'promfork-../x.db',
      'promfork-1-2.DB',
    ]) {
      assert.equal(isStoreFileName(name), false, name);
    }
  });
});

describe('readHeader and parseEntries', () => {
  it('accepts a file written by the store and rejects each kind of damage', () => {
    const good = healthyFile();
    const header = readHeader(good);
    assert.ok(!(header instanceof FormatProblem));
    assert.equal(header.version, FORMAT_VERSION);
    const parsed = parseEntries('f', header, good);
    assert.ok(!(parsed instanceof FormatProblem));
    assert.deepEqual(
      parsed.families.map((f) => [
        f.descriptor.name,
        Array.from(f.starts, (start) => Array.from(f.data.subarray(start, start + 1))),
      ]),
      [
        ['promfork_store_read_errors_total', [[0]]],
        ['promfork_store_write_errors_total', [[0]]],
        ['jobs_total', [[7]]],
      ],
    );

    const kindOf = (bytes: Buffer): string => {
      const h = readHeader(bytes);
      if (h instanceof FormatProblem) return h.kind;
      const p = parseEntries('f', h, bytes);
      return p instanceof FormatProblem ? p.kind : 'ok';
    };
    assert.equal(kindOf(Buffer.alloc(0)), 'empty');
    assert.equal(kindOf(good.subarray(0, 40)), 'short');
    assert.equal(kindOf(good.subarray(0, HEADER_SIZE)), 'truncated');
    const used = good.readUInt32LE(H_USED);
    assert.equal(kindOf(good.subarray(0, used - 12)), 'truncated');
    const magic = Buffer.from(good);
    magic.write('NOTPROMF', 0, 'latin1');
    assert.equal(kindOf(magic), 'magic');
    const newer = Buffer.from(good);
    newer.writeUInt32LE(FORMAT_VERSION + 1, H_VERSION);
    assert.equal(kindOf(newer), 'version');
    // A corrupted entry length inside the used area.
    const badEntry = Buffer.from(good);
    badEntry.writeUInt32LE(12, HEADER_SIZE);
    assert.equal(kindOf(badEntry), 'corrupt');
    // Garbage in a descriptor's JSON.
    const badJson = Buffer.from(good);
    badJson.write('}}}}', HEADER_SIZE + 16, 'latin1');
    assert.equal(kindOf(badJson), 'corrupt');
    // A header whose used size covers only the header is a valid, empty file.
    const headerOnly = Buffer.from(good.subarray(0, HEADER_SIZE));
    headerOnly.writeUInt32LE(HEADER_SIZE, H_USED);
    assert.equal(kindOf(headerOnly), 'ok');
  });

  it('steps over entries of unknown kinds from 16 on (later optional additions); refuses 5..15', () => {
    const good = healthyFile();
    const withEntry = (kind: number, length = 24): Buffer => {
      const used = good.readUInt32LE(H_USED);
      const bytes = Buffer.alloc(Math.max(good.length, used + length));
      good.copy(bytes);
      bytes.writeUInt32LE(length, used);
      bytes[used + 4] = kind;
      bytes.fill(0xab, used + 8, used + length); // a payload this reader knows nothing of
      bytes.writeUInt32LE(used + length, H_USED);
      return bytes;
    };
    const jobs = (bytes: Buffer): unknown => {
      const header = readHeader(bytes);
      if (header instanceof FormatProblem) return header.kind;
      const parsed = parseEntries('f', header, bytes);
      if (parsed instanceof FormatProblem) return `${parsed.kind}: ${parsed.message}`;
      const family = parsed.families.find((f) => f.descriptor.name === 'jobs_total');
      return family && Array.from(family.starts, (start) => family.data[start]);
    };
    for (const kind of [16, 200, 255]) assert.deepEqual(jobs(withEntry(kind)), [7], `kind ${kind}`);
    assert.deepEqual(jobs(withEntry(200, MAX_SKIPPABLE_ENTRY)), [7]);
    assert.match(String(jobs(withEntry(200, MAX_SKIPPABLE_ENTRY + 8))), /exceeds the limit/);
    for (const kind of [5, 15]) {
      assert.match(String(jobs(withEntry(kind))), new RegExp(`unknown entry kind ${kind}`));
    }
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(i * 7);
      if (i % 2 === 0 && bytes.length >= 8) bytes.write('PROMFORK', 0, 'latin1');
      const h = readHeader(bytes);
      if (!(h instanceof FormatProblem)) parseEntries('f', h, bytes);
    }
  });

  it('attaches exemplars to their own series when earlier series of the family are left out', () => {
    const { dir, cleanup } = tempDir();
    try {
      const writer = new FileStore({ dir, compactDeadProcesses: false });
      const other = counterOf('other_total', ['kind']);
      for (const kind of ['a', 'b', 'c', 'd', 'e']) {
        writer.series(JOBS, [kind]).add(0, 1);
        writer.series(other, [kind]).add(0, 2);
      }
      const exemplar = (trace: string, timestamp: number) => ({
        labels: { trace_id: trace },
        value: 1,
        timestamp,
      });
      writer.exemplar(JOBS, ['b'], 0, exemplar('tb', 1));
      writer.exemplar(JOBS, ['d'], 0, exemplar('td', 2));
      writer.exemplar(other, ['e'], 0, exemplar('oe', 3));
      // Series before those with exemplars leave the family: their indices shift.
      writer.remove(JOBS, ['a']);
      writer.remove(JOBS, ['c']);
      writer.remove(other, ['b']);
      writer.flush();
      const reader = new FileStore({ dir, compactDeadProcesses: false });
      try {
        const traces = () =>
          Object.fromEntries(
            reader
              .collect()
              .filter((f) => !f.descriptor.name.startsWith('promfork_'))
              .flatMap((f) =>
                f.series.map((s) => [
                  `${f.descriptor.name}{${s.labelValues.join(',')}}`,
                  s.exemplars?.map((e) => e?.labels.trace_id ?? '-').join() ?? '-',
                ]),
              ),
          );
        const want = {
          'jobs_total{b}': 'tb',
          'jobs_total{d}': 'td',
          'jobs_total{e}': '-',
          'other_total{a}': '-',
          'other_total{c}': '-',
          'other_total{d}': '-',
          'other_total{e}': 'oe',
        };
        assert.deepEqual(traces(), want);
        // Again from the parsed entries the reader keeps.
        assert.deepEqual(traces(), want);
      } finally {
        reader.close();
        writer.close();
      }
    } finally {
      cleanup();
    }
  });

  it('parses each entry once and reuses it on later reads until the file is replaced', () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = new FileStore({ dir });
      const cells = store.series(JOBS, ['x']);
      cells.add(0, 1);
      store.flush();
      const reader = new StoreFileReader();
      const seriesOf = (): { series: object; cells: Float64Array } => {
        // As between two scrapes: the key texts of the last one are dropped, so an entry parsed
        // again gets a new one, and a series keeps its key text only from the cache.
        reader.retain(new Set([store.fileName]));
        const parsed = reader.read(dir, store.fileName);
        assert.ok(!(parsed instanceof FormatProblem));
        const family = parsed.families.find((f) => f.descriptor.name === 'jobs_total');
        const series = family!.series[0]!;
        const start = family!.starts[0]!;
        return { series, cells: family!.data.subarray(start, start + 1) };
      };
      const first = seriesOf();
      cells.add(0, 1);
      store.flush();
      const second = seriesOf();
      // Same parsed entry (from the cache), fresh values.
      assert.equal(second.series, first.series);
      assert.deepEqual(Array.from(second.cells), [2]);
      // A different file under the same name (another token) is parsed afresh.
      const replacement = healthyFile();
      writeFileSync(join(dir, store.fileName), replacement);
      const third = seriesOf();
      assert.notEqual(third.series, first.series);
      assert.deepEqual(Array.from(third.cells), [7]);
      store.close();
    } finally {
      cleanup();
    }
  });

  it('reports a file that vanished before it was read', () => {
    const { dir, cleanup } = tempDir();
    try {
      const got = new StoreFileReader().read(dir, 'promfork-1-1.db');
      assert.ok(got instanceof FormatProblem);
      assert.equal(got.kind, 'vanished');
    } finally {
      cleanup();
    }
  });
});

describe('FileStore.collect with damaged files', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  it('skips every damaged file, reports each once and counts every skip', () => {
    const good = healthyFile();
    const used = good.readUInt32LE(H_USED);
    const newer = Buffer.from(good);
    newer.writeUInt32LE(FORMAT_VERSION + 1, H_VERSION);
    const magic = Buffer.from(good);
    magic.write('XXXXXXXX', 0, 'latin1');
    const damaged: Record<string, Buffer> = {
      'promfork-900001-1.db': Buffer.alloc(0),
      'promfork-900002-1.db': good.subarray(0, HEADER_SIZE),
      'promfork-900003-1.db': good.subarray(0, used - 12),
      'promfork-900004-1.db': randomBytes(300),
      'promfork-900005-1.db': magic,
      'promfork-900006-1.db': newer,
    };
    for (const [name, bytes] of Object.entries(damaged)) writeFileSync(join(dir, name), bytes);
    // Not ours: ignored silently, never counted.
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'counter_123.db'), randomBytes(64));
    // A symlink with our name pattern is not a regular file: ignored.
    symlinkSync(join(dir, 'notes.txt'), join(dir, 'promfork-900007-1.db'));
    // One healthy file of a (dead) process.
    writeFileSync(join(dir, 'promfork-900008-1.db'), good);

    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    store.series(JOBS, ['x']).add(0, 1);
    const first = store.collect();
    assert.deepEqual(flatten(first), { 'jobs_total{kind=x}': [8] });
    assert.equal(singleValue(first, READ_ERRORS_METRIC.name), 6);
    assert.equal(singleValue(first, 'promfork_store_files'), 2);
    assert.equal(errors.length, 6);
    for (const e of errors) {
      assert.equal((e as { code?: string }).code, 'PROMFORK_FILE_UNREADABLE');
    }
    assert.deepEqual(errors.map((e) => /promfork-9000(\d\d)-1\.db/.exec(e.message)?.[1]).sort(), [
      '01',
      '02',
      '03',
      '04',
      '05',
      '06',
    ]);
    assert.match(errors[5]!.message, /format version 2/);

    // Second scrape: counted again, reported no more.
    const second = store.collect();
    assert.equal(singleValue(second, READ_ERRORS_METRIC.name), 12);
    assert.equal(errors.length, 6);
    store.close();
  });

  it('reads a file again once it is repaired, and forgets removed files', () => {
    const good = healthyFile();
    const store = new FileStore({ dir, onError: () => {} });
    const name = join(dir, 'promfork-900009-1.db');
    writeFileSync(name, good.subarray(0, 30));
    assert.deepEqual(flatten(store.collect()), {});
    writeFileSync(name, good);
    assert.deepEqual(flatten(store.collect()), { 'jobs_total{kind=x}': [7] });
    unlinkSync(name);
    assert.deepEqual(flatten(store.collect()), {});
    store.close();
  });
});
