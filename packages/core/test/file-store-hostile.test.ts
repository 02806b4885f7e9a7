/**
 * Damaged and hostile store files, beyond the kinds file-store-format.test.ts covers (0 bytes,
 * header only, truncated mid-entry, random bytes, wrong magic, newer version):
 *
 * - files whose entries are well-formed but declare what the exposition cannot carry (a metric
 *   name with a space or newline, invalid or duplicate label names, `le` on a histogram,
 *   unsorted buckets, a lone surrogate in a label value or help text): skipped and counted,
 *   and the scrape stays a valid exposition (promtool);
 * - random damage (fast-check: bytes overwritten anywhere, file cut anywhere) to a healthy file
 *   holding every metric type: collect never throws, the exposition always parses;
 * - a header claiming 4 GiB (refused by the size limit before any read) or more than the file
 *   holds, a damaged archive, and non-regular files (a directory, a FIFO) under promfork
 *   names: skipped or ignored, the scrape never hangs.
 *
 * The number of damaged files tried is printed (`damaged files:`) for docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { formatText } from '../src/exposition/index.js';
import { FormatProblem, H_USED, MAX_FILE_SIZE } from '../src/file-store/format.js';
import { FileStore, LOCK_FILE_NAME, READ_ERRORS_METRIC } from '../src/file-store/index.js';
import { StoreFileReader } from '../src/file-store/reader.js';
import { Counter, Gauge, Histogram, type Registry, Summary } from '../src/index.js';
import { familyToMetricObject } from '../src/snapshot.js';
import type { CollectedFamily } from '../src/store.js';
import type { MetricDescriptor } from '../src/types.js';
import { flatten, singleValue, tempDir } from './file-store-helpers.js';
import { parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';

const FULL = process.env.PROMFORK_FULL === '1';
const DAMAGE_RUNS = FULL ? 3000 : 300;
const PROMTOOL_SAMPLE = FULL ? 40 : 8;

let damagedFiles = 0;
after(() => console.log(`damaged files: ${damagedFiles} tried, every scrape valid`));

/** Renders collected families as a scrape would (Prometheus text). */
function render(families: readonly CollectedFamily[]): string {
  return formatText(families.map((f) => familyToMetricObject(f, { nowMs: Date.now() })));
}

const counter = (name: string, labelNames: string[] = []): MetricDescriptor => ({
  name,
  help: 'h',
  type: 'counter',
  labelNames,
  buckets: [],
  mode: 'sum',
});

/**
 * Writes one process file declaring `descriptor` (bypassing the metric classes, as a damaged
 * or hand-made file would) with one series, and returns its bytes.
 */
function fileDeclaring(descriptor: MetricDescriptor, labelValues?: string[]): Buffer {
  const { dir, cleanup } = tempDir();
  try {
    const store = new FileStore({ dir, onError: () => {} });
    store.series(descriptor, labelValues ?? descriptor.labelNames.map((_, i) => `v${i}`)).add(0, 5);
    store.close();
    return readFileSync(join(dir, store.fileName));
  } finally {
    cleanup();
  }
}

describe('store files that declare what an exposition cannot carry', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  it('are skipped and counted; the scrape stays valid for promtool', (t) => {
    const hostile: Record<string, Buffer> = {
      'name with a space': fileDeclaring(counter('bad name_total')),
      'name with a newline': fileDeclaring(counter('x_total\n# TYPE y counter\ny 1')),
      'name with braces': fileDeclaring(counter('x{a="1"}')),
      'invalid label name': fileDeclaring(counter('a_total', ['a-b'])),
      'reserved label name': fileDeclaring(counter('b_total', ['__name__'])),
      'duplicate label names': fileDeclaring(counter('c_total', ['a', 'a'])),
      'le on a histogram': fileDeclaring({
        name: 'd_seconds',
        help: 'h',
        type: 'histogram',
        labelNames: ['le'],
        buckets: [1],
        mode: 'sum',
      }),
      'unsorted buckets': fileDeclaring({
        name: 'e_seconds',
        help: 'h',
        type: 'histogram',
        labelNames: [],
        buckets: [2, 1],
        mode: 'sum',
      }),
      'lone surrogate in a label value': fileDeclaring(counter('f_total', ['a']), ['x\uD800']),
      'lone surrogate in a help text': fileDeclaring({ ...counter('g_total'), help: 'x\uD800' }),
    };
    let pid = 910_000;
    for (const bytes of Object.values(hostile)) {
      writeFileSync(join(dir, `promfork-${++pid}-1.db`), bytes);
      damagedFiles++;
    }
    writeFileSync(join(dir, `promfork-${++pid}-1.db`), fileDeclaring(counter('good_total')));

    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    try {
      const families = store.collect();
      assert.deepEqual(flatten(families), { 'good_total{}': [5] });
      assert.equal(singleValue(families, READ_ERRORS_METRIC.name), Object.keys(hostile).length);
      assert.equal(errors.length, Object.keys(hostile).length);
      for (const e of errors)
        assert.equal((e as { code?: string }).code, 'PROMFORK_FILE_UNREADABLE');
      const text = render(families);
      parseExposition(text, 'prometheus');
      checkWithPromtool(t, text, 'prometheus');
    } finally {
      store.close();
    }
  });
});

