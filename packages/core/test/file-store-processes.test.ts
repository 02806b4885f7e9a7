/**
 * FileStore across real processes: workers forked from the compiled fixture write, this test
 * process scrapes through its own FileStore on the same directory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import type { GaugeMode } from '../src/types.js';
import { GAUGE_MODES } from '../src/types.js';
import { flatten, singleValue, tempDir, Worker } from './file-store-helpers.js';

describe('FileStore with forked workers', () => {
  let dir: string;
  let cleanup: () => void;
  const workers: Worker[] = [];

  before(() => {
    ({ dir, cleanup } = tempDir());
  });
  after(async () => {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) await w.kill();
    cleanup();
  });

  async function start(count: number, into: string = dir): Promise<Worker[]> {
    const started = Array.from({ length: count }, () => new Worker(into));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready));
    return started;
  }

  it('merges counters and histograms of several workers exactly', async () => {
    const { dir: own, cleanup: done } = tempDir();
    try {
      const ws = await start(3, own);
      for (const [i, w] of ws.entries()) {
        // Several turns per worker, so the per-turn flush runs many times.
        for (let turn = 0; turn < 5; turn++) {
          await w.run({ op: 'inc', name: 'jobs_total', labels: ['a'], times: 10 + i, by: 1 });
        }
        await w.run({ op: 'inc', name: 'jobs_total', labels: ['b'], times: 1, by: 0.5 });
        await w.run({ op: 'observe', name: 'latency', buckets: [1, 5], values: [0.5, 2, 9] });
      }
      const scraper = new FileStore({ dir: own });
      const got = flatten(scraper.collect());
      assert.deepEqual(got, {
        'jobs_total{l0=a}': [5 * (10 + 11 + 12)],
        'jobs_total{l0=b}': [1.5],
        // Non-cumulative buckets [<=1, <=5, +Inf], sum, count.
        'latency{}': [3, 3, 3, 3 * 11.5, 9],
      });
      // Workers that exit normally keep their counts.
      await Promise.all(ws.map((w) => w.stop()));
      assert.deepEqual(flatten(scraper.collect()), got);
      scraper.close();
    } finally {
      done();
    }
  });

  it('keeps the counts of a worker SIGKILLed right after its last update', async () => {
    const { dir: own, cleanup: done } = tempDir();
    try {
      const [w] = await start(1, own);
      for (let turn = 0; turn < 3; turn++) {
        await w!.run({ op: 'inc', name: 'killed_total', labels: [], times: 333, by: 1 });
      }
      await w!.run({ op: 'inc', name: 'killed_total', labels: [], times: 1, by: 1 });
      await w!.kill();
      const scraper = new FileStore({ dir: own });
      assert.equal(singleValue(scraper.collect(), 'killed_total'), 1000);
      scraper.close();
    } finally {
      done();
    }
  });

  it('writes the updates of the exiting turn from the exit hook', async () => {
    const { dir: own, cleanup: done } = tempDir();
    try {
      const [w] = await start(1, own);
      await w!.run({ op: 'inc', name: 'exiting_total', labels: [], times: 5, by: 1 });
      // No ack comes back: the worker exits in the turn of the updates.
      void w!.run({ op: 'incAndExit', name: 'exiting_total', times: 7 });
      const { code } = await w!.exited;
      assert.equal(code, 0);
      const scraper = new FileStore({ dir: own });
      assert.equal(singleValue(scraper.collect(), 'exiting_total'), 12);
      scraper.close();
    } finally {
      done();
    }
  });

  it('merges gauges by every mode and drops live-mode gauges of dead workers', async () => {
    const { dir: own, cleanup: done } = tempDir();
    try {
      const ws = await start(3, own);
      const values = [5, -2, 11];
      // Distinct timestamps: worker 1 set its value last.
      const stamps = [1000, 3000, 2000];
      for (const mode of GAUGE_MODES) {
        for (const [i, w] of ws.entries()) {
          await w.run({
            op: 'gauge',
            name: `g_${mode}`,
            mode,
            value: values[i]!,
            timestamp: stamps[i]!,
          });
        }
      }
      const scraper = new FileStore({ dir: own });
      const pids = ws.map((w) => w.pid);
      const expected = (alive: boolean[]): Record<string, number[]> => {
        const out: Record<string, number[]> = {};
        for (const mode of GAUGE_MODES) {
          // A dead worker's file is compacted by the scrape: its `all` series go too.
          const live = mode.startsWith('live') || mode === 'all';
          const idx = [0, 1, 2].filter((i) => !live || alive[i]);
          const vs = idx.map((i) => values[i]!);
          const ts = idx.map((i) => stamps[i]!);
          const latest = Math.max(...ts);
          if (mode === 'all' || mode === 'liveall') {
            for (const i of idx) out[`g_${mode}{pid=${pids[i]}}`] = [values[i]!, stamps[i]!];
            continue;
          }
          const base = mode.replace('live', '') as GaugeMode;
          const value =
            base === 'sum'
              ? vs.reduce((a, b) => a + b, 0)
              : base === 'min'
                ? Math.min(...vs)
                : base === 'max'
                  ? Math.max(...vs)
                  : vs[ts.indexOf(latest)]!;
          out[`g_${mode}{}`] = [value, latest];
        }
        return out;
      };
      assert.deepEqual(flatten(scraper.collect()), expected([true, true, true]));
      // Worker 1 (latest timestamp, minimum value) dies: live modes and `all` forget it (its
      // file is folded into the archive), the others keep its value.
      await ws[1]!.kill();
      assert.deepEqual(flatten(scraper.collect()), expected([true, false, true]));
      scraper.close();
    } finally {
      done();
    }
  });

  it('completes a scrape while another process is stuck in a busy loop', async () => {
    const { dir: own, cleanup: done } = tempDir();
    try {
      const [w] = await start(1, own);
      await w!.run({ op: 'inc', name: 'stuck_total', labels: [], times: 42, by: 1 });
      await w!.run({ op: 'busy' });
      const scraper = new FileStore({ dir: own });
      assert.equal(singleValue(scraper.collect(), 'stuck_total'), 42);
      scraper.close();
      await w!.kill();
    } finally {
      done();
    }
  });
});
