/**
 * The store conformance suite: every rule store.ts states as MUST, as node:test tests. Every
 * store runs it (`runStoreConformance('MemoryStore', () => new MemoryStore())`); a store that
 * passes can back any metric.
 *
 * `makeStore` is called once per test and must return a fresh, empty store; the suite closes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry, Summary } from '../src/index.js';
import { sketchSize } from '../src/sketch.js';
import {
  type Cells,
  COUNTER_VALUE,
  type CollectedFamily,
  GAUGE_TIMESTAMP,
  GAUGE_VALUE,
  histogramCountIndex,
  histogramSumIndex,
  type Store,
  SUMMARY_COUNT,
  SUMMARY_SUM,
  seriesSize,
} from '../src/store.js';
import type { MetricDescriptor, MetricType, SummarySettings } from '../src/types.js';

/** Builds a descriptor for the suite. */
function descriptor(
  name: string,
  type: MetricType,
  labelNames: readonly string[] = [],
  extra: Partial<MetricDescriptor> = {},
): MetricDescriptor {
  return Object.freeze({
    name,
    help: `help of ${name}`,
    type,
    labelNames,
    buckets: type === 'histogram' ? [0.1, 1, 10] : [],
    mode: 'sum',
    ...extra,
  });
}

const SUMMARY_SETTINGS: SummarySettings = {
  percentiles: [0.5, 0.9],
  maxAgeSeconds: 60,
  ageBuckets: 3,
};

/** True once sketch.ts is implemented (summary layouts depend on its size). */
function sketchAvailable(): boolean {
  try {
    sketchSize(SUMMARY_SETTINGS);
    return true;
  } catch {
    return false;
  }
}

function family(families: readonly CollectedFamily[], name: string): CollectedFamily {
  const found = families.filter((f) => f.descriptor.name === name);
  assert.equal(
    found.length,
    1,
    `expected exactly one collected family "${name}", got ${found.length}`,
  );
  return found[0] as CollectedFamily;
}

function seriesCells(f: CollectedFamily, labelValues: readonly string[]): number[] {
  const found = f.series.filter(
    (s) => JSON.stringify(s.labelValues) === JSON.stringify(labelValues),
  );
  assert.equal(
    found.length,
    1,
    `expected one series ${JSON.stringify(labelValues)} of "${f.descriptor.name}"`,
  );
  return Array.from(found[0]?.cells ?? []);
}

/**
 * Registers the conformance tests for one store implementation under `name`.
 * @param makeStore returns a fresh, empty store for each test
 */
