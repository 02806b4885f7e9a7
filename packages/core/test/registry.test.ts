import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import * as promfork from '../src/index.js';
import {
  AlreadyRegisteredError,
  Counter,
  contentType,
  Gauge,
  getDefaultStore,
  Histogram,
  MemoryStore,
  Registry,
  register,
} from '../src/index.js';
import { tempDir } from './file-store-helpers.js';
import { isolated, samples } from './helpers.js';

test('getMetricsAsJSON lists metrics in registration order with default labels', async () => {
  const { registry, iso } = isolated();
  const c = new Counter({ name: 'a_total', help: 'h', labelNames: ['x'], ...iso });
  const g = new Gauge({ name: 'b', help: 'h', ...iso });
  c.inc({ x: '1' });
  g.set(2);
  registry.setDefaultLabels({ app: 'api', x: 'ignored' });
  const json = await registry.getMetricsAsJSON();
  assert.deepEqual(
    json.map((m) => m.name),
    ['a_total', 'b'],
  );
  assert.deepEqual(samples(json[0] as never), [['a_total', { x: '1', app: 'api' }, 1]]);
  assert.deepEqual(samples(json[1] as never), [['b', { x: 'ignored', app: 'api' }, 2]]);
  // get() on the metric itself has no registry default labels
  assert.deepEqual(samples(await g.get()), [['b', {}, 2]]);
});

test('default labels go before le on histogram buckets', async () => {
  const { registry, iso } = isolated();
  const h = new Histogram({ name: 'h', help: 'h', labelNames: ['m'], buckets: [1], ...iso });
  h.observe({ m: 'GET' }, 0.5);
  registry.setDefaultLabels({ app: 'api' });
  const [metric] = await registry.getMetricsAsJSON();
  assert.deepEqual(Object.keys(metric?.values[0]?.labels ?? {}), ['m', 'app', 'le']);
  assert.throws(() => registry.setDefaultLabels({ 'bad-name': 'x' }), {
    code: 'PROMFORK_INVALID_LABEL_NAME',
  });
});

test('registering a taken name throws AlreadyRegisteredError carrying the existing metric', () => {
  const { registry, iso } = isolated();
  const first = new Counter({ name: 'dup_total', help: 'h', ...iso });
  registry.registerMetric(first);
  assert.throws(
    () => new Counter({ name: 'dup_total', help: 'h', ...iso }),
    (e: unknown) =>
      e instanceof AlreadyRegisteredError &&
      e.code === 'PROMFORK_ALREADY_REGISTERED' &&
      e.existing === first,
  );
  assert.equal(registry.getSingleMetric('dup_total'), first);
});

test('getOrCreate returns the existing metric or creates one; mismatches throw', () => {
  const registry = new Registry();
  const store = new MemoryStore();
  const a = registry.getOrCreate(Counter, {
    name: 'goc_total',
    help: 'h',
    labelNames: ['x'],
    store,
  });
  const b = registry.getOrCreate(Counter, {
    name: 'goc_total',
    help: 'h',
    labelNames: ['x'],
    store,
  });
  assert.equal(a, b);
  assert.equal(registry.getSingleMetric('goc_total'), a);
  assert.throws(
    () => registry.getOrCreate(Gauge, { name: 'goc_total', help: 'h', labelNames: ['x'], store }),
    {
      code: 'PROMFORK_METRIC_TYPE_MISMATCH',
    },
  );
  assert.throws(
    () => registry.getOrCreate(Counter, { name: 'goc_total', help: 'h', labelNames: ['y'], store }),
    {
      code: 'PROMFORK_METRIC_TYPE_MISMATCH',
    },
  );
});

test('removeSingleMetric and clear let a new metric of the same name start from zero', async () => {
  const { registry, iso } = isolated();
  const old = new Counter({ name: 'again_total', help: 'h', ...iso });
  old.inc(5);
  registry.removeSingleMetric('again_total');
  assert.equal(registry.getSingleMetric('again_total'), undefined);
  const fresh = new Counter({ name: 'again_total', help: 'h', ...iso });
  assert.deepEqual(samples(await fresh.get()), [['again_total', {}, 0]]);
  fresh.inc();
  registry.setDefaultLabels({ a: 'b' });
  registry.clear();
  assert.deepEqual(await registry.getMetricsAsJSON(), []);
  const third = new Counter({ name: 'again_total', help: 'h', ...iso });
  assert.deepEqual(samples((await registry.getMetricsAsJSON())[0] as never), [
    ['again_total', {}, 0],
  ]);
  assert.equal(third.name, 'again_total');
});

test('resetMetrics resets every metric', async () => {
  const { registry, iso } = isolated();
  const c = new Counter({ name: 'rs_total', help: 'h', ...iso });
  c.inc(3);
  registry.resetMetrics();
  assert.deepEqual(samples(await c.get()), [['rs_total', {}, 0]]);
});

test('metrics of the same name in two registries on one memory store stay independent', async () => {
  const store = new MemoryStore();
  const r1 = new Registry();
  const r2 = new Registry();
  new Counter({ name: 'twin_total', help: 'h', registers: [r1], store }).inc(1);
  new Counter({ name: 'twin_total', help: 'h', registers: [r2], store }).inc(7);
  assert.deepEqual(samples((await r1.getMetricsAsJSON())[0] as never), [['twin_total', {}, 1]]);
  assert.deepEqual(samples((await r2.getMetricsAsJSON())[0] as never), [['twin_total', {}, 7]]);
});

test('collect callbacks run before a registry reads its metrics', async () => {
  const { registry, iso } = isolated();
  let calls = 0;
  new Gauge({
    name: 'cb',
    help: 'h',
    ...iso,
    async collect() {
      calls++;
      this.set(calls * 10);
    },
  });
  assert.deepEqual(samples((await registry.getMetricsAsJSON())[0] as never), [['cb', {}, 10]]);
  assert.deepEqual(samples((await registry.getMetricsAsJSON())[0] as never), [['cb', {}, 20]]);
});

