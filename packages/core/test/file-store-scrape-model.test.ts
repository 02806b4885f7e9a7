/**
 * Scrapes of a FileStore over many rounds of churn, checked against a model: writer stores of
 * one directory add, remove and reset series of two counters that share label values (escaped,
 * non-ASCII, near-equal keys), and a reader store's registry renders the merged text after
 * every step (key texts by key bytes, cached entries, merge plans, render records on series).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { Counter, Registry } from '../src/index.js';
import { tempDir } from './file-store-helpers.js';
import { parseExposition } from './helpers/parse-exposition.js';
import { seededRandom } from './helpers.js';

const VALUES = ['x', 'x ', 'y', 'é', '日本', '"', '\\', '\n', '', 'a","b', 'xx', 'xy'];
const NAMES = ['c_total', 'd_total'] as const;

describe('merged scrapes over churn against a model', () => {
  const { dir, cleanup } = tempDir('promfork-scrape-model-');
  after(() => cleanup());

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}`, async () => {
      const next = seededRandom(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
      const sub = `${dir}/s${seed}`;
      const writers = [0, 1, 2].map(() => {
        const store = new FileStore({ dir: sub });
        const registry = new Registry();
        const counters = NAMES.map(
          (name) =>
            new Counter({ name, help: 'h', labelNames: ['a', 'b'], store, registers: [registry] }),
        );
        return { store, counters, model: NAMES.map(() => new Map<string, number>()) };
      });
      const readerStore = new FileStore({ dir: sub });
      const registry = new Registry();
      for (const name of NAMES) {
        new Counter({
          name,
          help: 'h',
          labelNames: ['a', 'b'],
          store: readerStore,
          registers: [registry],
        });
      }
      try {
        for (let step = 0; step < 400; step++) {
          const w = pick(writers);
          const m = Math.floor(next() * NAMES.length);
          const a = pick(VALUES);
          const b = pick(VALUES);
          const key = JSON.stringify([a, b]);
          const r = next();
          if (r < 0.7) {
            const by = 1 + Math.floor(next() * 5);
            w.counters[m]!.inc({ a, b }, by);
            w.model[m]!.set(key, (w.model[m]!.get(key) ?? 0) + by);
          } else if (r < 0.95) {
            w.counters[m]!.remove({ a, b });
            w.model[m]!.delete(key);
          } else {
            w.counters[m]!.reset();
            w.model[m]!.clear();
          }
          if (next() < 0.5) continue;
          const want: Record<string, number> = {};
          for (const writer of writers) {
            writer.model.forEach((series, i) => {
              for (const [k, v] of series) {
                const id = `${NAMES[i]} ${k}`;
                want[id] = (want[id] ?? 0) + v;
              }
            });
          }
          const got: Record<string, number> = {};
          for (const family of parseExposition(await registry.metrics(), 'prometheus')) {
            if (!NAMES.includes(family.name as (typeof NAMES)[number])) continue;
            for (const s of family.samples) {
              got[`${s.name} ${JSON.stringify([s.labels.a, s.labels.b])}`] = s.value;
            }
          }
          assert.deepEqual(got, want, `step ${step}`);
        }
      } finally {
        readerStore.close();
        for (const w of writers) w.store.close();
      }
    });
  }
});
