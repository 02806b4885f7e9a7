/**
 * Native histograms: the buckets of known observations, resolution reduction at maxBuckets,
 * the zero bucket, option checks, and the text fallback (promtool clean).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, MemoryStore, Registry } from '../src/index.js';
import { nativeBucketIndex, nativeUpperBound } from '../src/native-histogram.js';
import {
  type CollectedFamily,
  histogramCountIndex,
  histogramNativeIndex,
  type Store,
} from '../src/store.js';
import { checkWithPromtool } from './helpers/promtool.js';
import { isolated, textBody } from './helpers.js';

/** The native snapshot of the only series of `name`. */
function nativeOf(families: readonly CollectedFamily[], name: string): unknown {
  const family = families.find((f) => f.descriptor.name === name);
  assert.ok(family !== undefined, `no family ${name}`);
  return family.series[0]?.native;
}

test('observations land in the buckets of the schema chosen from the bucket factor', () => {
  const { iso } = isolated();
  const h = new Histogram({ name: 'nh', help: 'h', nativeHistogram: true, ...iso });
  // Default factor 1.1: schema 3 (factor 2^(1/8) = 1.0905). 1 and 2 are bounds themselves.
  for (const v of [1, 1.1, 2, 0.5, 3, -1, 0, 1e-40]) h.observe(v);
  assert.deepEqual(nativeOf(iso.store.collect(), 'nh'), {
    schema: 3,
    zeroThreshold: 2 ** -128,
    zeroCount: 2, // 0 and 1e-40 (<= 2^-128)
    count: 8,
    sum: 1 + 1.1 + 2 + 0.5 + 3 - 1,
    positive: [
      [-8, 1], // 0.5 = 2^(-8/8)
      [0, 1], // 1
      [2, 1], // 2^(1/8) < 1.1 <= 2^(2/8)
      [8, 1], // 2
      [13, 1], // 2^(12/8) < 3 <= 2^(13/8)
    ],
    negative: [[0, 1]],
  });
});

test('a value on a bucket bound goes in that bucket at every schema', () => {
  for (let schema = -4; schema <= 8; schema++) {
    for (let index = -2000; index <= 2000; index += 3) {
      const bound = nativeUpperBound(index, schema);
      // Only normal numbers: below 2^-1022 a float has fewer bits than the bound needs.
      if (!(bound >= 2 ** -1022 && bound < 2 ** 1023)) continue;
      assert.equal(nativeBucketIndex(bound, schema), index, `bound ${index} at ${schema}`);
      const above = bound * (1 + 2 ** -52);
      assert.equal(nativeBucketIndex(above, schema), index + 1, `above ${index} at ${schema}`);
    }
  }
});

test('past maxBuckets the resolution is halved, buckets merged exactly', () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'nh',
    help: 'h',
    nativeHistogram: { bucketFactor: 2, maxBuckets: 4 },
    ...iso,
  });
  // Schema 0 (bucket i is (2^(i-1), 2^i]): 1, 3, 5, 16 fill buckets 0, 2, 3, 4; 100 (bucket 7)
  // is a fifth, so schema -1 (bucket i is (4^(i-1), 4^i]): 0, 1, 2, 2; then 100 in bucket 4.
  for (const v of [1, 3, 5, 16, 100]) h.observe(v);
  assert.deepEqual(nativeOf(iso.store.collect(), 'nh'), {
    schema: -1,
    zeroThreshold: 2 ** -128,
    zeroCount: 0,
    count: 5,
    sum: 125,
    positive: [
      [0, 1],
      [1, 1],
      [2, 2],
      [4, 1],
    ],
    negative: [],
  });
});

test('at schema -4 a full series widens its zero bucket instead', () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'nh',
    help: 'h',
    nativeHistogram: { bucketFactor: 65536, maxBuckets: 1 },
    ...iso,
  });
  h.observe(1); // bucket 0 at schema -4 (bound 16^0)
  h.observe(2 ** 40); // bucket 3 (16^2 < 2^40 <= 16^3): no room, bucket 0 joins the zero bucket
  assert.deepEqual(nativeOf(iso.store.collect(), 'nh'), {
    schema: -4,
    zeroThreshold: 1,
    zeroCount: 1,
    count: 2,
    sum: 1 + 2 ** 40,
    positive: [[3, 1]],
    negative: [],
  });
});

test('after the zero bucket widened, values within it go there, also from a bucket seen before', () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'nh',
    help: 'h',
    nativeHistogram: { bucketFactor: 65536, maxBuckets: 1 },
    ...iso,
  });
  h.observe(1); // bucket 0 at schema -4
  h.observe(1); // bucket 0 again: the position of its pair is known now
  h.observe(2 ** 40); // bucket 3: no room, bucket 0 joins the zero bucket (threshold 1)
  h.observe(1); // bucket 0 has no pair any more: the widened zero bucket takes it
  h.observe(-0.5);
  h.observe(2 ** 40);
  assert.deepEqual(nativeOf(iso.store.collect(), 'nh'), {
    schema: -4,
    zeroThreshold: 1,
    zeroCount: 4,
    count: 6,
    sum: 1 + 1 + 2 ** 40 + 1 - 0.5 + 2 ** 40,
    positive: [[3, 2]],
    negative: [],
  });
});

