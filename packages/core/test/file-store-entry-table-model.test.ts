/**
 * Scrapes of a FileStore over churn that reshapes the reader's parsed entries, checked against
 * a model after every scrape: writer stores of one directory add and remove series of a
 * counter and a histogram with exemplars, forget the histogram and declare it again with other
 * buckets (a new descriptor entry, the same keys under another slot layout), churn a third
 * counter until the writer rewrites its file to reclaim the removed series (same name, new
 * generation), and close and open again (a new file). Guards the reader's entry tables (entry
 * counts that shrink and grow, descriptors named by index), slot starts per family, exemplars
 * found by their series' index, and merge plans and series lists kept between scrapes.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { FormatProblem } from '../src/file-store/format.js';
import { FileStore } from '../src/file-store/index.js';
import { readFileHeader } from '../src/file-store/reader.js';
import type { Exemplar, MetricDescriptor } from '../src/types.js';
import { tempDir } from './file-store-helpers.js';
import { seededRandom } from './helpers.js';

const KEYS = ['a', 'b', 'c', 'd', 'é', 'x"y', ''];
const BUCKETS = [[1, 2], [1, 5, 10], [3]] as const;

const COUNTER: MetricDescriptor = {
  name: 'm_total',
  help: 'h',
  type: 'counter',
  labelNames: ['k'],
  buckets: [],
  mode: 'sum',
};
const CHURN: MetricDescriptor = { ...COUNTER, name: 'churn_total' };

function histogram(buckets: readonly number[]): MetricDescriptor {
  return {
    name: 'm_seconds',
    help: 'h',
    type: 'histogram',
    labelNames: ['k'],
    buckets: [...buckets],
    mode: 'sum',
  };
}

/** One series of a writer in the model: its cells and the trace of its latest exemplars. */
interface ModelSeries {
  cells: number[];
  /** Per exemplar slot: [timestamp, trace] of the latest one. */
  exemplars: ([number, string] | undefined)[];
}

interface Writer {
  store: FileStore;
  /** By metric name, then key. */
  model: Map<string, Map<string, ModelSeries>>;
  churnRound: number;
}

