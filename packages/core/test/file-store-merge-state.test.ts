/**
 * A long-lived scraping store keeps its merged series between scrapes and refills them in
 * place (merge-state.ts). Whatever changed in between, its scrape must equal what a fresh
 * store reading the same directory merges: values changed, series removed, files gone, a
 * gauge's extreme lowered, a filtered collect in between. Writers here are other stores of
 * this process (each has its own file, read from disk like another process's).
 */
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import {
  mergeSources,
  type Source,
  type SourceFamily,
  type SourceSeries,
} from '../src/file-store/merge.js';
import { MergeState } from '../src/file-store/merge-state.js';
import type { CollectedFamily } from '../src/store.js';
import type { MetricDescriptor } from '../src/types.js';
import { counterOf, flatten, tempDir } from './file-store-helpers.js';

const REQS = counterOf('reqs_total', ['route']);
const PEAK: MetricDescriptor = {
  name: 'peak_bytes',
  help: 'peak_bytes help',
  type: 'gauge',
  labelNames: [],
  buckets: [],
  mode: 'max',
};

/** The merged series as `[name{labels}, cells]` pairs in output order. */
function pairs(families: readonly CollectedFamily[]): [string, number[]][] {
  return Object.entries(flatten(families));
}

describe('FileStore scrapes across changes (merged series kept between scrapes)', () => {
  let dir: string;
  let cleanup: () => void;
  let stores: FileStore[];
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('promfork-merge-state-'));
    stores = [];
  });
  afterEach(() => {
    for (const store of stores) store.close();
    cleanup();
  });
  const open = (): FileStore => {
    const store = new FileStore({ dir, compactDeadProcesses: false });
    stores.push(store);
    return store;
  };
  /** What a store that never scraped before merges now. */
  const fresh = (): [string, number[]][] => {
    const store = new FileStore({ dir, compactDeadProcesses: false });
    try {
      return pairs(store.collect());
    } finally {
      store.close();
    }
  };

  it('shows changed values, and sums once per scrape however often it scrapes', () => {
    const [a, b, scraper] = [open(), open(), open()];
    a.series(REQS, ['/a']).add(0, 1);
    b.series(REQS, ['/a']).add(0, 2);
    a.flush();
    b.flush();
    assert.deepEqual(pairs(scraper.collect()), [['reqs_total{route=/a}', [3]]]);
    assert.deepEqual(pairs(scraper.collect()), [['reqs_total{route=/a}', [3]]]);
    b.series(REQS, ['/a']).add(0, 10);
    b.flush();
    assert.deepEqual(pairs(scraper.collect()), [['reqs_total{route=/a}', [13]]]);
  });

  it('takes a max gauge from this scrape only (a lowered peak shows)', () => {
    const [a, b, scraper] = [open(), open(), open()];
    a.series(PEAK, []).set(0, 5);
    b.series(PEAK, []).set(0, 3);
    a.flush();
    b.flush();
    assert.deepEqual(pairs(scraper.collect()), [['peak_bytes{}', [5, 0]]]);
    a.series(PEAK, []).set(0, 1);
    a.flush();
    assert.deepEqual(pairs(scraper.collect()), [['peak_bytes{}', [3, 0]]]);
  });

  it('drops a removed series and the series of a file that is gone', () => {
    const [a, b, scraper] = [open(), open(), open()];
    a.series(REQS, ['/a']).add(0, 1);
    a.series(REQS, ['/gone']).add(0, 1);
    b.series(REQS, ['/b']).add(0, 4);
    a.flush();
    b.flush();
    assert.equal(pairs(scraper.collect()).length, 3);
    a.remove(REQS, ['/gone']);
    a.flush();
    assert.deepEqual(pairs(scraper.collect()), fresh());
    assert.deepEqual(pairs(scraper.collect()).sort(), [
      ['reqs_total{route=/a}', [1]],
      ['reqs_total{route=/b}', [4]],
    ]);
    unlinkSync(join(dir, b.fileName));
    assert.deepEqual(pairs(scraper.collect()), [['reqs_total{route=/a}', [1]]]);
    a.forget(REQS);
    a.flush();
    assert.deepEqual(pairs(scraper.collect()), []);
  });

  it('keeps the order a fresh merge gives when a series comes back', () => {
    const [a, b, scraper] = [open(), open(), open()];
    for (const route of ['/1', '/2', '/3']) a.series(REQS, [route]).add(0, 1);
    b.series(REQS, ['/4']).add(0, 1);
    a.flush();
    b.flush();
    scraper.collect();
    a.remove(REQS, ['/1']);
    a.flush();
    scraper.collect();
    a.series(REQS, ['/1']).add(0, 7);
    a.flush();
    const warm = pairs(scraper.collect());
    assert.deepEqual(warm, fresh());
    // The writer lists /1 last now (it was created again after /2 and /3).
    const names = warm.map(([name]) => name);
    assert.ok(names.indexOf('reqs_total{route=/1}') > names.indexOf('reqs_total{route=/3}'));
  });

  it('lists the series of this scrape when as many are merged as before but others', () => {
    // A scrape that meets the same series in the same order hands out the list of the one
    // before (merge-state.ts): the same count of other series, or of the same ones in
    // another order, must not.
    const [a, scraper] = [open(), open()];
    a.series(REQS, ['/1']).add(0, 1);
    a.series(REQS, ['/2']).add(0, 2);
    a.flush();
    assert.deepEqual(pairs(scraper.collectForScrape()), [
      ['reqs_total{route=/1}', [1]],
      ['reqs_total{route=/2}', [2]],
    ]);
    a.remove(REQS, ['/1']);
    a.series(REQS, ['/3']).add(0, 3);
    a.flush();
    const replaced = pairs(scraper.collectForScrape());
    assert.deepEqual(replaced, fresh());
    assert.deepEqual(replaced, [
      ['reqs_total{route=/2}', [2]],
      ['reqs_total{route=/3}', [3]],
    ]);
    // The writer lists /2 last once it is created again.
    a.remove(REQS, ['/2']);
    a.series(REQS, ['/2']).add(0, 4);
    a.flush();
    const reordered = pairs(scraper.collectForScrape());
    assert.deepEqual(reordered, fresh());
    assert.deepEqual(reordered, [
      ['reqs_total{route=/3}', [3]],
      ['reqs_total{route=/2}', [4]],
    ]);
    assert.deepEqual(pairs(scraper.collectForScrape()), reordered);
  });

  it('is unaffected by a filtered collect between two full ones', () => {
    const [a, scraper] = [open(), open()];
    a.series(REQS, ['/a']).add(0, 2);
    a.series(PEAK, []).set(0, 9);
    a.flush();
    scraper.collect();
    a.series(REQS, ['/a']).add(0, 1);
    a.forget(PEAK);
    a.flush();
    assert.deepEqual(pairs(scraper.collect((name) => name === REQS.name)), [
      ['reqs_total{route=/a}', [3]],
    ]);
    assert.deepEqual(pairs(scraper.collect()), [['reqs_total{route=/a}', [3]]]);
    assert.deepEqual(pairs(scraper.collect()), fresh());
  });
});

