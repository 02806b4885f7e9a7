import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricDescriptor } from '../src/index.js';
import { COUNTER_VALUE, MemoryStore } from '../src/index.js';
import { codeOf } from './helpers/error-code.js';
import { runStoreConformance } from './store-conformance.js';

runStoreConformance('MemoryStore', () => new MemoryStore());

const counter = (name: string): MetricDescriptor => ({
  name,
  help: 'h',
  type: 'counter',
  labelNames: [],
  buckets: [],
  mode: 'sum',
});

test('MemoryStore keeps two metric objects of the same name apart (prom-client semantics)', () => {
  const store = new MemoryStore();
  const first = counter('same_total');
  const second = counter('same_total');
  store.declare(first);
  store.declare(second);
  store.series(first, []).add(COUNTER_VALUE, 1);
  store.series(second, []).add(COUNTER_VALUE, 5);
  const collected = store
    .collect()
    .map((f) => [f.descriptor === first, Array.from(f.series[0]?.cells ?? [])]);
  assert.deepEqual(collected, [
    [true, [1]],
    [false, [5]],
  ]);
});

test('MemoryStore collect returns a snapshot, not live cells', () => {
  const store = new MemoryStore();
  const d = counter('snap_total');
  const cells = store.series(d, []);
  cells.add(COUNTER_VALUE, 1);
  const [family] = store.collect();
  cells.add(COUNTER_VALUE, 1);
  assert.deepEqual(Array.from(family?.series[0]?.cells ?? []), [1]);
});

test('MemoryStore takes no options and says so instead of ignoring them', () => {
  const make = (options: unknown) => () => new MemoryStore(options as Record<string, never>);
  assert.equal(codeOf(make(undefined)), undefined);
  assert.equal(codeOf(make({})), undefined);
  assert.equal(codeOf(make({ flushIntervalMs: 100 })), 'PROMFORK_UNKNOWN_OPTION');
  assert.throws(
    make({ dir: '/tmp/x' }),
    /new MemoryStore\(\) got unknown option "dir"; accepted options: none/,
  );
  assert.equal(codeOf(make('fast')), 'PROMFORK_INVALID_OPTION');
  assert.equal(codeOf(make(null)), 'PROMFORK_INVALID_OPTION');
});
