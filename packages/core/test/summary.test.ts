import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeValue } from '../src/errors.js';
import { InvalidOptionError, MemoryStore, Registry, type Store, Summary } from '../src/index.js';
import { isolated, samples } from './helpers.js';

test('summary reports quantiles (within the sketch error), sum and count', async () => {
  const { iso } = isolated();
  const s = new Summary({
    name: 'size_bytes',
    help: 'h',
    labelNames: ['m'],
    percentiles: [0.5, 0.9, 0.99],
    ...iso,
  });
  for (let i = 1; i <= 1000; i++) s.observe({ m: 'GET' }, i);
  const got = samples(await s.get());
  assert.deepEqual(
    got.map(([name, labels]) => [name, labels]),
    [
      ['size_bytes', { m: 'GET', quantile: 0.5 }],
      ['size_bytes', { m: 'GET', quantile: 0.9 }],
      ['size_bytes', { m: 'GET', quantile: 0.99 }],
      ['size_bytes_sum', { m: 'GET' }],
      ['size_bytes_count', { m: 'GET' }],
    ],
  );
  const exact = [500, 900, 990];
  exact.forEach((want, i) => {
    const value = got[i]?.[2] ?? Number.NaN;
    assert.ok(
      Math.abs(value - want) <= want * 0.02,
      `quantile ${i}: ${value} is not within 2% of ${want}`,
    );
  });
  assert.equal(got[3]?.[2], 500500);
  assert.equal(got[4]?.[2], 1000);
});

test('an empty summary reports NaN quantiles and zero sum and count', async () => {
  const { iso } = isolated();
  const s = new Summary({
    name: 'empty_s',
    help: 'h',
    percentiles: [0.5],
    maxAgeSeconds: 60,
    ageBuckets: 3,
    ...iso,
  });
  const got = samples(await s.get());
  assert.equal(got.length, 3);
  assert.ok(Number.isNaN(got[0]?.[2]));
  assert.deepEqual(got.slice(1), [
    ['empty_s_sum', {}, 0],
    ['empty_s_count', {}, 0],
  ]);
});

test('child observe, startTimer and prom-client options', async () => {
  const { iso } = isolated();
  const s = new Summary({
    name: 'timed_s',
    help: 'h',
    labelNames: ['a'],
    percentiles: [0.5],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    pruneAgedBuckets: false,
    compressCount: 1000,
    ...iso,
  });
  s.labels('x').observe(4);
  const seconds = s.startTimer({ a: 'x' })();
  s.labels({ a: 'x' }).startTimer()();
  const count = (await s.get()).values.find((v) => v.metricName === 'timed_s_count');
  assert.equal(count?.value, 3);
  assert.ok(seconds >= 0);
});

test('summary options are validated', () => {
  const { iso } = isolated();
  for (const percentiles of [[1.5], [-0.1], ['0.5'], 0.5]) {
    assert.throws(
      () => new Summary({ name: 'bad_s', help: 'h', percentiles: percentiles as number[], ...iso }),
      {
        code: 'PROMFORK_INVALID_PERCENTILES',
      },
    );
  }
  assert.throws(() => new Summary({ name: 'bad_s', help: 'h', maxAgeSeconds: -1, ...iso }), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  assert.throws(
    () => new Summary({ name: 'bad_s', help: 'h', maxAgeSeconds: 60, ageBuckets: 0, ...iso }),
    {
      code: 'PROMFORK_INVALID_OPTION',
    },
  );
  assert.throws(() => new Summary({ name: 'bad_s', help: 'h', labelNames: ['quantile'], ...iso }), {
    code: 'PROMFORK_RESERVED_LABEL',
  });
  assert.throws(() => new Summary({ name: 'bad_s', help: 'h', buckets: [1], ...iso } as never), {
    code: 'PROMFORK_UNKNOWN_OPTION',
  });
  const s = new Summary({ name: 'ok_s', help: 'h', ...iso });
  assert.throws(() => s.observe(Number.NaN), { code: 'PROMFORK_INVALID_VALUE' });
});

test('the constructor rejects every ageBuckets the sketch would reject, before the store sees it', () => {
  const declared: string[] = [];
  const inner = new MemoryStore();
  // A store that records declarations: a rejected summary must leave nothing behind in it.
  const store: Store = {
    kind: 'spy',
    declare: (d) => {
      declared.push(d.name);
      inner.declare(d);
    },
    series: (d, v) => inner.series(d, v),
    remove: (d, v) => inner.remove(d, v),
    reset: (d) => inner.reset(d),
    forget: (d) => inner.forget(d),
    collect: (f) => inner.collect(f),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  const registry = new Registry();
  const cases: [number | undefined, unknown][] = [
    [60, 1001],
    [60, 5000],
    [undefined, 1001], // unused without maxAgeSeconds, but still not a value the sketch takes
    [60, 0],
    [60, 2.5],
    [60, '5'],
  ];
  for (const [maxAgeSeconds, ageBuckets] of cases) {
    assert.throws(
      () =>
        new Summary({
          name: 'bad_age_buckets',
          help: 'h',
          maxAgeSeconds,
          ageBuckets: ageBuckets as number,
          labelNames: ['a'],
          registers: [registry],
          store,
        }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.equal(error.code, 'PROMFORK_INVALID_OPTION');
        assert.match(error.message, /^new Summary\(\): invalid option "ageBuckets" /);
        assert.ok(error.message.includes(describeValue(ageBuckets)), error.message);
        assert.match(error.message, /expected an integer from 1 to 1000$/);
        return true;
      },
    );
  }
  assert.deepEqual(declared, []);
  assert.equal(registry.getSingleMetric('bad_age_buckets'), undefined);
  // The bounds themselves are accepted and work.
  const s = new Summary({
    name: 'edge_age_buckets',
    help: 'h',
    maxAgeSeconds: 1000,
    ageBuckets: 1000,
    percentiles: [0.5],
    registers: [registry],
    store,
  });
  s.observe(2);
  assert.deepEqual(declared, ['edge_age_buckets']);
});

test('the constructor rejects a sliding window too short to rotate (windows under 1 ms)', async () => {
  const { registry, iso } = isolated();
  for (const [maxAgeSeconds, ageBuckets] of [
    [1e-7, 5],
    [0.004, 5],
    [Number.MIN_VALUE, 1],
  ] as const) {
    assert.throws(
      () => new Summary({ name: 'short_s', help: 'h', maxAgeSeconds, ageBuckets, ...iso }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.equal(error.code, 'PROMFORK_INVALID_OPTION');
        assert.ok(error.message.includes(`"maxAgeSeconds" ${describeValue(maxAgeSeconds)}`));
        assert.ok(error.message.includes(`at least ${ageBuckets / 1000} seconds`), error.message);
        return true;
      },
    );
  }
  // The shortest accepted window still reports its quantiles.
  const s = new Summary({
    name: 'short_ok_s',
    help: 'h',
    maxAgeSeconds: 60,
    ageBuckets: 1000,
    percentiles: [0.5],
    ...iso,
  });
  const tiny = new Summary({
    name: 'tiny_ok_s',
    help: 'h',
    maxAgeSeconds: 0.005,
    ageBuckets: 5,
    percentiles: [0.5],
    ...iso,
  });
  s.observe(10);
  tiny.observe(10);
  assert.match(await registry.metrics(), /^short_ok_s\{quantile="0\.5"\} 10\.0/m);
});
