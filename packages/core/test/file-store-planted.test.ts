/**
 * Planted files: a file in the directory that claims more than it holds, or more than the
 * limits of FORMAT.md ("Limits") allow, is skipped, reported once and counted, and costs a
 * scrape no more than its real data up to those limits; no exception escapes a scrape.
 *
 * Two real writer processes (forked) keep a counter and a histogram; each case plants one
 * hostile file beside them (hand-made, as an attacker would: the writer refuses to make
 * these) and scrapes three times through the registry's renderer. Every scrape must be a
 * valid exposition with the writers' exact counts, the planted file's metrics absent, the
 * problem counted on every scrape and reported once. Bounded work is observed through what
 * the reader says it refused (the limit named in the report), never through timing.
 *
 * Also: the limits hold where metrics are declared (typed errors), and a world-writable
 * directory without the sticky bit is reported once when a store starts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_BUCKETS } from '../src/buckets.js';
import {
  ExpositionBudget,
  MAX_EXPOSITION_BYTES,
  seriesTextEstimate,
} from '../src/file-store/exposition-budget.js';
import {
  ARCHIVE_FILE_NAME,
  DESCRIPTOR_HEAD,
  descriptorEntrySize,
  descriptorJson,
  ENTRY_HEAD,
  H_USED,
  HEADER_SIZE,
  KIND_DESCRIPTOR,
  KIND_SERIES,
  MAX_DESCRIPTOR_JSON_BYTES,
  MAX_FILE_SIZE,
  SERIES_HEAD,
  seriesEntrySize,
  seriesSlotsOffset,
  writeHeader,
} from '../src/file-store/format.js';
import { FileStore, READ_ERRORS_METRIC } from '../src/file-store/index.js';
import { mergeSources, type Source } from '../src/file-store/merge.js';
import { Counter, Histogram, type Registry, Summary } from '../src/index.js';
import { FamilyRenderer } from '../src/render.js';
import type { MetricDescriptor } from '../src/types.js';
import { MAX_LABEL_NAMES, MAX_PERCENTILES, MAX_SERIES_KEY_BYTES } from '../src/validation.js';
import { tempDir, Worker } from './file-store-helpers.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';

/** Pids no process has (above the usual pid_max): the planted files look dead, as an attacker's would. */
let nextPid = 4_190_000;

interface PlantedSeries {
  /** Index into the file's descriptors. */
  readonly descriptor: number;
  /** The key text as stored (a JSON array of label values). */
  readonly key: string;
  readonly slots: ArrayLike<number>;
}

/** A store file made by hand from descriptor JSON texts and series, its header covering it all. */
function plantedImage(descriptors: readonly string[], series: readonly PlantedSeries[]): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  const identity = { pid: nextPid++, startTime: 0, token: randomBytes(16).toString('hex') };
  writeHeader(header, identity, 0, Date.now());
  const entries: Buffer[] = [];
  const offsets: number[] = [];
  let offset = HEADER_SIZE;
  for (const json of descriptors) {
    const text = Buffer.from(json, 'utf8');
    const entry = Buffer.alloc(descriptorEntrySize(text.length));
    entry.writeUInt32LE(entry.length, 0);
    entry[4] = KIND_DESCRIPTOR;
    entry.writeUInt32LE(text.length, ENTRY_HEAD);
    text.copy(entry, DESCRIPTOR_HEAD);
    offsets.push(offset);
    offset += entry.length;
    entries.push(entry);
  }
  for (const s of series) {
    const key = Buffer.from(s.key, 'utf8');
    const entry = Buffer.alloc(seriesEntrySize(key.length, s.slots.length));
    entry.writeUInt32LE(entry.length, 0);
    entry[4] = KIND_SERIES;
    entry.writeUInt32LE(offsets[s.descriptor] as number, 8);
    entry.writeUInt32LE(s.slots.length, 12);
    entry.writeUInt32LE(key.length, 16);
    key.copy(entry, SERIES_HEAD);
    const at = seriesSlotsOffset(key.length);
    for (let i = 0; i < s.slots.length; i++) entry.writeDoubleLE(s.slots[i] as number, at + i * 8);
    offset += entry.length;
    entries.push(entry);
  }
  const image = Buffer.concat([header, ...entries]);
  image.writeUInt32LE(image.length, H_USED);
  return image;
}