test('Registry.merge holds the metrics of every registry; content types are checked', () => {
  const { registry: r1, iso: i1 } = isolated();
  const { registry: r2, iso: i2 } = isolated();
  const a = new Counter({ name: 'm_a_total', help: 'h', ...i1 });
  const b = new Counter({ name: 'm_b_total', help: 'h', ...i2 });
  const merged = Registry.merge([r1, r2]);
  assert.deepEqual(merged.getMetricsAsArray(), [a, b]);
  const om = new Registry(Registry.OPENMETRICS_CONTENT_TYPE);
  assert.equal(om.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
  assert.throws(() => Registry.merge([r1, om]), { code: 'PROMFORK_INVALID_OPTION' });
  assert.throws(() => new Registry('text/html' as never), { code: 'PROMFORK_INVALID_OPTION' });
  assert.throws(() => new Registry({ foo: 1 } as never), { code: 'PROMFORK_UNKNOWN_OPTION' });
});

test('metrics register in the default registry unless registers says otherwise', () => {
  const store = new MemoryStore();
  const c = new Counter({ name: 'promfork_test_default_total', help: 'h', store });
  try {
    assert.equal(register.getSingleMetric('promfork_test_default_total'), c);
    const none = new Counter({ name: 'promfork_test_none_total', help: 'h', store, registers: [] });
    assert.equal(register.getSingleMetric(none.name), undefined);
  } finally {
    register.removeSingleMetric('promfork_test_default_total');
  }
});

test('a registry contentType and the contentType export follow setContentType', async () => {
  const { registry, iso } = isolated();
  new Counter({ name: 'ct_total', help: 'h', ...iso }).inc();
  assert.equal(registry.contentType, Registry.PROMETHEUS_CONTENT_TYPE);
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  assert.equal(registry.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
  assert.match(await registry.metrics(), /# EOF\n$/);
  // Another registry does not move the module export, which tracks the default registry only.
  assert.equal(contentType, Registry.PROMETHEUS_CONTENT_TYPE);

  try {
    register.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    assert.equal(register.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
    assert.equal(contentType, Registry.OPENMETRICS_CONTENT_TYPE);
    assert.equal(promfork.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
    register.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    assert.equal(contentType, Registry.PROMETHEUS_CONTENT_TYPE);
    assert.equal(promfork.contentType, Registry.PROMETHEUS_CONTENT_TYPE);
  } finally {
    register.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  }
  // A rejected content type changes neither.
  assert.throws(() => register.setContentType('text/html' as never), {
    code: 'PROMFORK_INVALID_OPTION',
  });
  assert.equal(contentType, Registry.PROMETHEUS_CONTENT_TYPE);
});

for (const [kind, makeStore] of [
  ['MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => {} })],
  [
    'FileStore',
    () => {
      const { dir, cleanup } = tempDir('promfork-removed-');
      const store = new FileStore({ dir, compactDeadProcesses: false });
      return {
        store,
        cleanup: () => {
          store.close();
          cleanup();
        },
      };
    },
  ],
] as const) {
  test(`${kind}: a removed metric never resolves to the metric that took its name`, async () => {
    const { store, cleanup } = makeStore();
    try {
      const registry = new Registry();
      const old = new Counter({
        name: 'renamed',
        help: 'old',
        labelNames: ['a'],
        registers: [registry],
        store,
      });
      old.inc({ a: '1' }, 5);
      registry.removeSingleMetric('renamed');
      const fresh = new Gauge({
        name: 'renamed',
        help: 'new',
        labelNames: ['b'],
        multiprocessMode: 'sum',
        registers: [registry],
        store,
      });
      fresh.set({ b: '2' }, 7);
      const expected = '# HELP renamed new\n# TYPE renamed gauge\nrenamed{b="2"} 7\n';
      store.flush();
      assert.equal(await registry.metrics(), expected);
      // The removed metric reads as itself, with no values: not as the gauge of its name.
      assert.deepEqual(await old.get(), {
        name: 'renamed',
        help: 'old',
        type: 'counter',
        values: [],
        aggregator: 'sum',
      });
      // Updating, resetting and removing through the stale object leave the new metric alone.
      old.inc({ a: '3' }, 100);
      old.reset();
      old.remove({ a: '2' });
      fresh.inc({ b: '2' }, 1);
      store.flush();
      assert.equal(await registry.metrics(), expected.replace('} 7', '} 8'));
    } finally {
      cleanup();
    }
  });
}

test('updates of a removed metric stay out of the store until it is registered again', async () => {
  const registry = new Registry();
  const removed = new Counter({
    name: 'promfork_test_removed_total',
    help: 'h',
    labelNames: ['a'],
    registers: [registry],
  });
  assert.equal(removed.store, getDefaultStore());
  removed.inc({ a: 'before' }, 2);
  registry.removeSingleMetric(removed.name);
  removed.inc({ a: 'late' }, 3);
  // The default registry shows families only other processes declared; a forgotten metric's
  // late update must not come back as one.
  assert.doesNotMatch(await register.metrics(), /promfork_test_removed_total/);
  registry.registerMetric(removed);
  assert.equal(
    await registry.metrics(),
    '# HELP promfork_test_removed_total h\n# TYPE promfork_test_removed_total counter\n',
  );
  removed.inc({ a: 'late' }, 1);
  assert.equal(
    await registry.metrics(),
    '# HELP promfork_test_removed_total h\n# TYPE promfork_test_removed_total counter\n' +
      'promfork_test_removed_total{a="late"} 1\n',
  );
});
