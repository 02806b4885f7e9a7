import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BUCKETS, exponentialBuckets, Histogram, linearBuckets } from '../src/index.js';
import { isolated, samples } from './helpers.js';

test('histogram buckets are cumulative with le last, +Inf, sum and count', async () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'lat',
    help: 'h',
    labelNames: ['m'],
    buckets: [0.1, 1, 5],
    ...iso,
  });
  for (const v of [0.05, 0.1, 0.5, 3, 7]) h.observe({ m: 'GET' }, v);
  h.labels('GET').observe(1);
  assert.deepEqual(samples(await h.get()), [
    ['lat_bucket', { m: 'GET', le: 0.1 }, 2],
    ['lat_bucket', { m: 'GET', le: 1 }, 4],
    ['lat_bucket', { m: 'GET', le: 5 }, 5],
    ['lat_bucket', { m: 'GET', le: '+Inf' }, 6],
    ['lat_sum', { m: 'GET' }, 11.65],
    ['lat_count', { m: 'GET' }, 6],
  ]);
  assert.deepEqual(Object.keys((await h.get()).values[0]?.labels ?? {}), ['m', 'le']);
});

test('many buckets use the same boundaries (value equal to a bound goes in that bucket)', async () => {
  const { iso } = isolated();
  const buckets = linearBuckets(1, 1, 40);
  const h = new Histogram({ name: 'many', help: 'h', buckets, ...iso });
  for (const v of [0, 1, 1.5, 20, 40, 41]) h.observe(v);
  const got = (await h.get()).values;
  const at = (le: number | string) => got.find((v) => v.labels.le === le)?.value;
  assert.deepEqual([at(1), at(2), at(19), at(20), at(40), at('+Inf')], [2, 3, 3, 4, 5, 6]);
});

test('default buckets are Prometheus defaults; the unlabelled series exists at 0', async () => {
  const { iso } = isolated();
  const h = new Histogram({ name: 'dflt', help: 'h', ...iso });
  assert.deepEqual(h.buckets, DEFAULT_BUCKETS);
  assert.equal((await h.get()).values.length, DEFAULT_BUCKETS.length + 3);
});

test('invalid buckets are rejected with PROMFORK_INVALID_BUCKETS', () => {
  const { iso } = isolated();
  for (const buckets of [[], [1, 1], [2, 1], [1, Number.POSITIVE_INFINITY], [Number.NaN], ['1']]) {
    assert.throws(
      () => new Histogram({ name: 'bad', help: 'h', buckets: buckets as number[], ...iso }),
      { code: 'PROMFORK_INVALID_BUCKETS' },
    );
  }
  assert.throws(() => new Histogram({ name: 'bad', help: 'h', labelNames: ['le'], ...iso }), {
    code: 'PROMFORK_RESERVED_LABEL',
  });
});

test('bucket generators match prom-client and validate', () => {
  assert.deepEqual(linearBuckets(0, 10, 3), [0, 10, 20]);
  assert.deepEqual(exponentialBuckets(1, 2, 4), [1, 2, 4, 8]);
  assert.throws(() => linearBuckets(0, 0, 3), { code: 'PROMFORK_INVALID_BUCKETS' });
  assert.throws(() => linearBuckets(0, 1, 0), { code: 'PROMFORK_INVALID_BUCKETS' });
  assert.throws(() => exponentialBuckets(0, 2, 3), { code: 'PROMFORK_INVALID_BUCKETS' });
  assert.throws(() => exponentialBuckets(1, 1, 3), { code: 'PROMFORK_INVALID_BUCKETS' });
});

test('observations must be finite', () => {
  const { iso } = isolated();
  const h = new Histogram({ name: 'fin', help: 'h', ...iso });
  for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, '1']) {
    assert.throws(() => h.observe(bad as number), { code: 'PROMFORK_INVALID_VALUE' });
  }
});

test('startTimer observes elapsed seconds with merged labels', async () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'timer',
    help: 'h',
    labelNames: ['a', 'b'],
    buckets: [100],
    ...iso,
  });
  const seconds = h.startTimer({ a: 'x' })({ b: 'y' });
  assert.ok(seconds >= 0 && seconds < 100);
  const child = h.labels('x', 'z').startTimer();
  child();
  const counts = (await h.get()).values.filter((v) => v.metricName === 'timer_count');
  assert.deepEqual(
    counts.map((v) => [v.labels, v.value]),
    [
      [{ a: 'x', b: 'y' }, 1],
      [{ a: 'x', b: 'z' }, 1],
    ],
  );
});

test('exemplars attach to the bucket the value fell in', async () => {
  const { iso } = isolated();
  const h = new Histogram({
    name: 'exh',
    help: 'h',
    buckets: [1, 2],
    enableExemplars: true,
    ...iso,
  });
  h.observe({ value: 1.5, exemplarLabels: { traceId: 't1' } });
  h.observe({ value: 9, exemplarLabels: { traceId: 't2' } });
  h.observe(0.5);
  const buckets = (await h.get()).values.filter((v) => v.metricName === 'exh_bucket');
  assert.deepEqual(
    buckets.map((v) => [v.labels.le, v.value, v.exemplar?.labels, v.exemplar?.value]),
    [
      [1, 1, undefined, undefined],
      [2, 2, { traceId: 't1' }, 1.5],
      ['+Inf', 3, { traceId: 't2' }, 9],
    ],
  );
});

test('zero() creates every bucket at 0', async () => {
  const { iso } = isolated();
  const h = new Histogram({ name: 'z', help: 'h', labelNames: ['a'], buckets: [1], ...iso });
  h.zero({ a: 'q' });
  assert.deepEqual(samples(await h.get()), [
    ['z_bucket', { a: 'q', le: 1 }, 0],
    ['z_bucket', { a: 'q', le: '+Inf' }, 0],
    ['z_sum', { a: 'q' }, 0],
    ['z_count', { a: 'q' }, 0],
  ]);
});
