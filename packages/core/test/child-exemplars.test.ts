/**
 * `counterChild.incWithExemplar` and `histogramChild.observeWithExemplar`: the
 * `{ labels, value, exemplarLabels }` form of the metric without the label lookup (the HTTP
 * instrumentation's `exemplarLabels` option records through them). Same output, same errors,
 * on both stores, and from a child held across a reset.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Counter, Histogram, type Registry } from '../src/index.js';
import { bothStores, type OnStore } from './helpers/both-stores.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

const stores = bothStores('promfork-child-exemplars-');
after(() => stores.close());

/** A counter labelled `k`, with exemplars. */
function exemplarCounter(iso: OnStore['iso']): Counter<'k'> {
  return new Counter({
    name: 'c_total',
    help: 'c',
    labelNames: ['k'],
    enableExemplars: true,
    ...iso,
  });
}

/** The OpenMetrics lines of `name`'s samples, exemplar timestamps replaced by `T`. */
async function scrape(registry: Registry, name: string): Promise<string[]> {
  const text = String((await registry.scrape(OPENMETRICS)).body);
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .map((line) =>
      line.replace(/ (\d+(\.\d+)?)$/, (_, ts: string) => (line.includes('#') ? ' T' : ` ${ts}`)),
    );
}

for (const [storeName, setup] of Object.entries(stores.kinds)) {
  describe(`children record exemplars directly (${storeName})`, () => {
    it('a counter child: the same samples and exemplar as the metric form', async () => {
      const viaMetric = setup();
      const viaChild = setup();
      const m = exemplarCounter(viaMetric.iso);
      const c = exemplarCounter(viaChild.iso);
      m.inc({ labels: { k: 'a' }, value: 2, exemplarLabels: { trace: 't1' } });
      m.inc({ labels: { k: 'a' }, value: 3, exemplarLabels: { trace: 't2' } });
      const child = c.labels('a');
      child.incWithExemplar(2, { trace: 't1' });
      child.incWithExemplar(3, { trace: 't2' });
      const expected = ['c_total{k="a"} 5 # {trace="t2"} 3 T'];
      assert.deepEqual(await scrape(viaMetric.registry, 'c_total'), expected);
      assert.deepEqual(await scrape(viaChild.registry, 'c_total'), expected);
    });

    it('a counter child without a value (plain JavaScript): adds 1 with an exemplar of 1, as the metric form', async () => {
      const { registry, iso } = setup();
      const c = exemplarCounter(iso);
      const incWithExemplar = c.labels('a').incWithExemplar as (
        value: number | undefined,
        labels: Record<string, string>,
      ) => void;
      incWithExemplar.call(c.labels('a'), undefined, { trace: 't1' });
      c.inc({ labels: { k: 'b' }, exemplarLabels: { trace: 't2' } });
      assert.deepEqual(await scrape(registry, 'c_total'), [
        'c_total{k="a"} 1 # {trace="t1"} 1 T',
        'c_total{k="b"} 1 # {trace="t2"} 1 T',
      ]);
    });

    it('a histogram child: the exemplar of the bucket the value fell in', async () => {
      const { registry, iso } = setup();
      const h = new Histogram({
        name: 'h',
        help: 'h',
        labelNames: ['k'],
        buckets: [1, 10],
        enableExemplars: true,
        ...iso,
      });
      const child = h.labels('a');
      child.observeWithExemplar(1.5, { trace: 't1' });
      child.observeWithExemplar(0.5, { trace: 't2' });
      assert.deepEqual(await scrape(registry, 'h'), [
        'h_bucket{k="a",le="1.0"} 1 # {trace="t2"} 0.5 T',
        'h_bucket{k="a",le="10.0"} 2 # {trace="t1"} 1.5 T',
        'h_bucket{k="a",le="+Inf"} 2',
        'h_sum{k="a"} 2',
        'h_count{k="a"} 2',
      ]);
    });

    it('throws as the metric form does and records nothing then', async () => {
      const { registry, iso } = setup();
      const c = exemplarCounter(iso);
      const plain = new Histogram({
        name: 'h',
        help: 'h',
        labelNames: ['k'],
        buckets: [1],
        ...iso,
      });
      const child = c.labels('a');
      assert.throws(() => child.incWithExemplar(1, { t: 'x'.repeat(200) }), {
        code: 'PROMFORK_INVALID_EXEMPLAR',
      });
      assert.throws(() => child.incWithExemplar(-1, { t: 'x' }), {
        code: 'PROMFORK_NEGATIVE_INCREMENT',
      });
      assert.throws(() => plain.labels('a').observeWithExemplar(0.5, { t: 'x' }), {
        code: 'PROMFORK_OPERATION_NOT_SUPPORTED',
      });
      assert.deepEqual(await scrape(registry, 'c_total'), ['c_total{k="a"} 0']);
      assert.ok((await scrape(registry, 'h_count')).includes('h_count{k="a"} 0'));
    });

    it('a child held across reset() records its exemplar in the series made again', async () => {
      const { registry, iso } = setup();
      const c = exemplarCounter(iso);
      const held = c.labels('a');
      held.incWithExemplar(4, { trace: 'old' });
      c.reset();
      held.incWithExemplar(1, { trace: 'new' });
      assert.deepEqual(await scrape(registry, 'c_total'), ['c_total{k="a"} 1 # {trace="new"} 1 T']);
    });
  });
}