/** A file with one metric and one series whose slots are all 0 but `slots[at] = value`. */
function oneMetric(descriptor: MetricDescriptor | string, slotCount: number, key = '[]'): Buffer {
  const slots = new Float64Array(slotCount);
  slots[0] = 5;
  const json = typeof descriptor === 'string' ? descriptor : descriptorJson(descriptor);
  return plantedImage([json], [{ descriptor: 0, key, slots }]);
}

const counter = (name: string, labelNames: string[] = []): MetricDescriptor => ({
  name,
  help: 'planted',
  type: 'counter',
  labelNames,
  buckets: [],
  mode: 'sum',
});

const summary = (
  name: string,
  percentiles: number[],
  maxAgeSeconds: number,
  ageBuckets: number,
): MetricDescriptor => ({
  name,
  help: 'planted',
  type: 'summary',
  labelNames: [],
  buckets: [],
  mode: 'sum',
  summary: { percentiles, maxAgeSeconds, ageBuckets },
});

/** Samples of `name` (sample name) in a parsed exposition. */
function samples(families: readonly ParsedFamily[], name: string): number[] {
  return families.flatMap((f) => f.samples.filter((s) => s.name === name).map((s) => s.value));
}

describe('planted files beside real writers', () => {
  const { dir, cleanup } = tempDir('promfork-planted-');
  const workers: Worker[] = [];
  const planted: string[] = [];

  before(async () => {
    workers.push(new Worker(dir), new Worker(dir));
    await Promise.all(workers.map((w) => w.ready));
    await workers[0]!.run({ op: 'inc', name: 'good_total', labels: [], times: 3, by: 1 });
    await workers[1]!.run({ op: 'inc', name: 'good_total', labels: [], times: 4, by: 1 });
    await workers[1]!.run({ op: 'observe', name: 'good_seconds', buckets: [1], values: [0.5, 2] });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    cleanup();
  });

  /** Puts `bytes` in the directory under a process file name; removed after the case. */
  function plant(bytes: Buffer): string {
    const name = `promfork-${nextPid++}-1.db`;
    writeFileSync(join(dir, name), bytes, { mode: 0o600 });
    planted.push(name);
    return name;
  }

  /**
   * Scrapes three times with a fresh store and the registry's renderer; checks every scrape
   * against the real writers' counts and the skipped file's report. Returns the reports.
   */
  function scrapeThrice(skipped: string, why: RegExp): Error[] {
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const renderer = new FamilyRenderer();
    try {
      for (let scrape = 1; scrape <= 3; scrape++) {
        const nowMs = Date.now();
        const items = store.collect().map((family) => ({ family, options: { nowMs } }));
        const families = parseExposition(renderer.render(items, 'prometheus'), 'prometheus');
        assert.deepEqual(samples(families, 'good_total'), [7]);
        assert.deepEqual(samples(families, 'good_seconds_bucket'), [1, 2]);
        assert.deepEqual(samples(families, 'good_seconds_count'), [2]);
        assert.deepEqual(samples(families, READ_ERRORS_METRIC.name), [scrape]);
        const names = families.map((f) => f.name).filter((n) => !n.startsWith('promfork_'));
        assert.deepEqual(names.sort(), ['good_seconds', 'good_total']);
      }
      assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
      const [error] = errors as [Error & { code?: string }];
      assert.equal(error.code, 'PROMFORK_FILE_UNREADABLE');
      assert.ok(error.message.includes(skipped), error.message);
      assert.match(error.message, why);
      return errors;
    } finally {
      store.close();
      rmSync(join(dir, store.fileName), { force: true });
      for (const name of planted.splice(0)) rmSync(join(dir, name), { force: true });
    }
  }

  it(`a summary declaring 100k percentiles (the issue's 9.5 s scrape) is skipped`, () => {
    // The issue's file: 4 MB, 100k percentiles, 170 series; rendering it blew V8's string limit.
    const percentiles = Array.from({ length: 100_000 }, (_, i) => i / 100_000);
    const d = descriptorJson(summary('planted_summary', percentiles, 0, 1));
    const series = Array.from({ length: 170 }, (_, i) => ({
      descriptor: 0,
      key: '[]',
      slots: Object.assign(new Float64Array(2012), { 1: i }),
    }));
    const name = plant(plantedImage([d], series));
    scrapeThrice(name, new RegExp(`JSON text at most ${MAX_DESCRIPTOR_JSON_BYTES} bytes`));
  });

  it(`a summary with more than ${MAX_PERCENTILES} percentiles in a short descriptor is skipped`, () => {
    const percentiles = Array.from({ length: 5000 }, (_, i) => i / 5000);
    const name = plant(oneMetric(summary('planted_summary', percentiles, 0, 1), 2012));
    scrapeThrice(name, /not a valid metric description/);
  });

  it(`a histogram with more than ${MAX_BUCKETS} buckets is skipped`, () => {
    const buckets = Array.from({ length: 5000 }, (_, i) => i + 1);
    const d: MetricDescriptor = { ...counter('planted_seconds'), type: 'histogram', buckets };
    const name = plant(oneMetric(d, buckets.length + 3));
    scrapeThrice(name, /not a valid metric description/);
  });

  it(`a metric with more than ${MAX_LABEL_NAMES} label names is skipped`, () => {
    const labels = Array.from({ length: 200 }, (_, i) => `l${i}`);
    const key = JSON.stringify(labels.map(() => 'v'));
    const name = plant(oneMetric(counter('planted_total', labels), 1, key));
    scrapeThrice(name, /not a valid metric description/);
  });

  it('a sparse file whose header claims 1 GiB is refused before anything is read', () => {
    // 1 GiB of zeros cost every scrape 4-7 s and 1-2 GB of memory; the claim alone refuses it.
    const image = oneMetric(counter('planted_total'), 1);
    image.writeUInt32LE(1024 ** 3, H_USED);
    const name = plant(image);
    truncateSync(join(dir, name), 1024 ** 3);
    scrapeThrice(name, new RegExp(`a store file holds at most ${MAX_FILE_SIZE}\\b`));
  });

  it('a sparse file within the size limit stops at its first empty entry', () => {
    const image = oneMetric(counter('planted_total'), 1);
    const real = image.length;
    image.writeUInt32LE(64 * 1024 ** 2, H_USED);
    const name = plant(image);
    truncateSync(join(dir, name), 64 * 1024 ** 2);
    scrapeThrice(name, new RegExp(`entry at byte ${real}: entry length 0 is invalid`));
  });

  it('a descriptor JSON text just over the limit is skipped; one at the limit is read', () => {
    // Help text filling the JSON to exactly the limit, then one byte more.
    const base = descriptorJson({ ...counter('near_limit_total'), help: '' });
    const fill = (extra: number) =>
      descriptorJson({
        ...counter('near_limit_total'),
        help: 'h'.repeat(MAX_DESCRIPTOR_JSON_BYTES - Buffer.byteLength(base) + extra),
      });
    assert.equal(Buffer.byteLength(fill(0)), MAX_DESCRIPTOR_JSON_BYTES);
    const atLimit = plant(oneMetric(fill(0), 1));
    const over = plant(oneMetric(fill(1), 1));
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    try {
      const families = store.collect();
      const near = families.find((f) => f.descriptor.name === 'near_limit_total');
      assert.deepEqual(
        near?.series.map((s) => s.cells[0]),
        [5],
        'the file at the limit is read',
      );
      assert.equal(errors.length, 1);
      assert.ok(errors[0]?.message.includes(over));
      assert.ok(!errors[0]?.message.includes(atLimit));
    } finally {
      store.close();
      rmSync(join(dir, store.fileName), { force: true });
      // The readable file had a dead pid: compaction folded it into the archive.
      rmSync(join(dir, ARCHIVE_FILE_NAME), { force: true });
      for (const name of planted.splice(0)) rmSync(join(dir, name), { force: true });
    }
  });

  it('a series key over the limit is skipped', () => {
    const key = JSON.stringify(['x'.repeat(MAX_SERIES_KEY_BYTES)]);
    const name = plant(oneMetric(counter('planted_total', ['a']), 1, key));
    scrapeThrice(name, new RegExp(`key at most ${MAX_SERIES_KEY_BYTES} bytes`));
  });

  it('a file within every limit whose text would pass the scrape budget is skipped whole', () => {
    // 1000 buckets and a 64 KiB label value: 72 KiB on disk, 64 MiB of text per series. Six
    // such series (430 KB) would render 400 MB; nine passed V8's string limit (every scrape threw).
    const buckets = Array.from({ length: MAX_BUCKETS }, (_, i) => i + 1);
    const d: MetricDescriptor = { ...counter('wide_seconds', ['a']), type: 'histogram', buckets };
    const series = Array.from({ length: 6 }, (_, i) => ({
      descriptor: 0,
      key: JSON.stringify([`${i}${'x'.repeat(MAX_SERIES_KEY_BYTES - 16)}`]),
      slots: Object.assign(new Float64Array(MAX_BUCKETS + 3), { 0: 1 }),
    }));
    const name = plant(plantedImage([descriptorJson(d)], series));
    scrapeThrice(name, new RegExp(`past the scrape's limit of ${MAX_EXPOSITION_BYTES}\\b`));
  });

  it('a descriptor no summary could have (10,000 age buckets) is skipped instead of throwing', () => {
    // No series: nothing in the reader lays the metric out, so before the limits the first to
    // try was the merge, which threw out of collect() and failed every scrape.
    const d = descriptorJson(summary('planted_summary', [0.5], 600, 10_000));
    const name = plant(plantedImage([d], []));
    scrapeThrice(name, /not a valid metric description/);
  });
});