export function runStoreConformance(name: string, makeStore: () => Store): void {
  async function withStore(fn: (store: Store) => void | Promise<void>): Promise<void> {
    const store = makeStore();
    try {
      await fn(store);
    } finally {
      store.close();
    }
  }

  test(`${name}: same series gives the same Cells; different label values give different Cells`, () =>
    withStore((store) => {
      const d = descriptor('conf_same_total', 'counter', ['a', 'b']);
      store.declare(d);
      const one = store.series(d, ['x', 'y']);
      assert.equal(store.series(d, ['x', 'y']), one);
      const other = store.series(d, ['x', 'z']);
      assert.notEqual(other, one);
      one.add(COUNTER_VALUE, 2);
      assert.equal(other.get(COUNTER_VALUE), 0);
    }));

  test(`${name}: series keys are injective for any string values`, () =>
    withStore((store) => {
      const d = descriptor('conf_keys_total', 'counter', ['a', 'b']);
      store.declare(d);
      const sets = [
        ['a|b', 'c'],
        ['a', 'b|c'],
        ['', ''],
        ['', ' '],
        ['a,b', ''],
        ['a', ',b'],
        ['\u0000', 'x'],
        ['\u0000x', ''],
        ['"', '\\'],
        ['\n', 'ü😀'],
      ];
      sets.forEach((values, i) => {
        store.series(d, values).add(COUNTER_VALUE, i + 1);
      });
      const f = family(store.collect(), 'conf_keys_total');
      assert.equal(f.series.length, sets.length);
      sets.forEach((values, i) => {
        assert.deepEqual(seriesCells(f, values), [i + 1]);
      });
    }));

  test(`${name}: new series start at zero and writes are visible through get at once`, () =>
    withStore((store) => {
      const d = descriptor('conf_visible', 'gauge', ['a']);
      store.declare(d);
      const cells = store.series(d, ['v']);
      assert.deepEqual([cells.get(GAUGE_VALUE), cells.get(GAUGE_TIMESTAMP)], [0, 0]);
      cells.add(GAUGE_VALUE, 1.5);
      cells.add(GAUGE_VALUE, -0.25);
      assert.equal(cells.get(GAUGE_VALUE), 1.25);
      cells.set(GAUGE_TIMESTAMP, 1700000000123);
      assert.equal(cells.get(GAUGE_TIMESTAMP), 1700000000123);
      assert.deepEqual(
        seriesCells(family(store.collect(), 'conf_visible'), ['v']),
        [1.25, 1700000000123],
      );
    }));

  test(`${name}: remove drops one series and later gives new zeroed cells`, () =>
    withStore((store) => {
      const d = descriptor('conf_remove_total', 'counter', ['a']);
      store.declare(d);
      const kept = store.series(d, ['keep']);
      kept.add(COUNTER_VALUE, 3);
      const dropped = store.series(d, ['drop']);
      dropped.add(COUNTER_VALUE, 5);
      store.remove(d, ['drop']);
      store.remove(d, ['never-created']);
      let f = family(store.collect(), 'conf_remove_total');
      assert.deepEqual(
        f.series.map((s) => s.labelValues),
        [['keep']],
      );
      const again = store.series(d, ['drop']);
      assert.notEqual(again, dropped);
      assert.equal(again.get(COUNTER_VALUE), 0);
      f = family(store.collect(), 'conf_remove_total');
      assert.deepEqual(seriesCells(f, ['drop']), [0]);
      assert.deepEqual(seriesCells(f, ['keep']), [3]);
    }));

  test(`${name}: reset drops every series of one metric only`, () =>
    withStore((store) => {
      const d = descriptor('conf_reset_total', 'counter', ['a']);
      const other = descriptor('conf_reset_other_total', 'counter', ['a']);
      store.declare(d);
      store.declare(other);
      const before = store.series(d, ['x']);
      before.add(COUNTER_VALUE, 7);
      store.series(d, ['y']).add(COUNTER_VALUE, 1);
      store.series(other, ['x']).add(COUNTER_VALUE, 9);
      store.reset(d);
      const families = store.collect();
      assert.deepEqual(family(families, 'conf_reset_total').series, []);
      assert.deepEqual(seriesCells(family(families, 'conf_reset_other_total'), ['x']), [9]);
      const after = store.series(d, ['x']);
      assert.notEqual(after, before);
      assert.equal(after.get(COUNTER_VALUE), 0);
    }));

  test(`${name}: collect includes declared metrics with no series, once per declare`, () =>
    withStore((store) => {
      const d = descriptor('conf_empty', 'gauge', ['a']);
      store.declare(d);
      store.declare(d);
      const f = family(store.collect(), 'conf_empty');
      assert.deepEqual(f.series, []);
      assert.equal(f.descriptor.name, d.name);
      assert.equal(f.descriptor.help, d.help);
      assert.equal(f.descriptor.type, d.type);
      assert.deepEqual(f.descriptor.labelNames, d.labelNames);
    }));

  test(`${name}: collect honours its filter`, () =>
    withStore((store) => {
      const a = descriptor('conf_filter_a_total', 'counter');
      const b = descriptor('conf_filter_b_total', 'counter');
      store.declare(a);
      store.declare(b);
      store.series(a, []).add(COUNTER_VALUE, 1);
      const names = store.collect((n) => n === 'conf_filter_b_total').map((f) => f.descriptor.name);
      assert.deepEqual(names, ['conf_filter_b_total']);
    }));

  test(`${name}: forget removes the metric from collect`, () =>
    withStore((store) => {
      const d = descriptor('conf_forget_total', 'counter');
      store.declare(d);
      store.series(d, []).add(COUNTER_VALUE, 1);
      store.forget(d);
      assert.equal(
        store.collect().filter((f) => f.descriptor.name === 'conf_forget_total').length,
        0,
      );
    }));

  const layouts: {
    type: MetricType;
    extra?: Partial<MetricDescriptor>;
    slots: (size: number) => string;
  }[] = [
    { type: 'counter', slots: () => '[value]' },
    { type: 'gauge', slots: () => '[value, timestampMs]' },
    { type: 'histogram', slots: () => '[b0, b1, b2, +Inf, sum, count]' },
    {
      type: 'summary',
      extra: { summary: SUMMARY_SETTINGS },
      slots: (n) => `[sum, count, …${n - 2} sketch slots]`,
    },
  ];
  for (const layout of layouts) {
    test(`${name}: ${layout.type} layout round-trips through collect`, (t) => {
      if (layout.type === 'summary' && !sketchAvailable()) {
        t.skip('sketch.ts not implemented yet');
        return;
      }
      return withStore((store) => {
        const d = descriptor(`conf_layout_${layout.type}`, layout.type, ['l'], layout.extra);
        store.declare(d);
        const size = seriesSize(d);
        const cells = store.series(d, ['v']);
        // A distinct value per slot: a store that shuffles, drops or merges slots fails.
        for (let i = 0; i < size; i++) cells.set(i, i * 3 + 1);
        cells.add(0, 0.5);
        const expected = Array.from({ length: size }, (_, i) => i * 3 + 1 + (i === 0 ? 0.5 : 0));
        const got = seriesCells(family(store.collect(), d.name), ['v']);
        assert.deepEqual(got, expected, `layout ${layout.slots(size)}`);
        if (layout.type === 'histogram') {
          assert.equal(got[histogramSumIndex(3)], expected[4]);
          assert.equal(got[histogramCountIndex(3)], expected[5]);
        }
        if (layout.type === 'summary') {
          assert.equal(got[SUMMARY_SUM], expected[0]);
          assert.equal(got[SUMMARY_COUNT], expected[1]);
        }
      });
    });
  }

  test(`${name}: a native histogram's buckets come back as its collected native snapshot`, () =>
    withStore((store) => {
      const h = new Histogram({
        name: 'conf_native_seconds',
        help: 'h',
        labelNames: ['l'],
        nativeHistogram: { bucketFactor: 2, maxBuckets: 4 },
        store,
        registers: [],
      });
      // Schema 0 holds 1, 3, 5, 16 in buckets 0, 2, 3, 4; 100 needs a fifth: schema -1 holds
      // 0:1, 1:1, 2:2, 4:1. 0 is in the zero bucket. -2 needs a fifth: schema -2 holds 0:1, 1:3,
      // 2:1, and -2 in negative bucket 1.
      for (const v of [1, 3, 5, 16, 100, 0, -2]) h.observe({ l: 'v' }, v);
      const f = family(store.collect(), 'conf_native_seconds');
      assert.equal(f.series[0]?.cells.length, seriesSize(f.descriptor));
      assert.deepEqual(f.series[0]?.native, {
        schema: -2,
        zeroThreshold: 2 ** -128,
        zeroCount: 1,
        count: 7,
        sum: 123,
        positive: [
          [0, 1],
          [1, 3],
          [2, 1],
        ],
        negative: [[1, 1]],
      });
    }));

  test(`${name}: the unlabelled series has empty label values`, () =>
    withStore((store) => {
      const d = descriptor('conf_nolabels_total', 'counter');
      store.declare(d);
      store.series(d, []).add(COUNTER_VALUE, 4);
      assert.deepEqual(seriesCells(family(store.collect(), d.name), []), [4]);
    }));

  test(`${name}: add/set/get never throw, even after close`, () => {
    const store = makeStore();
    const d = descriptor('conf_nothrow_total', 'counter');
    store.declare(d);
    const cells: Cells = store.series(d, []);
    store.close();
    assert.doesNotThrow(() => {
      cells.add(COUNTER_VALUE, 1);
      cells.set(COUNTER_VALUE, 2);
      cells.get(COUNTER_VALUE);
      cells.add(COUNTER_VALUE, Number.NaN);
    });
  });

  test(`${name}: flush never throws and keeps values`, () =>
    withStore((store) => {
      const d = descriptor('conf_flush_total', 'counter');
      store.declare(d);
      store.series(d, []).add(COUNTER_VALUE, 2);
      store.flush();
      assert.deepEqual(seriesCells(family(store.collect(), d.name), []), [2]);
    }));

  test(`${name}: a rejected update with valid labels leaves no series behind`, () =>
    withStore(async (store) => {
      const registry = new Registry();
      const common = { labelNames: ['a'], registers: [registry], store } as const;
      const counter = new Counter({
        name: 'conf_rej_total',
        help: 'h',
        enableExemplars: true,
        ...common,
      });
      const gauge = new Gauge({
        name: 'conf_rej_gauge',
        help: 'h',
        multiprocessMode: 'sum',
        ...common,
      });
      const latest = new Gauge({
        name: 'conf_rej_latest',
        help: 'h',
        multiprocessMode: 'mostrecent',
        ...common,
      });
      const histogram = new Histogram({
        name: 'conf_rej_seconds',
        help: 'h',
        buckets: [1],
        enableExemplars: true,
        ...common,
      });
      const summary = new Summary({
        name: 'conf_rej_summary',
        help: 'h',
        percentiles: [0.5],
        ...common,
      });
      const badExemplar = { 'not-a-label': 'x' };
      const rejected: [() => unknown, string][] = [
        [() => counter.inc({ a: 'negative' }, -1), 'PROMFORK_NEGATIVE_INCREMENT'],
        [() => counter.inc({ a: 'nan' }, Number.NaN), 'PROMFORK_INVALID_VALUE'],
        [() => counter.inc({ labels: { a: 'data' }, value: -2 }), 'PROMFORK_NEGATIVE_INCREMENT'],
        [
          () => counter.inc({ labels: { a: 'exemplar' }, value: 1, exemplarLabels: badExemplar }),
          'PROMFORK_INVALID_EXEMPLAR',
        ],
        [() => gauge.inc({ a: 'inf' }, Number.POSITIVE_INFINITY), 'PROMFORK_INVALID_VALUE'],
        [() => gauge.dec({ a: 'nan' }, Number.NaN), 'PROMFORK_INVALID_VALUE'],
        [() => gauge.set({ a: 'string' }, '3' as never), 'PROMFORK_INVALID_VALUE'],
        [() => latest.inc({ a: 'inc' }), 'PROMFORK_OPERATION_NOT_SUPPORTED'],
        [() => latest.dec({ a: 'dec' }, 1), 'PROMFORK_OPERATION_NOT_SUPPORTED'],
        [() => latest.set({ a: 'nan' }, Number.NaN), 'PROMFORK_INVALID_VALUE'],
        [() => histogram.observe({ a: 'nan' }, Number.NaN), 'PROMFORK_INVALID_VALUE'],
        [
          () => histogram.observe({ labels: { a: 'data' }, value: Number.NEGATIVE_INFINITY }),
          'PROMFORK_INVALID_VALUE',
        ],
        [() => histogram.startTimer({ a: 'timer' }, badExemplar)(), 'PROMFORK_INVALID_EXEMPLAR'],
        [() => summary.observe({ a: 'nan' }, Number.NaN), 'PROMFORK_INVALID_VALUE'],
        [() => summary.observe({ a: 'string' }, '1' as never), 'PROMFORK_INVALID_VALUE'],
      ];
      for (const [update, code] of rejected) assert.throws(update, { code });
      store.flush();
      const samples = (await registry.metrics()).split('\n').filter((l) => /^[a-z]/.test(l));
      assert.deepEqual(samples, []);
      // The same label sets still work once the update is valid.
      counter.inc({ a: 'negative' }, 1);
      latest.set({ a: 'inc' }, 2);
      summary.observe({ a: 'nan' }, 3);
      store.flush();
      const after = (await registry.metrics()).split('\n').filter((l) => /^[a-z]/.test(l));
      assert.deepEqual(after, [
        'conf_rej_total{a="negative"} 1',
        'conf_rej_latest{a="inc"} 2',
        'conf_rej_summary{a="nan",quantile="0.5"} 3.0011537489936195',
        'conf_rej_summary_sum{a="nan"} 3',
        'conf_rej_summary_count{a="nan"} 1',
      ]);
    }));
}
