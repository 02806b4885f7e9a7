import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNTER_VALUE, GAUGE_TIMESTAMP, Gauge, MemoryStore } from '../src/index.js';
import { isolated, samples } from './helpers.js';

test('gauge inc/dec/set by object, position and child', async () => {
  const { iso } = isolated();
  const g = new Gauge({ name: 'queue', help: 'h', labelNames: ['q'], ...iso });
  g.set({ q: 'a' }, 10);
  g.inc({ q: 'a' });
  g.inc({ q: 'a' }, 4);
  g.dec({ q: 'a' }, 2);
  g.dec({ q: 'a' });
  g.labels('b').set(-3);
  g.labels({ q: 'b' }).inc(0.5);
  assert.deepEqual(samples(await g.get()), [
    ['queue', { q: 'a' }, 12],
    ['queue', { q: 'b' }, -2.5],
  ]);
});

test('unlabelled gauge: setToCurrentTime sets seconds, startTimer sets the duration', async () => {
  const { iso } = isolated();
  const g = new Gauge({ name: 'g_now', help: 'h', ...iso });
  const before = Date.now() / 1000;
  g.setToCurrentTime();
  const now = (await g.get()).values[0]?.value ?? 0;
  assert.ok(now >= before && now <= Date.now() / 1000 + 1, `${now} is not the current time`);
  const end = g.startTimer();
  const seconds = end();
  assert.ok(seconds >= 0);
  assert.deepEqual(samples(await g.get()), [['g_now', {}, seconds]]);
});

test('startTimer merges start and end labels', async () => {
  const { iso } = isolated();
  const g = new Gauge({ name: 'g_timer', help: 'h', labelNames: ['a', 'b'], ...iso });
  const seconds = g.startTimer({ a: '1' })({ b: '2' });
  assert.deepEqual(samples(await g.get()), [['g_timer', { a: '1', b: '2' }, seconds]]);
});

test('gauges reject non-finite values', () => {
  const { iso } = isolated();
  const g = new Gauge({ name: 'g_bad', help: 'h', ...iso });
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '3']) {
    assert.throws(() => g.set(bad as number), { code: 'PROMFORK_INVALID_VALUE' });
    assert.throws(() => g.inc(bad as number), { code: 'PROMFORK_INVALID_VALUE' });
    assert.throws(() => g.dec(bad as number), { code: 'PROMFORK_INVALID_VALUE' });
  }
});

test('multiprocessMode defaults to all; aggregator maps onto it; pid is reserved', () => {
  const { iso } = isolated();
  assert.equal(new Gauge({ name: 'm1', help: 'h', ...iso }).multiprocessMode, 'all');
  assert.equal(
    new Gauge({ name: 'm2', help: 'h', aggregator: 'sum', ...iso }).multiprocessMode,
    'sum',
  );
  assert.equal(
    new Gauge({ name: 'm3', help: 'h', aggregator: 'first', ...iso }).multiprocessMode,
    'max',
  );
  assert.equal(
    new Gauge({ name: 'm4', help: 'h', aggregator: 'omit', ...iso }).multiprocessMode,
    'liveall',
  );
  const both = new Gauge({
    name: 'm5',
    help: 'h',
    aggregator: 'sum',
    multiprocessMode: 'livemax',
    ...iso,
  });
  assert.equal(both.multiprocessMode, 'livemax');
  assert.equal(both.descriptor.mode, 'livemax');
  assert.throws(
    () => new Gauge({ name: 'm6', help: 'h', multiprocessMode: 'avg' as never, ...iso }),
    {
      code: 'PROMFORK_INVALID_OPTION',
    },
  );
  assert.throws(() => new Gauge({ name: 'm7', help: 'h', labelNames: ['pid'], ...iso }), {
    code: 'PROMFORK_RESERVED_LABEL',
  });
});

test('thread is reserved on all and liveall gauges (the store labels worker threads with it)', () => {
  const { iso } = isolated();
  for (const multiprocessMode of ['all', 'liveall'] as const) {
    assert.throws(
      () =>
        new Gauge({
          name: `t_${multiprocessMode}`,
          help: 'h',
          labelNames: ['thread'],
          multiprocessMode,
          ...iso,
        }),
      { code: 'PROMFORK_RESERVED_LABEL', message: /"thread" is reserved .*multiprocessMode "/ },
    );
  }
  // Other modes merge threads into one series: no label is added, so the name is free.
  const summed = new Gauge({
    name: 't_sum',
    help: 'h',
    labelNames: ['thread'],
    multiprocessMode: 'livesum',
    ...iso,
  });
  assert.deepEqual(summed.labelNames, ['thread']);
});

test('mostrecent gauges write the timestamp slot on set and refuse inc/dec', () => {
  const store = new MemoryStore();
  const { iso } = isolated();
  const g = new Gauge({ name: 'recent', help: 'h', multiprocessMode: 'mostrecent', ...iso, store });
  const before = Date.now();
  g.set(5);
  const cells = store.series(g.descriptor, []);
  assert.equal(cells.get(COUNTER_VALUE), 5);
  assert.ok(cells.get(GAUGE_TIMESTAMP) >= before);
  assert.throws(() => g.inc(), { code: 'PROMFORK_OPERATION_NOT_SUPPORTED' });
  assert.throws(() => g.dec(), { code: 'PROMFORK_OPERATION_NOT_SUPPORTED' });
  const plain = new Gauge({ name: 'plain', help: 'h', ...iso, store });
  plain.set(1);
  assert.equal(store.series(plain.descriptor, []).get(GAUGE_TIMESTAMP), 0);
});
