/**
 * A child kept from `labels(...)` across a drop of its series (`remove`, `reset`,
 * `registry.resetMetrics()`, `registry.clear()` and registering the metric again) behaves as
 * in prom-client: its next update lands in the metric's current series of its label values,
 * created again from the reset value, and shows in the exposition. On both stores, in this
 * process; across processes in file-store-held-children.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  Counter,
  FileStore,
  Gauge,
  Histogram,
  MemoryStore,
  Registry,
  type Store,
  Summary,
} from '../src/index.js';
import { tempDir } from './file-store-helpers.js';

/** The ways a metric's series are dropped while a caller holds a child of one of them. */
const DROPS: Readonly<
  Record<string, (metric: { reset(): void; remove(...v: string[]): void }, r: Registry) => void>
> = {
  'metric.reset()': (metric) => metric.reset(),
  'metric.remove(...)': (metric) => metric.remove('a'),
  'registry.resetMetrics()': (_, registry) => registry.resetMetrics(),
  'registry.clear() and registerMetric again': (metric, registry) => {
    registry.clear();
    registry.registerMetric(metric as Counter);
  },
};

/** Unlabelled metrics: `remove()` takes no values. */
const UNLABELLED_DROPS: Readonly<
  Record<string, (metric: { reset(): void; remove(): void }, r: Registry) => void>
> = {
  ...DROPS,
  'metric.remove()': (metric) => metric.remove(),
};
delete (UNLABELLED_DROPS as Record<string, unknown>)['metric.remove(...)'];

const dirs: (() => void)[] = [];
const stores: Store[] = [];
after(() => {
  for (const store of stores) store.close();
  for (const cleanup of dirs) cleanup();
});

const STORES: Readonly<Record<string, () => Store>> = {
  MemoryStore: () => new MemoryStore(),
  FileStore: () => {
    const { dir, cleanup } = tempDir('promfork-held-');
    dirs.push(cleanup);
    const store = new FileStore({ dir, onError: () => {} });
    stores.push(store);
    return store;
  },
};