describe('the exposition budget of a scrape', () => {
  it('counts only new merged series, admits sources in order and skips one that passes it whole', () => {
    const d = counter('budget_total', ['a']);
    // Each series of `d` with a one-letter value is estimated at 86 characters.
    const source = (file: string, values: string[], value: number): Source => {
      const data = new Float64Array(values.length).fill(value);
      const series = values.map((v) => ({ labelValues: [v], key: JSON.stringify([v]) }));
      const starts = values.map((_, i) => i);
      return {
        file,
        pid: file,
        live: true,
        bornMs: 0,
        families: [{ descriptor: d, data, series, starts }],
      };
    };
    const own = source('own', ['a'], 1);
    const sources = [
      own,
      source('A', ['a', 'b'], 10), // fits even if all new: 86 + 172 <= 300
      source('B', ['a', 'b'], 100), // 172 + 172 > 300 if all new, but all are known
      source('C', ['a', 'b', 'c'], 1000), // one new series: 258 <= 300
      source('D', ['d', 'e'], 10_000), // two new: 430 > 300, skipped whole
      source('E', ['a'], 100_000), // known again: admitted after a skip
    ];
    const budget = new ExpositionBudget(own, 300);
    const merged = mergeSources(sources, () => true, Date.now(), {
      budget,
      conflict: () => assert.fail('no conflict'),
      failed: (_, error) => assert.fail(String(error)),
    });
    const values = Object.fromEntries(
      merged[0]?.series.map((s) => [s.labelValues[0], s.cells[0]]) ?? [],
    );
    assert.deepEqual(values, { a: 101_111, b: 1110, c: 1000 });
    assert.deepEqual(
      budget.skipped.map((s) => s.file),
      ['D'],
    );
    assert.equal(seriesTextEstimate(d, '["a"]'), 86);
  });

  it('counts exemplars: a source whose series are known but whose exemplars are long is skipped', () => {
    const d = counter('budget_total', ['a']);
    const long = { labels: { trace_id: 'x'.repeat(100) }, value: 1, timestamp: 1 };
    const source = (file: string, exemplar: typeof long | undefined): Source => {
      const series = { labelValues: ['a'], key: '["a"]' };
      return {
        file,
        pid: file,
        live: true,
        bornMs: 0,
        families: [
          {
            descriptor: d,
            data: new Float64Array([1]),
            series: [series],
            starts: [0],
            ...(exemplar === undefined ? {} : { exemplars: new Map([[0, [exemplar]]]) }),
          },
        ],
      };
    };
    const own = source('own', undefined);
    // 86 for the series; each exemplar 115 characters of label text plus 64.
    const budget = new ExpositionBudget(own, 300);
    const merged = mergeSources(
      [own, source('A', long), source('B', { ...long, timestamp: 2 })],
      () => true,
      Date.now(),
      {
        budget,
        conflict: () => assert.fail('no conflict'),
        failed: (_, error) => assert.fail(String(error)),
      },
    );
    assert.deepEqual(
      budget.skipped.map((s) => s.file),
      ['B'],
    );
    assert.equal(merged[0]?.series[0]?.cells[0], 2);
    assert.equal(merged[0]?.series[0]?.exemplars?.[0]?.timestamp, 1);
  });
});

