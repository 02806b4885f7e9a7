/**
 * Native histograms through the FileStore with real processes: two forked workers whose series
 * reached different schemas merge at the coarser one, exactly; a SIGKILLed worker's native
 * buckets survive compaction into the archive; the merged text exposition stays promtool clean.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ARCHIVE_FILE_NAME, FileStore } from '../src/file-store/index.js';
import { Histogram, Registry } from '../src/index.js';
import { tempDir } from './file-store-helpers.js';
import { checkWithPromtool } from './helpers/promtool.js';

/** Forks the native worker; resolves once its observations are in its file. */
async function worker(
  dir: string,
  option: unknown,
  values: number[],
): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const script = fileURLToPath(new URL('./fixtures/native-worker.js', import.meta.url));
  const child = fork(script, [JSON.stringify(option), JSON.stringify(values)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PROMETHEUS_MULTIPROC_DIR: dir },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', () => reject(new Error('native worker exited before it was ready')));
  });
  return { child, exited };
}

const OPTION = { bucketFactor: 2, maxBuckets: 4 };
// Worker A stays at schema 0 (bucket i is (2^(i-1), 2^i]): zero bucket 1 (the 0), positive
// buckets 0, 1, 2 (1, 2, 4), negative bucket 2 (-3): four buckets, the limit.
const A = [0, 1, 2, 4, -3];
// Worker B: 1, 3, 5, 16 fill buckets 0, 2, 3, 4 at schema 0; 100 is a fifth, so schema -1
// (bucket i is (4^(i-1), 4^i]): 0, 1, 2, 2, then 100 in bucket 4.
const B = [1, 3, 5, 16, 100];
// Merged at schema -1: positive 0:2, 1:3 (A's 1 and 2), 2:2, 4:1 and negative 1:1 make five
// buckets, one too many, so schema -2 (bucket i is (16^(i-1), 16^i], i goes to ceil(i / 2)):
// positive 0:2, 1:5, 2:1 (the 100), negative 1:1.
const MERGED = {
  schema: -2,
  zeroThreshold: 2 ** -128,
  zeroCount: 1,
  count: 10,
  sum: 4 + 125,
  positive: [
    [0, 2],
    [1, 5],
    [2, 1],
  ],
  negative: [[1, 1]],
};

function nativeOf(store: FileStore): unknown {
  const family = store.collect().find((f) => f.descriptor.name === 'nh_seconds');
  return family?.series[0]?.native;
}

test('two processes at different schemas merge at the coarser one; compaction keeps a dead one', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const a = await worker(dir, OPTION, A);
  const b = await worker(dir, OPTION, B);
  t.after(() => {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  });
  const scraper = new FileStore({ dir });
  t.after(() => scraper.close());
  // Each worker on its own first: A at schema 0, B already reduced to -1.
  const own = (values: number[], schema: number): unknown => {
    const scratch = tempDir();
    t.after(scratch.cleanup);
    const store = new FileStore({ dir: scratch.dir });
    const h = new Histogram({
      name: 'x',
      help: 'h',
      nativeHistogram: OPTION,
      store,
      registers: [],
    });
    for (const v of values) h.observe(v);
    const snapshot = store.collect().find((f) => f.descriptor.name === 'x')?.series[0]?.native;
    store.close();
    assert.equal((snapshot as { schema: number }).schema, schema);
    return snapshot;
  };
  own(A, 0);
  own(B, -1);
  assert.deepEqual(nativeOf(scraper), MERGED);

  // B dies without a word; the next scrape folds its file into the archive.
  b.child.kill('SIGKILL');
  await b.exited;
  assert.deepEqual(nativeOf(scraper), MERGED);
  const names = readdirSync(dir);
  assert.ok(existsSync(join(dir, ARCHIVE_FILE_NAME)), `no archive in ${names.join(', ')}`);
  assert.equal(names.filter((n) => n.includes(`-${b.child.pid}-`)).length, 0, names.join(', '));
  // A fresh reader of the directory (the archive and A's file) sees the same.
  const fresh = new FileStore({ dir });
  assert.deepEqual(nativeOf(fresh), MERGED);

  // The merged text exposition of the native-only histogram: +Inf, _sum, _count, promtool clean.
  const registry = new Registry({ includeForeignFamilies: true });
  new Histogram({
    name: 'nh_seconds',
    help: 'Native',
    nativeHistogram: OPTION,
    store: fresh,
    registers: [registry],
  });
  const text = await registry.metrics();
  assert.match(text, /^nh_seconds_bucket\{le="\+Inf"\} 10$/m);
  assert.match(text, /^nh_seconds_count 10$/m);
  checkWithPromtool(t, text, 'prometheus');
  fresh.close();
});

