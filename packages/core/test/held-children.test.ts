/**
 * A child kept from `labels(...)` across a drop of its series (`remove`, `reset`,
 * `registry.resetMetrics()`, `registry.clear()` and registering the metric again) behaves as
 * in prom-client: its next update lands in the metric's current series of its label values,
 * created again from the reset value, and shows in the exposition. On both stores, in this
 * process; across processes in file-store-held-children.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Counter, Gauge, Histogram, type Registry, Summary } from '../src/index.js';
import { bothStores } from './helpers/both-stores.js';

/** A drop of the series of label value `a` (of the unlabelled series for `[]`). */
type Drop = (
  metric: { reset(): void; remove(...values: string[]): void },
  registry: Registry,
) => void;

/** The ways a metric's series are dropped while a caller holds a child of one of them. */
function drops(values: string[]): Readonly<Record<string, Drop>> {
  return {
    'metric.reset()': (metric) => metric.reset(),
    [`metric.remove(${values.map((v) => `'${v}'`).join(', ')})`]: (metric) =>
      metric.remove(...values),
    'registry.resetMetrics()': (_, registry) => registry.resetMetrics(),
    'registry.clear() and registerMetric again': (metric, registry) => {
      registry.clear();
      registry.registerMetric(metric as Counter);
    },
  };
}

const stores = bothStores('promfork-held-');
after(() => stores.close());

/** The lines of `name` in the registry's text, without HELP and TYPE. */
async function lines(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

for (const [storeName, setup] of Object.entries(stores.kinds)) {
  describe(`a child held across a drop of its series (${storeName})`, () => {
    for (const [how, drop] of Object.entries(drops(['a']))) {
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

    for (const [how, drop] of Object.entries(drops([]))) {
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

    it('a native histogram: the held child observes into the native buckets made again', () => {
      const { iso } = setup();
      const h = new Histogram({
        name: 'nh',
        help: 'h',
        labelNames: ['k'],
        nativeHistogram: true,
        ...iso,
      });
      const held = h.labels('a');
      held.observe(0.5);
      h.reset();
      held.observe(2);
      const family = iso.store.collect().find((f) => f.descriptor.name === 'nh');
      const native = family?.series[0]?.native;
      assert.equal(native?.count, 1);
      assert.deepEqual(native?.positive, [[8, 1]], '2 = 2^(8/8) at schema 3');
    });

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

    for (const [how, drop] of Object.entries(drops(['b']))) {
      it(`maxSeries: a child handed out for a dropped label set counts once ${how} made room`, async () => {
        const { registry, iso } = setup();
        const c = new Counter({
          name: 'c_total',
          help: 'c',
          labelNames: ['k'],
          maxSeries: 1,
          onError: () => {},
          ...iso,
        });
        c.inc({ k: 'b' });
        const held = c.labels('a');
        held.inc();
        held.inc();
        assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="b"} 1']);
        assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
          'promfork_series_dropped_total{metric="c_total"} 1',
        ]);
        drop(c, registry);
        held.inc();
        assert.deepEqual(await lines(registry, 'c_total'), ['c_total{k="a"} 1']);
      });
    }

    it('maxSeries: a dropped child tries again after a drop, and is counted again while full', async () => {
      const { registry, iso } = setup();
      const h = new Histogram({
        name: 'h',
        help: 'h',
        labelNames: ['k'],
        buckets: [1],
        maxSeries: 1,
        onError: () => {},
        ...iso,
      });
      h.observe({ k: 'b' }, 0.5);
      const held = h.labels('a');
      h.reset();
      h.observe({ k: 'c' }, 0.5);
      held.observe(2);
      held.observe(2);
      assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
        'promfork_series_dropped_total{metric="h"} 2',
      ]);
      h.remove('c');
      held.observe(2);
      assert.deepEqual(await lines(registry, 'h'), [
        'h_bucket{k="a",le="1"} 0',
        'h_bucket{k="a",le="+Inf"} 1',
        'h_sum{k="a"} 2',
        'h_count{k="a"} 1',
      ]);
    });

    it('maxSeries: a held mostrecent gauge child beyond the limit counts one drop per set', async () => {
      const { registry, iso } = setup();
      const g = new Gauge({
        name: 'g',
        help: 'g',
        labelNames: ['k'],
        multiprocessMode: 'mostrecent',
        maxSeries: 1,
        onError: () => {},
        ...iso,
      });
      const held = g.labels('a');
      g.reset();
      g.set({ k: 'b' }, 2);
      held.set(3);
      assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
        'promfork_series_dropped_total{metric="g"} 1',
      ]);
    });

    const registryDrops: [string, (registry: Registry, c: Counter) => void][] = [
      [
        'registry.clear() and registering again',
        (registry, c) => {
          registry.clear();
          registry.registerMetric(c);
        },
      ],
      ['registry.resetMetrics()', (registry) => registry.resetMetrics()],
    ];
    for (const [what, drop] of registryDrops) {
      it(`maxSeries: drops after ${what} are still counted`, async () => {
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
        drop(registry, c);
        c.inc({ k: 'b' });
        assert.deepEqual(await lines(registry, 'promfork_series_dropped_total'), [
          'promfork_series_dropped_total{metric="c_total"} 1',
        ]);
      });
    }
  });
}
