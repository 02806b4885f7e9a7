/**
 * A long-lived scraper over forked writers with exemplars that come, reset their metrics and
 * die (by exit or SIGKILL, their files then folded into the archive): after every change, the
 * merged counts equal the sum over every lifetime so far, and every exemplar shown belongs to
 * its own series (its route and bucket) and is the latest of one live writer for that slot;
 * a slot some live writer holds an exemplar for shows one. Guards the reader's exemplar entries
 * found by their series' index in the family, across removals, new files and compaction.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { tempDir, Worker } from './file-store-helpers.js';

const ROUTES = ['/a', '/b', '/c', '/é'];
const VALUES = [0.05, 0.5, 5, 50];
/** The classic bucket of each of {@link VALUES} (buckets 0.1, 1, 10 and +Inf). */
const BUCKET = [0, 1, 2, 3];

interface Writer {
  worker: Worker;
  pid: number;
  /** Per route: counter value and classic bucket counts. */
  counts: Map<string, { total: number; buckets: number[] }>;
  /** Per `route|slot` of the counter (`c`) and the histogram (`h`): the latest trace. */
  latest: Map<string, string>;
}

describe('exemplars of writers that reset and die, against a model', () => {
  const { dir, cleanup } = tempDir('promfork-exemplar-churn-');
  after(() => cleanup());

  it('shows each exemplar on its own series, from a live writer, after every change', {
    timeout: 120_000,
  }, async () => {
    let seed = 29;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    /** Counts of writers that died, by route (they stay counted through the archive). */
    const dead = new Map<string, { total: number; buckets: number[] }>();
    const live: Writer[] = [];
    const scraper = new FileStore({ dir });
    let trace = 0;
    const spawn = async (): Promise<void> => {
      const worker = new Worker(dir, 'exemplar-worker');
      const { pid } = await worker.ready;
      live.push({ worker, pid, counts: new Map(), latest: new Map() });
    };
    /** Records one request of a random route and value in `w` (and in the model). */
    const record = async (w: Writer, op: 'record' | 'recordAndExit'): Promise<void> => {
      const route = pick(ROUTES);
      const v = Math.floor(next() * VALUES.length);
      const id = `${route}|${v}|${trace++}`;
      const c = w.counts.get(route) ?? { total: 0, buckets: [0, 0, 0, 0] };
      c.total++;
      c.buckets[BUCKET[v] as number]!++;
      w.counts.set(route, c);
      w.latest.set(`c${route}|0`, id);
      w.latest.set(`h${route}|${BUCKET[v]}`, id);
      await w.worker.run({ op, route, value: VALUES[v] as number, trace: id });
    };
    const check = (when: string) => {
      const families = scraper.collect();
      const want = new Map<string, { total: number; buckets: number[] }>();
      for (const counts of [dead, ...live.map((w) => w.counts)]) {
        for (const [route, c] of counts) {
          const sum = want.get(route) ?? { total: 0, buckets: [0, 0, 0, 0] };
          sum.total += c.total;
          c.buckets.forEach((n, i) => {
            sum.buckets[i]! += n;
          });
          want.set(route, sum);
        }
      }
      const counter = families.find((f) => f.descriptor.name === 'ex_requests_total');
      const histogram = families.find((f) => f.descriptor.name === 'ex_latency_seconds');
      const got = new Map<string, { total: number; buckets: number[] }>();
      for (const s of counter?.series ?? []) {
        got.set(s.labelValues[0] as string, { total: s.cells[0] as number, buckets: [] });
      }
      for (const s of histogram?.series ?? []) {
        const entry = got.get(s.labelValues[0] as string) ?? { total: 0, buckets: [] };
        entry.buckets = Array.from(s.cells).slice(0, 4);
        got.set(s.labelValues[0] as string, entry);
      }
      const nonZero = [...want].filter(([, c]) => c.total > 0);
      assert.deepEqual(
        Object.fromEntries([...got].sort()),
        Object.fromEntries(nonZero.sort()),
        `${when}: counts`,
      );
      for (const [kind, family] of [
        ['c', counter],
        ['h', histogram],
      ] as const) {
        for (const s of family?.series ?? []) {
          const route = s.labelValues[0] as string;
          const slots = kind === 'c' ? 1 : 4;
          for (let slot = 0; slot < slots; slot++) {
            const candidates = live
              .map((w) => w.latest.get(`${kind}${route}|${slot}`))
              .filter((t) => t !== undefined);
            const shown = s.exemplars?.[slot]?.labels.trace_id;
            const where = `${when}: ${kind} ${route} slot ${slot}`;
            if (candidates.length === 0) assert.equal(shown, undefined, where);
            else assert.ok(shown !== undefined && candidates.includes(shown), `${where}: ${shown}`);
          }
        }
      }
    };
    try {
      await spawn();
      await spawn();
      for (let step = 0; step < 24; step++) {
        const w = pick(live);
        const r = next();
        if (r < 0.7) {
          for (let i = 0; i < 1 + Math.floor(next() * 4); i++) {
            await record(w, 'record');
          }
        } else if (r < 0.8) {
          await w.worker.run({ op: 'reset' });
          w.counts.clear();
          w.latest.clear();
        } else {
          // The writer dies (its counts move to the archive, its exemplars leave) and another comes.
          live.splice(live.indexOf(w), 1);
          if (next() < 0.5) w.worker.child.kill('SIGKILL');
          else void record(w, 'recordAndExit'); // Answered by the exit, not by an ack.
          await w.worker.exited;
          for (const [route, c] of w.counts) {
            const sum = dead.get(route) ?? { total: 0, buckets: [0, 0, 0, 0] };
            sum.total += c.total;
            c.buckets.forEach((n, i) => {
              sum.buckets[i]! += n;
            });
            dead.set(route, sum);
          }
          await spawn();
        }
        check(`step ${step}`);
        check(`step ${step}, again`);
      }
    } finally {
      scraper.close();
      await Promise.all(live.map((w) => w.worker.kill()));
    }
  });
});