test('the zero bucket takes |v| <= zeroThreshold of both signs', () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'nh',
    help: 'h',
    nativeHistogram: { bucketFactor: 2, zeroThreshold: 0.5 },
    ...iso,
  });
  for (const v of [0.5, -0.5, 0.25, 0, 0.75, -0.75]) h.observe(v);
  assert.deepEqual(nativeOf(iso.store.collect(), 'nh'), {
    schema: 0,
    zeroThreshold: 0.5,
    zeroCount: 4,
    count: 6,
    sum: 0.25,
    positive: [[0, 1]],
    negative: [[0, 1]],
  });
});

test('classic buckets next to the native ones are kept and rendered', async () => {
  const { iso, registry } = isolated();
  const h = new Histogram({
    name: 'both',
    help: 'h',
    buckets: [1, 2],
    nativeHistogram: { bucketFactor: 2 },
    ...iso,
  });
  h.observe(1.5);
  assert.deepEqual(nativeOf(iso.store.collect(), 'both'), {
    schema: 0,
    zeroThreshold: 2 ** -128,
    zeroCount: 0,
    count: 1,
    sum: 1.5,
    positive: [[1, 1]],
    negative: [],
  });
  assert.match(await registry.metrics(), /both_bucket\{le="2"\} 1\n/);
});

test('a native-only histogram renders valid text and OpenMetrics: +Inf, _sum, _count', async (t) => {
  const registry = new Registry();
  const store = new MemoryStore();
  const h = new Histogram({
    name: 'native_only_seconds',
    help: 'Latency.',
    labelNames: ['route'],
    nativeHistogram: true,
    registers: [registry],
    store,
  });
  assert.deepEqual(h.buckets, []);
  h.observe({ route: '/a' }, 0.25);
  h.observe({ route: '/a' }, 0.5);
  const text = await registry.metrics();
  assert.equal(
    text,
    '# HELP native_only_seconds Latency.\n# TYPE native_only_seconds histogram\n' +
      'native_only_seconds_bucket{route="/a",le="+Inf"} 2\n' +
      'native_only_seconds_sum{route="/a"} 0.75\n' +
      'native_only_seconds_count{route="/a"} 2\n',
  );
  checkWithPromtool(t, text, 'prometheus');
  const om = await registry.scrape('application/openmetrics-text; version=1.0.0');
  assert.match(om.contentType, /openmetrics/);
  checkWithPromtool(t, textBody(om), 'openmetrics');
});

test('invalid native options are refused with PROMFORK_INVALID_OPTION', () => {
  const { iso } = isolated();
  for (const nativeHistogram of [
    'yes',
    { bucketFactor: 1 },
    { bucketFactor: Number.NaN },
    { maxBuckets: 0 },
    { maxBuckets: 1.5 },
    { maxBuckets: 5000 },
    { zeroThreshold: -1 },
    { zeroThreshold: Number.POSITIVE_INFINITY },
    { minResetDuration: 60 },
    { schema: 3 },
  ]) {
    assert.throws(
      () =>
        new Histogram({
          name: 'bad',
          help: 'h',
          nativeHistogram: nativeHistogram as never,
          ...iso,
        }),
      { code: 'PROMFORK_INVALID_OPTION' },
      JSON.stringify(nativeHistogram),
    );
  }
});

test('the schema follows client_golang from the bucket factor, clamped to -4..8', () => {
  const { iso } = isolated();
  const schemaOf = (bucketFactor: number): unknown => {
    const store = new MemoryStore();
    new Histogram({
      name: 'f',
      help: 'h',
      nativeHistogram: { bucketFactor },
      ...iso,
      store,
      registers: [],
    });
    return store.collect()[0]?.descriptor.native?.schema;
  };
  assert.deepEqual(
    [1.0001, 1.00271, 1.1, 1.09051, 1.5, 2, 4, 16, 65536, 1e300].map(schemaOf),
    [8, 8, 3, 3, 1, 0, -1, -2, -4, -4],
  );
});

test('observe returns on cells that drop writes (a closed store) instead of refitting forever', {
  timeout: 10_000,
}, () => {
  const inner = new MemoryStore();
  // Slots read as added, but `set` (what appends a pair and refits) is dropped.
  const store: Store = {
    kind: 'dropping',
    declare: (d) => inner.declare(d),
    series: (d, values) => {
      const cells = inner.series(d, values);
      return { add: (i, v) => cells.add(i, v), set: () => {}, get: (i) => cells.get(i) };
    },
    remove: (d, values) => inner.remove(d, values),
    reset: (d) => inner.reset(d),
    forget: (d) => inner.forget(d),
    collect: (filter) => inner.collect(filter),
    flush: () => {},
    close: () => {},
  };
  const h = new Histogram({
    name: 'nh',
    help: 'h',
    nativeHistogram: { bucketFactor: 2, maxBuckets: 1 },
    store,
    registers: [],
  });
  // One pair in use (slot 3 of the native region): the series is full, and no refit sticks.
  store.series(h.descriptor, []).add(histogramNativeIndex(0) + 3, 1);
  h.observe(4);
  assert.equal(inner.collect()[0]?.series[0]?.cells[histogramCountIndex(0)], 1);
});