/** The lines of `name` in the registry's text, without HELP and TYPE. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

for (const [storeName, makeStore] of Object.entries(STORES)) {
  describe(`a child held across a drop of its series (${storeName})`, () => {
    const setup = () => {
      const registry = new Registry();
      return { registry, iso: { registers: [registry], store: makeStore() } };
    };

    for (const [how, drop] of Object.entries(DROPS)) {
      it(`counter: inc after ${how} counts from 0 in the exported series`, async () => {
        const { registry, iso } = setup();
        const c = new Counter({ name: 'c_total', help: 'c', labelNames: ['k'], ...iso });
        const held = c.labels('a');
        held.inc(5);
        drop(c, registry);
        assert.deepEqual(await lines(registry, 'c_total'), [], 'dropped, nothing updated yet');
        held.inc();
        assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 1']);
        c.inc({ k: 'a' }, 2);
        held.inc();
        assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 4']);
      });

      it(`gauge: set and inc after ${how} land in the exported series`, async () => {
        const { registry, iso } = setup();
        const g = new Gauge({
          name: 'g',
          help: 'g',
          labelNames: ['k'],
          multiprocessMode: 'sum',
          ...iso,
        });
        const set = g.labels('a');
        set.set(5);
        drop(g, registry);
        set.set(3);
        assert.deepEqual(await lines(registry, 'g'), ['g{k="a"} 3']);
        drop(g, registry);
        set.inc();
        assert.deepEqual(await lines(registry, 'g'), ['g{k="a"} 1'], 'inc starts from 0');
        drop(g, registry);
        const end = set.startTimer();
        end();
        assert.equal((await lines(registry, 'g')).length, 1, 'the timer set the series');
      });

      it(`histogram: observe and a timer after ${how} land in the exported series`, async () => {
        const { registry, iso } = setup();
        const h = new Histogram({
          name: 'h',
          help: 'h',
          labelNames: ['k'],
          buckets: [1],
          ...iso,
        });
        const held = h.labels('a');
        held.observe(0.5);
        const end = held.startTimer();
        drop(h, registry);
        held.observe(2);
        assert.deepEqual(await lines(registry, 'h'), [
          'h_bucket{k="a",le="1"} 0',
          'h_bucket{k="a",le="+Inf"} 1',
          'h_sum{k="a"} 2',
          'h_count{k="a"} 1',
        ]);
        end();
        assert.ok((await lines(registry, 'h')).includes('h_count{k="a"} 2'));
      });

      it(`summary: observe after ${how} lands in the exported series`, async () => {
        const { registry, iso } = setup();
        const s = new Summary({
          name: 's',
          help: 's',
          labelNames: ['k'],
          percentiles: [0.5],
          ...iso,
        });
        const held = s.labels('a');
        held.observe(1);
        drop(s, registry);
        held.observe(4);
        const got = await lines(registry, 's');
        assert.deepEqual(got.slice(1), ['s_sum{k="a"} 4', 's_count{k="a"} 1']);
        const quantile = Number(/^s\{k="a",quantile="0.5"\} (.+)$/.exec(got[0] ?? '')?.[1]);
        assert.ok(Math.abs(quantile - 4) <= 0.04, `${got[0]} is not within 1% of 4`);
      });
    }

    for (const [how, drop] of Object.entries(UNLABELLED_DROPS)) {
      it(`the unlabelled series: a held child after ${how} writes into the exported one`, async () => {
        const counter = setup();
        const n = new Counter({ name: 'n_total', help: 'n', ...counter.iso });
        const heldN = n.labels();
        heldN.inc(5);
        drop(n, counter.registry);
        assert.deepEqual(await lines(counter.registry, 'n_total'), ['n_total 0']);
        heldN.inc();
        n.inc();
        assert.deepEqual(await lines(counter.registry, 'n_total'), ['n_total 2']);

        const gauge = setup();
        const g = new Gauge({ name: 'u', help: 'u', multiprocessMode: 'sum', ...gauge.iso });
        const heldG = g.labels();
        heldG.set(5);
        drop(g, gauge.registry);
        heldG.set(2);
        assert.deepEqual(await lines(gauge.registry, 'u'), ['u 2']);
      });
    }

    it('several drops, a held child and a newer child of the same series all count', async () => {
      const { registry, iso } = setup();
      const c = new Counter({ name: 'c_total', help: 'c', labelNames: ['k'], ...iso });
      const old = c.labels('a');
      c.reset();
      const newer = c.labels('a');
      old.inc();
      newer.inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 2']);
      c.reset();
      newer.inc();
      old.inc();
      c.labels('a').inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 3']);
      c.remove('a');
      c.reset();
      old.inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 1']);
    });

    it('a label set of initLabelSets: the held child counts into the series made again at 0', async () => {
      const { registry, iso } = setup();
      const c = new Counter({
        name: 'c_total',
        help: 'c',
        labelNames: ['k'],
        initLabelSets: [{ k: 'a' }],
        ...iso,
      });
      const held = c.labels('a');
      held.inc(5);
      c.reset();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 0']);
      held.inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 1']);
    });

    it('maxSeries: a held child beyond the limit is dropped (and counted) until there is room', async () => {
      const { registry, iso } = setup();
      const errors: Error[] = [];
      const c = new Counter({
        name: 'c_total',
        help: 'c',
        labelNames: ['k'],
        maxSeries: 1,
        onError: (error) => errors.push(error),
        ...iso,
      });
      const held = c.labels('a');
      c.reset();
      c.inc({ k: 'b' });
      held.inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="b"} 1']);
      assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
        'promfork_series_dropped_total{metric="c_total"} 1',
      ]);
      c.remove('b');
      held.inc();
      assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 1']);
      assert.equal(errors.length, 1);
    });

    it('maxSeries: drops after registry.resetMetrics() are still counted', async () => {
      const { registry, iso } = setup();
      const c = new Counter({
        name: 'c_total',
        help: 'c',
        labelNames: ['k'],
        maxSeries: 0,
        onError: () => {},
        ...iso,
      });
      c.inc({ k: 'a' });
      registry.resetMetrics();
      c.inc({ k: 'b' });
      assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
        'promfork_series_dropped_total{metric="c_total"} 1',
      ]);
    });
  });
}
