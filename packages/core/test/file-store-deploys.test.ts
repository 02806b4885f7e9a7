/**
 * Rolling deploys, with real processes: workers of an old and a new version of an application
 * share the directory and declare one metric differently. The newest definition (by the start
 * of the process that declared it) wins everywhere: whichever worker answers the scrape, and
 * in the archive however the compactions interleave. Data recorded under an older definition
 * never deletes newer data; histograms that differ only in their buckets keep every count.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { StoreError } from '../src/errors.js';
import { FILE_FLAG_ARCHIVE, H_FLAGS } from '../src/file-store/format.js';
import { ARCHIVE_FILE_NAME, FileStore } from '../src/file-store/index.js';
import { FileCells, ProcessFile } from '../src/file-store/process-file.js';
import { sketchQuantiles } from '../src/sketch.js';
import { SUMMARY_SKETCH } from '../src/store.js';
import type { MetricDescriptor, SummarySettings } from '../src/types.js';
import { compactor, listing, lookWithoutCompacting } from './compaction-helpers.js';
import { flatten, singleValue, tempDir, Worker } from './file-store-helpers.js';

const CONFLICTS = 'promfork_store_conflicts_total';

describe('rolling deploys', () => {
  const cleanups: (() => void)[] = [];
  const workers: Worker[] = [];
  function dirFor(): string {
    const { dir, cleanup } = tempDir('promfork-deploy-');
    cleanups.push(cleanup);
    return dir;
  }
  async function started(dir: string): Promise<Worker> {
    const worker = new Worker(dir);
    workers.push(worker);
    await worker.ready;
    return worker;
  }
  after(async () => {
    for (const w of workers) await w.kill();
    for (const c of cleanups) c();
  });

  it('keeps every count when an old worker is compacted after a new one (buckets changed)', async () => {
    const dir = dirFor();
    // The old version: buckets [1, 2]; 10 observations.
    const old = await started(dir);
    await old.run({
      op: 'observe',
      name: 'req_seconds',
      buckets: [1, 2],
      values: [0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 3, 3, 3],
    });
    // The new version, started later: buckets [1, 5]; one worker with 100 observations, one
    // that declared the metric and has observed nothing yet.
    const newer = await started(dir);
    const idle = await started(dir);
    await newer.run({
      op: 'observe',
      name: 'req_seconds',
      buckets: [1, 5],
      values: [...Array(50).fill(0.5), ...Array(30).fill(4), ...Array(20).fill(10)],
    });
    await idle.run({ op: 'observe', name: 'req_seconds', buckets: [1, 5], values: [] });

    // In the newest layout [1, 5] (not cumulative: le=1, le=5, +Inf, sum, count). The old
    // worker's (1, 2] bucket is carried into le=5, its +Inf into +Inf; sum and count exactly.
    const expected = { 'req_seconds{}': [54, 33, 23, 360.5, 110] };
    const everyView = async (step: string, scrapers: Worker[]): Promise<void> => {
      assert.deepEqual(lookWithoutCompacting(dir), expected, `${step}: neutral scrape`);
      for (const [i, w] of scrapers.entries()) {
        assert.deepEqual(await w.collect(), expected, `${step}: scrape by worker ${i}`);
      }
    };
    await everyView('all live', [old, newer, idle]);

    // A new worker exits and is compacted.
    await newer.stop();
    const first = await compactor(dir);
    assert.ok(first !== 'crashed');
    assert.equal(first.absorbed.length, 1);
    await everyView('new worker compacted', [old, idle]);

    // The old worker exits and is compacted into an archive holding the newer definition.
    await old.stop();
    const errors: Error[] = [];
    const scraper = new FileStore({ dir, onError: (e) => errors.push(e) });
    assert.deepEqual(flatten(scraper.collect()), expected, 'scrape that compacts the old worker');
    assert.equal(listing(dir).length, 3, 'archive, the idle worker and the scraper');
    assert.deepEqual(flatten(scraper.collect()), expected, 'scrape after');
    // Re-bucketing is no conflict: nothing was dropped, nothing to report.
    assert.deepEqual(errors, []);
    scraper.close();
    await everyView('old worker compacted', [idle]);
  });

  it('keeps summaries whole across new quantiles, and their sum and count across a new window', async () => {
    const dir = dirFor();
    const settings = (percentiles: number[], maxAgeSeconds: number): SummarySettings => ({
      percentiles,
      maxAgeSeconds,
      ageBuckets: 5,
    });
    const old = await started(dir);
    const first = Array.from({ length: 100 }, (_, i) => i + 1);
    await old.run({ op: 'summary', name: 'lat', settings: settings([0.5], 600), values: first });
    // The new version asks for another quantile: the sketch does not depend on it.
    const newer = await started(dir);
    const second = Array.from({ length: 100 }, (_, i) => i + 101);
    await newer.run({ op: 'summary', name: 'lat', settings: settings([0.9], 600), values: second });
    const view = (flat: Record<string, number[]>, window: SummarySettings) => {
      const cells = Float64Array.from(flat['lat{}'] ?? []);
      const [q] = sketchQuantiles([cells], SUMMARY_SKETCH, window, Date.now());
      return { sum: cells[0], count: cells[1], q: Math.round(q!) };
    };
    // 0.9-quantile of 1..200: the element of rank floor(0.9 * 199) = 179, i.e. 180 (the
    // sketch is within 1%).
    for (const flat of [lookWithoutCompacting(dir), await old.collect(), await newer.collect()]) {
      const seen = view(flat, settings([0.9], 600));
      assert.deepEqual({ sum: seen.sum, count: seen.count }, { sum: 20_100, count: 200 });
      assert.ok(Math.abs(seen.q - 180) <= 1.8, `quantile ${seen.q}`);
    }
    // A newer version shortens the window: sum and count are carried, the quantiles cover what
    // was recorded under the new window only.
    const newest = await started(dir);
    const third = Array(10).fill(1000) as number[];
    await newest.run({ op: 'summary', name: 'lat', settings: settings([0.9], 60), values: third });
    await newer.stop();
    assert.ok((await compactor(dir)) !== 'crashed');
    for (const flat of [lookWithoutCompacting(dir), await old.collect(), await newest.collect()]) {
      const seen = view(flat, settings([0.9], 60));
      assert.deepEqual({ sum: seen.sum, count: seen.count }, { sum: 30_100, count: 210 });
      // Over all 210 values it would be 189.
      assert.ok(Math.abs(seen.q - 1000) <= 10, `quantile ${seen.q}`);
    }
  });

  it('shows the newest definition whichever worker answers; reports and counts a conflict once', async () => {
    const dir = dirFor();
    const old = await started(dir);
    await old.run({ op: 'inc', name: 'jobs_total', labels: ['x'], times: 3, by: 1 });
    await old.run({ op: 'inc', name: 'kind_total', labels: [], times: 7, by: 1 });
    const newer = await started(dir);
    // Label names [l0] -> [l0, l1]; a counter that became a gauge.
    await newer.run({ op: 'inc', name: 'jobs_total', labels: ['x', 'y'], times: 5, by: 1 });
    await newer.run({ op: 'gauge', name: 'kind_total', mode: 'sum', value: 2, timestamp: 0 });

    const expected = { 'jobs_total{l0=x,l1=y}': [5], 'kind_total{}': [2, 0] };
    const errors: Error[] = [];
    const scraper = new FileStore({ dir, onError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) {
      const families = scraper.collect();
      assert.deepEqual(flatten(families), expected);
      // Two conflicts (two metrics of one file), each counted once however often it is met.
      assert.equal(singleValue(families, CONFLICTS), 2);
    }
    assert.deepEqual(
      errors.map((e) => (e as StoreError).code),
      ['PROMFORK_METRIC_CONFLICT', 'PROMFORK_METRIC_CONFLICT'],
    );
    const messages = errors.map((e) => e.message).join('\n');
    assert.match(messages, /labelNames \[l0\] vs \[l0,l1\]/);
    assert.match(messages, /type counter vs gauge/);

    // The old worker's own scrape shows the same series: its own older series are left out.
    assert.deepEqual(await old.collect(), expected);
    assert.deepEqual(await newer.collect(), expected);

    // The old worker dies and is compacted: its older series are dropped from the archive
    // (the conflict, already reported and counted by this process, is not reported again).
    await old.stop();
    const after = scraper.collect();
    assert.deepEqual(flatten(after), expected);
    assert.equal(errors.length, 2);
    // Each of the three processes counted the two conflicts once (the old worker's count is in
    // the archive now); this one did not count them again for the archive.
    assert.equal(singleValue(after, CONFLICTS), 6);
    scraper.close();
    await newer.stop();
    assert.deepEqual(lookWithoutCompacting(dir), expected);
  });

  it('takes the definitions of an archive written without their births as the oldest', async () => {
    const dir = dirFor();
    // An archive as compaction wrote it before births were recorded: the process file format
    // with the archive flag set and no `bornMs`; histogram [1, 5] holding 100 observations.
    const events = { failed() {}, recovered() {}, afterClose() {} };
    const file = ProcessFile.create(
      dir,
      { pid: 5_000_001, startTime: 1, token: 'a'.repeat(32) },
      events,
    );
    const d: MetricDescriptor = {
      name: 'req_seconds',
      help: 'req_seconds help',
      type: 'histogram',
      labelNames: [],
      buckets: [1, 5],
      mode: 'sum',
    };
    const cells = new FileCells(file, file.appendSeries(file.appendDescriptor(d), [], 5).word, 5);
    for (const [slot, value] of [50, 30, 20, 345, 100].entries()) cells.add(slot, value);
    file.close();
    const fd = openSync(join(dir, file.name), 'r+');
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(FILE_FLAG_ARCHIVE);
    writeSync(fd, flags, 0, 4, H_FLAGS);
    closeSync(fd);
    renameSync(join(dir, file.name), join(dir, ARCHIVE_FILE_NAME));
    // A worker started since, with buckets [1, 2] and 10 observations, has died.
    const worker = await started(dir);
    await worker.run({
      op: 'observe',
      name: 'req_seconds',
      buckets: [1, 2],
      values: [0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 3, 3, 3],
    });
    await worker.stop();
    // Its definition is the newest: the archive's counts are carried into [1, 2] (its (1, 5]
    // bucket, 30 observations, can only go to +Inf), none lost, before and after compaction.
    const expected = { 'req_seconds{}': [54, 3, 53, 360.5, 110] };
    assert.deepEqual(lookWithoutCompacting(dir), expected);
    const result = await compactor(dir);
    assert.ok(result !== 'crashed' && result.absorbed.length === 1);
    assert.deepEqual(lookWithoutCompacting(dir), expected);
  });

  it('names the difference of histograms whose buckets and label names both changed', () => {
    const dir = dirFor();
    const histogram = (labelNames: string[], buckets: number[]): MetricDescriptor => ({
      name: 'size_bytes',
      help: 'Sizes',
      type: 'histogram',
      labelNames,
      buckets,
      mode: 'sum',
    });
    const errors: Error[] = [];
    const old = new FileStore({ dir, onError: (e) => errors.push(e) });
    old.series(histogram([], [1, 2]), []).add(4, 1);
    old.flush();
    // The second store's file must be created in a later millisecond than the first's.
    const created = Date.now();
    while (Date.now() <= created) {
      // wait for the clock to move on
    }
    const newer = new FileStore({ dir, onError: (e) => errors.push(e) });
    newer.series(histogram(['a'], [1, 5]), ['v']).add(4, 2);
    newer.flush();
    const expected = { 'size_bytes{a=v}': [0, 0, 0, 0, 2] };
    assert.deepEqual(flatten(old.collect()), expected);
    assert.deepEqual(flatten(newer.collect()), expected);
    assert.equal(errors.length, 2);
    for (const error of errors) {
      assert.match(error.message, /labelNames \[\] vs \[a\], buckets \[1,2\] vs \[1,5\]/);
    }
    old.close();
    newer.close();
  });
});