describe('merge plans after a merge that threw partway (merge-state.ts)', () => {
  // A plan (the merged series each series of a source's family went to last round) is void
  // once a round dropped series of that family: a family whose merge threw partway leaves
  // the series after the throw unmerged, so the round drops them, while the plan stays in use
  // (that round used it). Followed again, it would fill a dropped series that no look-up by
  // key finds any more, and another source's series of that key would get a second one.
  const series = (route: string): SourceSeries => ({ labelValues: [route], key: `["${route}"]` });
  const family = (list: SourceSeries[], data: Float64Array): SourceFamily => ({
    descriptor: REQS,
    data,
    series: list,
    starts: list.map((_, i) => i),
  });
  const source = (file: string, families: SourceFamily[]): Source => ({
    file,
    pid: file,
    live: true,
    bornMs: 0,
    families,
  });
  /** Float64Array-like slots whose first read throws (a merge that fails at series 0). */
  const throwing = (values: number[]): Float64Array =>
    new Proxy(Float64Array.from(values), {
      get(target, property, receiver) {
        if (property === '0') throw new Error('unreadable slot');
        return Reflect.get(target, property, receiver);
      },
    });

  it('merges a key once after such a round, with every source of it', () => {
    const state = new MergeState();
    const failures: unknown[] = [];
    const problems = {
      conflict: () => assert.fail('no conflict'),
      failed: (_file: string, error: unknown) => failures.push(error),
    };
    const merge = (sources: Source[]): [string, number][] =>
      mergeSources(sources, () => true, 0, problems, state).flatMap((f) =>
        f.series.map((s): [string, number] => [s.labelValues[0] ?? '', s.cells[0] ?? 0]),
      );
    // The same series objects in every round, as a reader's cached entries are.
    const own = [series('/x'), series('/y')];
    assert.deepEqual(merge([source('a', [family(own, Float64Array.of(1, 2))])]), [
      ['/x', 1],
      ['/y', 2],
    ]);
    // Throws at /x: /y is not merged this round and is dropped.
    merge([source('a', [family(own, throwing([1, 2]))])]);
    assert.equal(failures.length, 1);
    const merged = merge([
      source('a', [family(own, Float64Array.of(1, 2))]),
      source('b', [family([series('/y')], Float64Array.of(10))]),
    ]);
    assert.deepEqual(merged, [
      ['/x', 1],
      ['/y', 12],
    ]);
  });
});
