/**
 * FileStore within one test process: options, directory safety, the write protocol as seen on
 * disk, removal, identity (faked pid reuse), and write failures.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidOptionError, StoreError } from '../src/errors.js';
import { H_USED } from '../src/file-store/format.js';
import { currentIdentity, LivenessChecker, parseProcStat } from '../src/file-store/identity.js';
import { FileStore, prepareDirectory, WRITE_ERRORS_METRIC } from '../src/file-store/index.js';
import { FileCells, ProcessFile } from '../src/file-store/process-file.js';
import type { MetricDescriptor } from '../src/types.js';
import { counterOf, flatten, singleValue, tempDir } from './file-store-helpers.js';

const REQS = counterOf('reqs_total', ['route']);

function gaugeOf(name: string, mode: MetricDescriptor['mode']): MetricDescriptor {
  return { name, help: `${name} help`, type: 'gauge', labelNames: [], buckets: [], mode };
}

describe('FileStore', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  it('rejects bad options with typed errors', () => {
    const cases: [unknown, string][] = [
      [undefined, 'PROMFORK_INVALID_OPTION'],
      [{}, 'PROMFORK_MISSING_OPTION'],
      [{ dir: 42 }, 'PROMFORK_INVALID_OPTION'],
      [{ dir: '' }, 'PROMFORK_INVALID_OPTION'],
      [{ dir, onError: 'log' }, 'PROMFORK_INVALID_OPTION'],
      [{ dir, flushEvery: 5 }, 'PROMFORK_UNKNOWN_OPTION'],
    ];
    for (const [options, code] of cases) {
      assert.throws(
        () => new FileStore(options as never),
        (e: unknown) => e instanceof InvalidOptionError && e.code === code,
        JSON.stringify(options),
      );
    }
  });

  it('creates the directory 0700 and one 0600 file per store, with no temp file left', () => {
    const nested = join(dir, 'a', 'b');
    const store = new FileStore({ dir: nested });
    assert.equal(statSync(nested).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(nested), [store.fileName]);
    assert.match(store.fileName, new RegExp(`^promfork-${process.pid}-\\d+\\.db$`));
    assert.equal(statSync(join(nested, store.fileName)).mode & 0o777, 0o600);
    // Many metrics still make one file.
    for (let i = 0; i < 20; i++) store.series(counterOf(`m${i}_total`), []).add(0, 1);
    store.flush();
    assert.deepEqual(readdirSync(nested), [store.fileName]);
    store.close();
  });

  it('refuses a directory that is a symlink, or a file, naming the path', () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    const link = join(dir, 'link');
    symlinkSync(real, link);
    assert.throws(
      () => new FileStore({ dir: link }),
      (e: unknown) =>
        e instanceof StoreError &&
        e.code === 'PROMFORK_DIRECTORY_UNUSABLE' &&
        e.message.includes(link) &&
        /symbolic link/.test(e.message),
    );
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    assert.throws(
      () => new FileStore({ dir: file }),
      (e: unknown) => e instanceof StoreError && e.message.includes(file),
    );
  });

  it('writes values at the end of the turn, entries before the header covers them', async () => {
    const store = new FileStore({ dir });
    const path = join(dir, store.fileName);
    const usedOnDisk = (): number => readFileSync(path).readUInt32LE(H_USED);
    const initialUsed = usedOnDisk();
    const cells = store.series(REQS, ['/a']);
    cells.add(0, 2);
    // Nothing reached the file yet: the flush runs at the end of this turn.
    assert.equal(usedOnDisk(), initialUsed);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(usedOnDisk() > initialUsed);
    const reader = new FileStore({ dir });
    assert.deepEqual(flatten(reader.collect()), { 'reqs_total{route=/a}': [2] });
    cells.add(0, 3);
    store.flush();
    assert.deepEqual(flatten(reader.collect()), { 'reqs_total{route=/a}': [5] });
    reader.close();
    store.close();
  });

  it('grows its file by doubling and stays readable', () => {
    const store = new FileStore({ dir });
    const path = join(dir, store.fileName);
    const initial = statSync(path).size;
    const d = counterOf('many_total', ['i']);
    for (let i = 0; i < 2000; i++) store.series(d, [`value-${i}`]).add(0, i);
    store.flush();
    const size = statSync(path).size;
    assert.ok(size > initial);
    assert.equal(Math.log2(size / initial) % 1, 0, `size ${size} is not ${initial} doubled`);
    const reader = new FileStore({ dir });
    const got = flatten(reader.collect());
    assert.equal(Object.keys(got).length, 2000);
    assert.ok(size > 64 * 1024);
    assert.deepEqual(got['many_total{i=value-1999}'], [1999]);
    // Updates far apart in a large file (written as separate runs) all arrive.
    store.series(d, ['value-0']).add(0, 1000);
    store.series(d, ['value-1000']).add(0, 1000);
    store.series(d, ['value-1999']).add(0, 1000);
    store.flush();
    const again = flatten(reader.collect());
    assert.deepEqual(
      [
        again['many_total{i=value-0}'],
        again['many_total{i=value-1000}'],
        again['many_total{i=value-1999}'],
      ],
      [[1000], [2000], [2999]],
    );
    reader.close();
    store.close();
  });

  it('remove, reset and forget reach other processes; new series start at zero', () => {
    const store = new FileStore({ dir });
    const reader = new FileStore({ dir });
    const a = store.series(REQS, ['/a']);
    a.add(0, 1);
    store.series(REQS, ['/b']).add(0, 2);
    store.flush();
    assert.deepEqual(flatten(reader.collect()), {
      'reqs_total{route=/a}': [1],
      'reqs_total{route=/b}': [2],
    });
    store.remove(REQS, ['/a']);
    store.flush();
    assert.deepEqual(flatten(reader.collect()), { 'reqs_total{route=/b}': [2] });
    const again = store.series(REQS, ['/a']);
    assert.notEqual(again, a);
    assert.equal(again.get(0), 0);
    again.add(0, 4);
    store.flush();
    assert.deepEqual(flatten(reader.collect()), {
      'reqs_total{route=/b}': [2],
      'reqs_total{route=/a}': [4],
    });
    store.reset(REQS);
    store.flush();
    assert.deepEqual(flatten(reader.collect()), {});
    assert.ok(reader.collect().some((f) => f.descriptor.name === 'reqs_total'));
    store.forget(REQS);
    store.flush();
    assert.ok(!reader.collect().some((f) => f.descriptor.name === 'reqs_total'));
    reader.close();
    store.close();
  });

  it('returns declared metrics without series and honours the filter', () => {
    const store = new FileStore({ dir });
    store.declare(REQS);
    store.declare(gaugeOf('temp', 'max'));
    const names = store.collect().map((f) => f.descriptor.name);
    assert.deepEqual(names, [
      'reqs_total',
      'temp',
      'promfork_store_read_errors_total',
      'promfork_store_write_errors_total',
      'promfork_store_files',
      'promfork_scrape_duration_seconds',
    ]);
    assert.deepEqual(
      store.collect((n) => n === 'temp').map((f) => f.descriptor.name),
      ['temp'],
    );
    store.close();
  });

  it('reports a conflicting declaration in another file once and skips its series', () => {
    const errors: Error[] = [];
    const a = new FileStore({ dir });
    a.series(counterOf('x_total'), []).add(0, 1);
    a.flush();
    const b = new FileStore({ dir, onError: (e) => errors.push(e) });
    b.series(gaugeOf('x_total', 'sum'), []).set(0, 10);
    assert.deepEqual(flatten(b.collect()), { 'x_total{}': [10, 0] });
    b.collect();
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as StoreError).code, 'PROMFORK_METRIC_CONFLICT');
    a.close();
    b.close();
  });

  it('treats a file whose pid is alive but whose start time differs as dead (pid reuse)', () => {
    const me = currentIdentity();
    const events = { failed() {}, recovered() {}, afterClose() {} };
    const reused = ProcessFile.create(
      dir,
      { ...me, startTime: me.startTime + 12345, token: '0'.repeat(32) },
      events,
    );
    const gone = ProcessFile.create(
      dir,
      { pid: 32767 + 1000, startTime: 1, token: '1'.repeat(32) },
      events,
    );
    const modes = ['sum', 'livesum', 'all', 'liveall'] as const;
    for (const file of [reused, gone]) {
      for (const mode of modes) {
        const d = gaugeOf(`g_${mode}`, mode);
        const cells = new FileCells(
          file,
          file.appendSeries(file.appendDescriptor(d), [], 2).word,
          2,
        );
        cells.set(0, 5);
      }
      file.flush();
    }
    const checker = new LivenessChecker();
    assert.equal(checker.isAlive(me), true);
    assert.equal(checker.isAlive({ pid: me.pid, startTime: me.startTime + 12345 }), false);
    // Without compaction, both dead files are read as they are: no live-mode gauge, `all`
    // series with their pids.
    const reader = new FileStore({ dir, compactDeadProcesses: false });
    assert.deepEqual(flatten(reader.collect()), {
      'g_sum{}': [10, 0],
      [`g_all{pid=${me.pid}}`]: [5, 0],
      [`g_all{pid=${32767 + 1000}}`]: [5, 0],
    });
    // A compacting store folds both into the archive: `sum` survives, `all` goes (compaction.ts).
    const scraper = new FileStore({ dir });
    assert.deepEqual(flatten(scraper.collect()), { 'g_sum{}': [10, 0] });
    assert.deepEqual(
      readdirSync(dir).sort(),
      [reader.fileName, scraper.fileName, 'promfork-archive.db'].sort(),
    );
    reused.close();
    gone.close();
    reader.close();
    scraper.close();
  });

  it('parses /proc stat lines whose command contains spaces and parentheses', () => {
    const line = '42 (my (odd) cmd) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0';
    assert.deepEqual(parseProcStat(line), { state: 'S', startTime: 987654 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('never throws on a failed write: reports once, counts, keeps values, resumes', () => {
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const cells = store.series(REQS, ['/x']);
    store.flush();
    // Fault injection: close the store's descriptor behind its back, so writes fail (EBADF).
    const file = (store as unknown as { file: { fd: number } }).file;
    const fd = file.fd;
    closeSync(fd);
    cells.add(0, 1);
    store.flush();
    cells.add(0, 1);
    store.flush();
    assert.equal(cells.get(0), 2);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as StoreError).code, 'PROMFORK_WRITE_FAILED');
    assert.equal(singleValue(store.collect(), WRITE_ERRORS_METRIC.name), 2);
    // Give the store a working descriptor again: the next flush writes everything kept.
    file.fd = openSync(join(dir, store.fileName), 'r+');
    store.flush();
    const reader = new FileStore({ dir });
    assert.deepEqual(flatten(reader.collect()), { 'reqs_total{route=/x}': [2] });
    assert.equal(singleValue(reader.collect(), WRITE_ERRORS_METRIC.name), 2);
    reader.close();
    store.close();
  });

  it('reports a write after close once and never throws', () => {
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const cells = store.series(REQS, ['/x']);
    store.close();
    cells.add(0, 1);
    cells.add(0, 1);
    assert.equal(cells.get(0), 2);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as StoreError).code, 'PROMFORK_STORE_CLOSED');
  });
});

describe('prepareDirectory', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  it('creates a missing directory 0700', () => {
    const target = join(dir, 'metrics');
    assert.equal(prepareDirectory({ dir: target }), target);
    assert.equal(statSync(target).mode & 0o777, 0o700);
  });

  it('removes only promfork files', () => {
    const store = new FileStore({ dir });
    store.close();
    writeFileSync(join(dir, 'promfork-archive.db'), 'x');
    writeFileSync(join(dir, '.promfork-1-abc.tmp'), 'x');
    writeFileSync(join(dir, 'keep.txt'), 'x');
    writeFileSync(join(dir, 'counter_1.db'), 'x');
    prepareDirectory({ dir });
    assert.deepEqual(readdirSync(dir).sort(), ['counter_1.db', 'keep.txt']);
  });

  it('uses PROMETHEUS_MULTIPROC_DIR and rejects bad options', () => {
    const saved = process.env.PROMETHEUS_MULTIPROC_DIR;
    try {
      process.env.PROMETHEUS_MULTIPROC_DIR = join(dir, 'env');
      assert.equal(prepareDirectory(), join(dir, 'env'));
      assert.ok(existsSync(join(dir, 'env')));
      // Without the variable it makes a private directory: missing-directory.test.ts, in a
      // process of its own (it sets the variable and removes the directory at exit).
    } finally {
      if (saved === undefined) delete process.env.PROMETHEUS_MULTIPROC_DIR;
      else process.env.PROMETHEUS_MULTIPROC_DIR = saved;
    }
    assert.throws(
      () => prepareDirectory({ dir, wipe: true } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
  });

  it('fails with PROMFORK_DIRECTORY_UNUSABLE naming the path when it is a file', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    assert.throws(
      () => prepareDirectory({ dir: file }),
      (e: unknown) =>
        e instanceof StoreError &&
        e.code === 'PROMFORK_DIRECTORY_UNUSABLE' &&
        e.message.includes(file) &&
        /not a directory/.test(e.message),
    );
  });
});