describe('the limits where metrics are declared', () => {
  const registers: Registry[] = [];

  it('constructors refuse what a store file could not carry, with typed errors', () => {
    const { dir, cleanup } = tempDir();
    const store = new FileStore({ dir, onError: () => {} });
    try {
      assert.throws(
        () =>
          new Summary({
            name: 's',
            help: 'h',
            percentiles: Array.from({ length: MAX_PERCENTILES + 1 }, (_, i) => i / 1000),
            registers,
          }),
        { code: 'PROMFORK_INVALID_PERCENTILES' },
      );
      assert.throws(
        () =>
          new Histogram({
            name: 'h',
            help: 'h',
            buckets: Array.from({ length: MAX_BUCKETS + 1 }, (_, i) => i),
            registers,
          }),
        { code: 'PROMFORK_INVALID_BUCKETS' },
      );
      assert.throws(
        () =>
          new Counter({
            name: 'c',
            help: 'h',
            labelNames: Array.from({ length: MAX_LABEL_NAMES + 1 }, (_, i) => `l${i}`),
            registers,
          }),
        { code: 'PROMFORK_INVALID_OPTION', message: /at most 64/ },
      );
      assert.throws(() => new Counter({ name: 'd', help: 'h'.repeat(70_000), store, registers }), {
        code: 'PROMFORK_INVALID_OPTION',
        message: /at most 65536/,
      });
      const labelled = new Counter({ name: 'e', help: 'h', labelNames: ['a'], store, registers });
      assert.throws(() => labelled.inc({ a: 'x'.repeat(MAX_SERIES_KEY_BYTES) }), {
        code: 'PROMFORK_INVALID_LABEL_VALUE',
      });
      // At the limits, everything is accepted and readable by another process's store.
      labelled.inc({ a: 'x'.repeat(MAX_SERIES_KEY_BYTES - 6) });
      new Histogram({
        name: 'at_limit',
        help: 'h',
        buckets: Array.from({ length: MAX_BUCKETS }, (_, i) => i),
        store,
        registers,
      }).observe(1);
      store.flush();
      const reader = new FileStore({ dir, onError: (e) => assert.fail(e.message) });
      const names = reader.collect().map((f) => f.descriptor.name);
      reader.close();
      assert.ok(names.includes('e') && names.includes('at_limit'));
    } finally {
      store.close();
      cleanup();
    }
  });
});

describe('a world-writable directory', () => {
  it('without the sticky bit is reported once when a store starts; with it, not', () => {
    const { dir, cleanup } = tempDir();
    try {
      chmodSync(dir, 0o777);
      const errors: Error[] = [];
      const store = new FileStore({ dir, onError: (e) => errors.push(e) });
      store.collect();
      store.collect();
      store.close();
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as { code?: string }).code, 'PROMFORK_DIRECTORY_INSECURE');
      assert.match(errors[0]?.message ?? '', /mode 777/);

      chmodSync(dir, 0o1777);
      const quiet: Error[] = [];
      new FileStore({ dir, onError: (e) => quiet.push(e) }).close();
      chmodSync(dir, 0o700);
      new FileStore({ dir, onError: (e) => quiet.push(e) }).close();
      assert.deepEqual(quiet, []);
    } finally {
      cleanup();
    }
  });
});