describe('random damage to a healthy file (fast-check)', () => {
  it('collect never throws and the exposition always parses', (t) => {
    const { dir, cleanup } = tempDir();
    try {
      // A healthy file holding every metric type, written through the public API.
      const writer = new FileStore({ dir, onError: () => {} });
      const registers: Registry[] = [];
      const c = new Counter({
        name: 'jobs_total',
        help: 'j',
        labelNames: ['kind'],
        store: writer,
        registers,
      });
      const g = new Gauge({
        name: 'temp',
        help: 't',
        store: writer,
        registers,
        multiprocessMode: 'max',
      });
      const h = new Histogram({
        name: 'lat_seconds',
        help: 'l',
        buckets: [0.1, 1],
        store: writer,
        registers,
      });
      const s = new Summary({ name: 'size_bytes', help: 's', store: writer, registers });
      c.inc({ kind: 'a' }, 3);
      c.inc({ kind: 'b"\n\\' }, 4);
      g.set(21.5);
      for (const v of [0.05, 0.5, 5]) {
        h.observe(v);
        s.observe(v * 100);
      }
      writer.close();
      const healthy = readFileSync(join(dir, writer.fileName));
      rmSync(join(dir, writer.fileName));

      // Every damaged file carries a dead pid; a compacting reader would fold the ones that
      // still parse into the archive and unlink them under the test. Reading is what's tested.
      const reader = new FileStore({ dir, onError: () => {}, compactDeadProcesses: false });
      const forPromtool: string[] = [];
      let pid = 920_000;
      let skipped = 0;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(healthy.length - 1), fc.nat(255)), {
            minLength: 1,
            maxLength: 6,
          }),
          fc.option(fc.nat(healthy.length), { freq: 4 }),
          (writes, cut) => {
            const bytes = Buffer.from(healthy);
            for (const [at, value] of writes) bytes[at] = value;
            // A fresh name per case: the reader caches parsed entries per file.
            const name = join(dir, `promfork-${++pid}-1.db`);
            writeFileSync(name, cut === null ? bytes : bytes.subarray(0, cut));
            damagedFiles++;
            try {
              const before = singleValue(reader.collect(), READ_ERRORS_METRIC.name) ?? 0;
              const families = reader.collect();
              if ((singleValue(families, READ_ERRORS_METRIC.name) ?? 0) > before) skipped++;
              const text = render(families);
              parseExposition(text, 'prometheus');
              if (forPromtool.length < PROMTOOL_SAMPLE && families.length > 4)
                forPromtool.push(text);
            } finally {
              rmSync(name);
            }
          },
        ),
        { numRuns: DAMAGE_RUNS },
      );
      reader.close();
      assert.ok(skipped > 0, 'some damaged files were skipped');
      for (const text of forPromtool) {
        // The damage renames and retypes metrics at random (`jobF_total`, a counter without
        // `_total`): promtool's naming advice is expected; what must hold is that it parses.
        if (!checkWithPromtool(t, text, 'prometheus', { parseOnly: true })) break;
      }
    } finally {
      cleanup();
    }
  });
});

