import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COUNTER_VALUE,
  Counter,
  getDefaultStore,
  MemoryStore,
  Registry,
  setDefaultStore,
} from '../src/index.js';

test('without PROMETHEUS_MULTIPROC_DIR the default store is one MemoryStore', () => {
  assert.equal(process.env.PROMETHEUS_MULTIPROC_DIR ?? '', '');
  assert.equal(getDefaultStore().kind, 'memory');
  assert.equal(getDefaultStore(), getDefaultStore());
});

test('setDefaultStore chooses the store of metrics created afterwards', () => {
  const before = new Counter({ name: 'before_total', help: 'h', registers: [new Registry()] });
  const store = new MemoryStore();
  setDefaultStore(store);
  const after = new Counter({ name: 'after_total', help: 'h', registers: [new Registry()] });
  assert.equal(after.store, store);
  assert.notEqual(before.store, store);
  after.inc(3);
  assert.equal(store.series(after.descriptor, []).get(COUNTER_VALUE), 3);
  assert.throws(() => setDefaultStore({} as never), { code: 'PROMFORK_INVALID_OPTION' });
  assert.equal(getDefaultStore(), store);
});