test('a rolling deploy that changes the native option carries the buckets, no conflict', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // The old version: schema 0; 1, 2, 4 in buckets 0, 1, 2.
  const old = await worker(dir, { bucketFactor: 2 }, [1, 2, 4]);
  // The new version, started later: schema -1 (bucket i is (4^(i-1), 4^i]); 16 in bucket 2.
  const newer = await worker(dir, { bucketFactor: 4 }, [16]);
  t.after(() => {
    old.child.kill('SIGKILL');
    newer.child.kill('SIGKILL');
  });
  const scraper = new FileStore({ dir });
  t.after(() => scraper.close());
  const families = scraper.collect();
  // The old worker's buckets go to ceil(i / 2): 0, 1, 1.
  assert.deepEqual(families.find((f) => f.descriptor.name === 'nh_seconds')?.series[0]?.native, {
    schema: -1,
    zeroThreshold: 2 ** -128,
    zeroCount: 0,
    count: 4,
    sum: 23,
    positive: [
      [0, 1],
      [1, 2],
      [2, 1],
    ],
    negative: [],
  });
  assert.equal(
    families.find((f) => f.descriptor.name === 'promfork_store_conflicts_total'),
    undefined,
  );
});

test('a deploy that turns the native option on keeps count and native buckets equal', async (t) => {
  // Prometheus refuses a native histogram whose count is not its buckets' total, so the older
  // version's observations (classic buckets only) must be in the native buckets too.
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // The old version: no native option, default classic buckets (1, 2, 4 under le 1, 2.5, 5).
  const old = await worker(dir, false, [1, 2, 4]);
  // The new version, started later: native at schema 0 (bucket i is (2^(i-1), 2^i]).
  const newer = await worker(dir, { bucketFactor: 2 }, [16]);
  t.after(() => {
    old.child.kill('SIGKILL');
    newer.child.kill('SIGKILL');
  });
  const scraper = new FileStore({ dir });
  t.after(() => scraper.close());
  // Each old classic bucket lands in the native bucket holding its bound (as re-bucketing does,
  // never below an observation): le 1 -> 0, le 2.5 -> 2, le 5 -> 3.
  assert.deepEqual(nativeOf(scraper), {
    schema: 0,
    zeroThreshold: 2 ** -128,
    zeroCount: 0,
    count: 4,
    sum: 23,
    positive: [
      [0, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ],
    negative: [],
  });
});

test('a long-lived writer of a native histogram keeps a file of bounded size', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const store = new FileStore({ dir });
  t.after(() => store.close());
  const h = new Histogram({
    name: 'wide',
    help: 'h',
    labelNames: ['k'],
    nativeHistogram: { maxBuckets: 32 },
    store,
    registers: [],
  });
  h.observe({ k: 'a' }, 1);
  store.flush();
  const fileOf = (): string => {
    const name = readdirSync(dir).find((n) => n.endsWith('.db') && !n.includes('archive'));
    assert.ok(name !== undefined);
    return join(dir, name);
  };
  const sizeBefore = statSync(fileOf()).size;
  const usedBefore = readFileSync(fileOf()).readUInt32LE(16);
  // 200000 observations over 600 decades of both signs: thousands of distinct buckets.
  let seed = 1;
  for (let i = 0; i < 200_000; i++) {
    seed = (seed * 48271) % 2147483647;
    const magnitude = 10 ** ((seed / 2147483647) * 600 - 300);
    h.observe({ k: 'a' }, i % 2 === 0 ? magnitude : -magnitude);
  }
  store.flush();
  assert.equal(statSync(fileOf()).size, sizeBefore);
  assert.equal(readFileSync(fileOf()).readUInt32LE(16), usedBefore);
  const native = store.collect().find((f) => f.descriptor.name === 'wide')?.series[0]?.native;
  assert.ok(native !== undefined);
  assert.ok(native.positive.length + native.negative.length <= 32);
  assert.equal(
    native.zeroCount +
      [...native.positive, ...native.negative].reduce((sum, [, count]) => sum + count, 0),
    200_001,
  );
});

test('processes at the same schema merge bucket by bucket', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // Schema 0: 1, 2, 2, -4 and 0 | 2, 8, 8, -4 and 1e-300 (in the zero bucket with 0).
  const a = await worker(dir, { bucketFactor: 2 }, [1, 2, 2, -4, 0]);
  const b = await worker(dir, { bucketFactor: 2 }, [2, 8, 8, -4, 1e-300]);
  t.after(() => {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  });
  const scraper = new FileStore({ dir });
  t.after(() => scraper.close());
  assert.deepEqual(nativeOf(scraper), {
    schema: 0,
    zeroThreshold: 2 ** -128,
    zeroCount: 2,
    count: 10,
    sum: 1 + 2 + 2 - 4 + 2 + 8 + 8 - 4 + 1e-300,
    positive: [
      [0, 1],
      [1, 3],
      [3, 2],
    ],
    negative: [[2, 2]],
  });
});