describe('other damage and non-files under promfork names', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  it('a header claiming 4 GiB is skipped before anything is read (beyond the size limit)', () => {
    const bytes = fileDeclaring(counter('x_total'));
    bytes.writeUInt32LE(0xffff_fff8, H_USED);
    writeFileSync(join(dir, 'promfork-930001-1.db'), bytes);
    damagedFiles++;
    const got = new StoreFileReader().read(dir, 'promfork-930001-1.db');
    assert.ok(got instanceof FormatProblem);
    assert.equal(got.kind, 'corrupt');
    assert.match(got.message, new RegExp(`at most ${MAX_FILE_SIZE}\\b`));
  });

  it('a header claiming more than the file holds (within the limit) is skipped as truncated', () => {
    const bytes = fileDeclaring(counter('x_total'));
    bytes.writeUInt32LE(MAX_FILE_SIZE, H_USED);
    writeFileSync(join(dir, 'promfork-930006-1.db'), bytes);
    damagedFiles++;
    const got = new StoreFileReader().read(dir, 'promfork-930006-1.db');
    assert.ok(got instanceof FormatProblem);
    assert.equal(got.kind, 'truncated');
    assert.match(got.message, new RegExp(`only ${bytes.length}\\b`));
  });

  it('a damaged archive is skipped and counted; live files still merge', () => {
    writeFileSync(join(dir, 'promfork-archive.db'), randomBytes(500));
    writeFileSync(join(dir, 'promfork-930002-1.db'), fileDeclaring(counter('good_total')));
    damagedFiles++;
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    try {
      const families = store.collect();
      assert.deepEqual(flatten(families), { 'good_total{}': [5] });
      assert.equal(singleValue(families, READ_ERRORS_METRIC.name), 1);
      assert.match(errors[0]?.message ?? '', /promfork-archive\.db/);
    } finally {
      store.close();
    }
  });

  it('a FIFO put in place of a store file or the lock after the listing never blocks a read', (t) => {
    // Listings keep regular files only; this is the name replaced after the listing. The reads
    // run in a child process with a time limit: a blocking open would hang forever otherwise.
    for (const name of ['promfork-930005-1.db', 'promfork-archive.db', LOCK_FILE_NAME]) {
      if (spawnSync('mkfifo', [join(dir, name)]).status !== 0) {
        t.skip('mkfifo unavailable');
        return;
      }
    }
    damagedFiles += 3;
    const module = (path: string): string => new URL(path, import.meta.url).href;
    const script = `
      const { StoreFileReader, readFileHeader } = await import(${JSON.stringify(module('../src/file-store/reader.js'))});
      const { readDirectoryView } = await import(${JSON.stringify(module('../src/file-store/directory-view.js'))});
      const { compactDirectory } = await import(${JSON.stringify(module('../src/file-store/compaction.js'))});
      const dir = ${JSON.stringify(dir)};
      const out = {
        read: new StoreFileReader().read(dir, 'promfork-930005-1.db').kind,
        header: readFileHeader(dir, 'promfork-930005-1.db').kind,
        archive: new StoreFileReader().read(dir, 'promfork-archive.db').kind,
        view: readDirectoryView(dir, new StoreFileReader(), 'none').files.length,
        compaction: compactDirectory(dir).busy,
      };
      process.stdout.write(JSON.stringify(out));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.signal, null, 'a read of a FIFO blocked (killed at the time limit)');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      // Refused as damaged (not a regular file, or unreadable by position): skipped, counted.
      read: 'corrupt',
      header: 'corrupt',
      archive: 'corrupt',
      view: 0,
      compaction: true, // the lock cannot be read, so it counts as held: nothing is touched
    });
  });

  it('a directory or a FIFO named like a store file is ignored and never blocks a scrape', (t) => {
    mkdirSync(join(dir, 'promfork-930003-1.db'));
    const fifo = spawnSync('mkfifo', [join(dir, 'promfork-930004-1.db')]);
    if (fifo.status !== 0) t.diagnostic('mkfifo unavailable: FIFO case not run');
    else damagedFiles++;
    damagedFiles++;
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    try {
      const families = store.collect();
      assert.equal(singleValue(families, 'promfork_store_files'), 1);
      assert.equal(singleValue(families, READ_ERRORS_METRIC.name), 0);
      assert.deepEqual(errors, []);
    } finally {
      store.close();
    }
  });
});
