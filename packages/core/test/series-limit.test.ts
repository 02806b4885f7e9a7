/**
 * The cardinality guard: `maxSeries` on a metric (and on the HTTP metrics). Beyond the limit a
 * new label set is dropped (its updates go nowhere, nothing throws), counted in
 * `promfork_series_dropped_total{metric}` and reported once; existing label sets keep working;
 * neither memory nor the store file grows with the dropped label sets.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { HttpInstrumentation } from '../src/http/instrumentation.js';
import {
  Counter,
  Gauge,
  Histogram,
  InvalidOptionError,
  type PromforkError,
  Registry,
  SERIES_DROPPED_TOTAL,
} from '../src/index.js';
import { flatten, tempDir } from './file-store-helpers.js';

const dropped = (text: string, metric: string): number | undefined => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${SERIES_DROPPED_TOTAL}{metric="${metric}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('maxSeries', () => {
  it('a rejected update of a new label set beyond the limit is not counted as a drop', async () => {
    const registry = new Registry();
    const errors: Error[] = [];
    const hits = new Counter({
      name: 'rejected_total',
      help: 'h',
      labelNames: ['user'],
      maxSeries: 0,
      onError: (e) => errors.push(e),
      registers: [registry],
    });
    assert.throws(() => hits.inc({ user: 'a' }, -1), { code: 'PROMFORK_NEGATIVE_INCREMENT' });
    assert.equal(dropped(await registry.metrics(), 'rejected_total'), undefined);
    assert.deepEqual(errors, []);
    hits.inc({ user: 'a' });
    assert.equal(dropped(await registry.metrics(), 'rejected_total'), 1);
  });

  it('drops new label sets beyond the limit, counts them, reports once, never throws', async () => {
    const registry = new Registry();
    const errors: Error[] = [];
    const hits = new Counter({
      name: 'hits_total',
      help: 'h',
      labelNames: ['user'],
      maxSeries: 3,
      onError: (e) => errors.push(e),
      registers: [registry],
    });
    for (let i = 0; i < 10; i++) hits.inc({ user: `u${i}` });
    hits.labels('u99').inc(5); // by position, through a child
    hits.inc({ user: 'u0' }, 2); // an existing label set keeps counting
    const text = await registry.metrics();
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('hits_total{')),
      ['hits_total{user="u0"} 3', 'hits_total{user="u1"} 1', 'hits_total{user="u2"} 1'],
    );
    assert.equal(dropped(text, 'hits_total'), 8);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as PromforkError).code, 'PROMFORK_SERIES_LIMIT');
    assert.match(errors[0]!.message, /"hits_total" reached maxSeries \(3 label sets\)/);
    assert.match(errors[0]!.message, /"u3"/);

    // remove() frees a place; reset() frees them all.
    hits.remove({ user: 'u1' });
    hits.inc({ user: 'new' });
    assert.match(await registry.metrics(), /^hits_total\{user="new"\} 1$/m);
    hits.reset();
    for (const user of ['a', 'b', 'c', 'd']) hits.inc({ user });
    const after = await registry.metrics();
    assert.equal(after.split('\n').filter((l) => l.startsWith('hits_total{')).length, 3);
    assert.equal(dropped(after, 'hits_total'), 9);
    assert.equal(errors.length, 1, 'reported once per metric');
  });

  it('one drop counter per registry, one series per metric; 0 drops every label set', async () => {
    const registry = new Registry();
    const quiet = { onError: () => {}, registers: [registry] };
    const g = new Gauge({ name: 'g', help: 'g', labelNames: ['k'], maxSeries: 1, ...quiet });
    const h = new Histogram({ name: 'h', help: 'h', labelNames: ['k'], maxSeries: 0, ...quiet });
    g.set({ k: 'a' }, 1);
    g.set({ k: 'b' }, 2);
    h.observe({ k: 'a' }, 1);
    h.startTimer({ k: 'b' })();
    const text = await registry.metrics();
    assert.match(text, /^g\{k="a"\} 1$/m);
    assert.doesNotMatch(text, /^g\{k="b"\}/m);
    assert.doesNotMatch(text, /^h_count\{/m);
    assert.equal(dropped(text, 'g'), 1);
    assert.equal(dropped(text, 'h'), 2);
    assert.equal(text.split(`# TYPE ${SERIES_DROPPED_TOTAL} counter`).length, 2);
  });

  it('rejects a limit that is not a non-negative integer', () => {
    for (const maxSeries of [-1, 1.5, '3', Number.NaN, null]) {
      assert.throws(
        () =>
          new Counter({
            name: 'bad_total',
            help: 'h',
            labelNames: ['a'],
            maxSeries: maxSeries as number,
            registers: [],
          }),
        (e: unknown) => e instanceof InvalidOptionError && /maxSeries/.test(e.message),
      );
    }
  });

  it('keeps the store file and its merge bounded across processes', () => {
    const { dir, cleanup } = tempDir();
    try {
      // Two stores in one directory stand for two worker processes.
      const stores = [0, 1].map(() => new FileStore({ dir, onError: () => {} }));
      const metrics = stores.map(
        (store) =>
          new Counter({
            name: 'by_user_total',
            help: 'h',
            labelNames: ['user'],
            maxSeries: 2,
            onError: () => {},
            store,
            registers: [],
          }),
      );
      for (const counter of metrics) {
        counter.inc({ user: 'a' });
        counter.inc({ user: 'b' });
      }
      for (const store of stores) store.flush();
      const sizeBefore = statSync(join(dir, stores[0]!.fileName)).size;
      // A flood of distinct, client-chosen values.
      for (let i = 0; i < 20_000; i++) metrics[i % 2]!.inc({ user: `attacker-${i}` });
      for (const store of stores) store.flush();
      assert.equal(statSync(join(dir, stores[0]!.fileName)).size, sizeBefore);
      const reader = new FileStore({ dir, onError: () => {} });
      assert.deepEqual(
        flatten(reader.collect(), false)[`${SERIES_DROPPED_TOTAL}{metric=by_user_total}`],
        [20_000],
      );
      const merged = flatten(reader.collect());
      assert.deepEqual(merged, { 'by_user_total{user=a}': [2], 'by_user_total{user=b}': [2] });
      for (const store of [...stores, reader]) store.close();
    } finally {
      cleanup();
    }
  });

  it('HTTP metrics: maxSeries bounds client-controlled extra labels, and their cache', async () => {
    const registry = new Registry();
    const errors: Error[] = [];
    const inst = new HttpInstrumentation<string, string>(
      {
        registry,
        onError: (e) => errors.push(e),
        maxSeries: 5,
        extraLabels: { tenant: (req) => req },
      },
      'test',
    );
    const sample = { method: 'GET', route: '/x', statusCode: 200, durationSeconds: 0.01 };
    for (let i = 0; i < 1000; i++) inst.record(sample, `tenant-${i}`, 'res');
    inst.record(sample, 'tenant-0', 'res');
    const text = (await registry.scrape()).body;
    assert.equal(text.split('\n').filter((l) => l.startsWith('http_requests_total{')).length, 5);
    assert.match(text, /^http_requests_total\{.*tenant="tenant-0"\} 2$/m);
    assert.equal(dropped(text, 'http_requests_total'), 995);
    assert.equal(dropped(text, 'http_request_duration_seconds'), 995);
    assert.equal(errors.length, 2, errors.map((e) => e.message).join('\n'));
    assert.ok(errors.every((e) => (e as PromforkError).code === 'PROMFORK_SERIES_LIMIT'));
    // The two reports went through the adapters' onError, which counts what it is given.
    assert.match(text, /^promfork_instrumentation_errors_total 2$/m);
    assert.throws(
      () => new HttpInstrumentation({ registry: new Registry(), maxSeries: -1 }, 'test'),
      (e: unknown) => e instanceof InvalidOptionError && /maxSeries/.test(e.message),
    );
  });
});
