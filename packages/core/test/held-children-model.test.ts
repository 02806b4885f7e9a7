/**
 * Random sequences of updates through held children and the metric, `remove`, `reset`,
 * `registry.resetMetrics()` and `registry.clear()` with registering again, checked after every
 * step against a model of prom-client's behaviour (a child writes into the metric's current
 * series of its label values, created from 0 when missing), with and without `maxSeries` (a
 * label set is kept while the metric has room; a child of a dropped one counts as soon as
 * there is room). On both stores. Seeded, so a failure names a reproducible sequence.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Counter, type CounterChild } from '../src/index.js';
import { bothStores } from './helpers/both-stores.js';

const stores = bothStores('promfork-held-model-');
after(() => stores.close());

/** A small seeded generator (mulberry32): integers in [0, n). */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

const KEYS = ['a', 'b', 'c'];

for (const [storeName, setup] of Object.entries(stores.kinds)) {
  describe(`held children against a model of prom-client (${storeName})`, () => {
    for (const maxSeries of [Number.POSITIVE_INFINITY, 2]) {
      it(`random sequences, maxSeries ${maxSeries}`, async () => {
        for (let seed = 1; seed <= 40; seed++) {
          const random = generator(seed);
          const { registry, iso } = setup();
          const c = new Counter({
            name: 'c_total',
            help: 'c',
            labelNames: ['k'],
            maxSeries,
            onError: () => {},
            ...iso,
          });
          const model = new Map<string, number>();
          const room = (key: string) => model.has(key) || model.size < maxSeries;
          const count = (key: string) => {
            if (room(key)) model.set(key, (model.get(key) ?? 0) + 1);
          };
          const held: CounterChild[] = [];
          const steps: string[] = [];
          for (let step = 0; step < 40; step++) {
            const key = KEYS[random(KEYS.length)] as string;
            const op = random(8);
            if (op === 0) {
              held.push(c.labels(key));
              if (room(key)) model.set(key, model.get(key) ?? 0);
              steps.push(`labels(${key})`);
            } else if (op <= 2 && held.length > 0) {
              const child = held[random(held.length)] as CounterChild;
              child.inc();
              count(child.labelValues[0] as string);
              steps.push(`held(${child.labelValues[0]}).inc()`);
            } else if (op === 3) {
              c.inc({ k: key });
              count(key);
              steps.push(`inc(${key})`);
            } else if (op === 4) {
              c.remove(key);
              model.delete(key);
              steps.push(`remove(${key})`);
            } else if (op === 5) {
              c.reset();
              model.clear();
              steps.push('reset()');
            } else if (op === 6) {
              registry.resetMetrics();
              model.clear();
              steps.push('resetMetrics()');
            } else {
              registry.clear();
              registry.registerMetric(c);
              model.clear();
              steps.push('clear()');
            }
            const text = await registry.getSingleMetricAsString('c_total');
            const got = text
              .split('\n')
              .filter((line) => line !== '' && !line.startsWith('#'))
              .sort();
            const want = [...model].sort().map(([k, v]) => `c_total{k="${k}"} ${v}`);
            assert.deepEqual(got, want, `seed ${seed}: ${steps.join(', ')}`);
          }
        }
      });
    }
  });
}