describe('merged scrapes over entry-table churn against a model', () => {
  const { dir, cleanup } = tempDir('promfork-entry-table-model-');
  after(() => cleanup());

  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`seed ${seed}`, async () => {
      const next = seededRandom(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
      const sub = `${dir}/s${seed}`;
      const open = (): Writer => ({
        store: new FileStore({ dir: sub, compactDeadProcesses: false }),
        model: new Map(),
        churnRound: 0,
      });
      const writers = [open(), open(), open()];
      const closed: Writer[] = [];
      let hist = histogram(BUCKETS[0]);
      let clock = 1;
      const reader = new FileStore({ dir: sub, compactDeadProcesses: false });
      const steps: string[] = [];
      try {
        for (let step = 0; step < 300; step++) {
          const index = Math.floor(next() * writers.length);
          const w = writers[index] as Writer;
          const key = pick(KEYS);
          const r = next();
          const seriesOf = (d: MetricDescriptor, size: number): ModelSeries => {
            let family = w.model.get(d.name);
            if (family === undefined) {
              family = new Map();
              w.model.set(d.name, family);
            }
            let series = family.get(key);
            if (series === undefined) {
              series = { cells: new Array(size).fill(0), exemplars: [] };
              family.set(key, series);
            }
            return series;
          };
          const exemplar = (d: MetricDescriptor, slot: number, series: ModelSeries) => {
            const timestamp = clock++;
            const trace = `t${timestamp}`;
            const e: Exemplar = { labels: { trace_id: trace }, value: 1, timestamp };
            w.store.exemplar(d, [key], slot, e);
            series.exemplars[slot] = [timestamp, trace];
          };
          if (r < 0.3) {
            const by = 1 + Math.floor(next() * 5);
            w.store.series(COUNTER, [key]).add(0, by);
            const series = seriesOf(COUNTER, 1);
            series.cells[0]! += by;
            if (next() < 0.5) exemplar(COUNTER, 0, series);
            steps.push(`w${index} inc ${key}`);
          } else if (r < 0.55) {
            const value = Math.floor(next() * 12);
            const b = hist.buckets;
            let bucket = b.findIndex((x) => value <= x);
            if (bucket < 0) bucket = b.length;
            const cells = w.store.series(hist, [key]);
            cells.add(bucket, 1);
            cells.add(b.length + 1, value);
            cells.add(b.length + 2, 1);
            const series = seriesOf(hist, b.length + 3);
            series.cells[bucket]! += 1;
            series.cells[b.length + 1]! += value;
            series.cells[b.length + 2]! += 1;
            if (next() < 0.5) exemplar(hist, bucket, series);
            steps.push(`w${index} observe ${key} ${value}`);
          } else if (r < 0.7) {
            const d = next() < 0.5 ? COUNTER : hist;
            w.store.remove(d, [key]);
            w.model.get(d.name)?.delete(key);
            steps.push(`w${index} remove ${d.name} ${key}`);
          } else if (r < 0.75) {
            // Every writer forgets the histogram and declares it with other buckets.
            hist = histogram(pick(BUCKETS.filter((b) => b.length !== hist.buckets.length)));
            for (const writer of writers) {
              writer.store.forget(hist);
              writer.model.delete(hist.name);
            }
            steps.push(`buckets ${hist.buckets.join(',')}`);
          } else if (r < 0.85) {
            // Replaces every series of the churn counter: enough removed series make the
            // writer rewrite its file (same name, next generation).
            w.store.reset(CHURN);
            const family = new Map<string, ModelSeries>();
            w.churnRound++;
            for (let i = 0; i < 500; i++) {
              const k = `r${w.churnRound}-${i}`;
              w.store.series(CHURN, [k]).add(0, 1);
              family.set(k, { cells: [1], exemplars: [] });
            }
            w.model.set(CHURN.name, family);
            steps.push(`w${index} churn`);
          } else if (r < 0.88) {
            // A writer leaves (its file stays, from a live process) and another comes. Its
            // histogram goes first: a later redefinition would otherwise meet it.
            w.store.forget(hist);
            w.model.delete(hist.name);
            w.store.flush();
            w.store.close();
            closed.push(w);
            writers[index] = open();
            steps.push(`w${index} replaced`);
          }
          // The stores write at the end of the turn (where a writer may also rewrite its file).
          await new Promise((resolve) => setImmediate(resolve));
          if (next() < 0.4) continue;
          assert.deepEqual(scraped(reader), expected([...writers, ...closed]), steps.join('; '));
        }
        // The churn did make writers put new files in place under their names.
        const generations = readdirSync(sub).map((name) => {
          const header = readFileHeader(sub, name);
          return header instanceof FormatProblem ? 0 : header.generation;
        });
        assert.ok(Math.max(...generations) > 0, 'a file was rewritten');
      } finally {
        reader.close();
        for (const w of writers) w.store.close();
      }
    });
  }
});

/** `{ "<name>{<key>}": [cells, exemplar traces] }` of a scrape. */
function scraped(reader: FileStore): Record<string, [number[], string[]]> {
  const out: Record<string, [number[], string[]]> = {};
  for (const family of reader.collect()) {
    const d = family.descriptor;
    if (d.name.startsWith('promfork_')) continue;
    const size = d.type === 'histogram' ? d.buckets.length + 3 : 1;
    for (const s of family.series) {
      const traces = Array.from(
        { length: d.type === 'histogram' ? d.buckets.length + 1 : 1 },
        (_, i) => String(s.exemplars?.[i]?.labels.trace_id ?? '-'),
      );
      out[`${d.name}{${s.labelValues[0]}}`] = [Array.from(s.cells).slice(0, size), traces];
    }
  }
  return out;
}

/** The model's merged view: cells summed, per exemplar slot the latest over the writers. */
function expected(writers: readonly Writer[]): Record<string, [number[], string[]]> {
  const cells = new Map<string, number[]>();
  const latest = new Map<string, ([number, string] | undefined)[]>();
  for (const w of writers) {
    for (const [name, family] of w.model) {
      for (const [key, series] of family) {
        const id = `${name}{${key}}`;
        const sum = cells.get(id);
        if (sum === undefined) cells.set(id, series.cells.slice());
        else
          series.cells.forEach((v, i) => {
            sum[i] = (sum[i] ?? 0) + v;
          });
        const slots = latest.get(id) ?? [];
        series.exemplars.forEach((e, i) => {
          if (e !== undefined && (slots[i] === undefined || slots[i]![0] < e[0])) slots[i] = e;
        });
        latest.set(id, slots);
      }
    }
  }
  const out: Record<string, [number[], string[]]> = {};
  for (const [id, sum] of cells) {
    const n = id.startsWith('m_seconds') ? sum.length - 2 : 1;
    const slots = latest.get(id) ?? [];
    out[id] = [sum, Array.from({ length: n }, (_, i) => slots[i]?.[1] ?? '-')];
  }
  return out;
}
