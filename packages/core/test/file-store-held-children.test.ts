/**
 * Across real processes: a worker keeps children from `labels(...)`, drops their series
 * (`reset`, `remove`, `registry.resetMetrics()`, `registry.clear()` and registering again) and
 * updates them through the held children; another worker's `register.metrics()` (the merged
 * view of the directory) shows those updates, counted from the reset value, as prom-client's
 * held children would in one process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir, Worker } from './file-store-helpers.js';
import type { HeldDrop } from './fixtures/held-child-worker.js';

const DROPS: readonly HeldDrop[] = ['reset', 'remove', 'resetMetrics', 'clear'];

/** The samples of the held series in `text`, without HELP/TYPE lines and quantiles. */
function heldLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('held_') && !line.includes('quantile='))
    .sort();
}

describe('FileStore: children held across a drop of their series, seen from another process', () => {
  for (const how of DROPS) {
    describe(how, () => {
      let dir: string;
      let cleanup: () => void;
      let holder: Worker;
      let scraper: Worker;

      before(async () => {
        ({ dir, cleanup } = tempDir('promfork-held-'));
        holder = new Worker(dir, 'held-child-worker');
        scraper = new Worker(dir, 'held-child-worker');
        await Promise.all([holder.ready, scraper.ready]);
      });
      after(async () => {
        await Promise.all([holder.stop(), scraper.stop()]);
        cleanup();
      });

      it('the updates after the drop are in the merged exposition, from the reset value', async () => {
        await holder.run({ op: 'hold' });
        await holder.run({ op: 'update' });
        await holder.run({ op: 'update' });
        await holder.run({ op: 'drop', how });
        assert.deepEqual(heldLines(await scraper.scrape()), [], 'dropped, no update yet');
        await holder.run({ op: 'update' });
        assert.deepEqual(heldLines(await scraper.scrape()), [
          'held_gauge{k="a"} 7',
          'held_seconds_bucket{k="a",le="+Inf"} 1',
          'held_seconds_bucket{k="a",le="1"} 1',
          'held_seconds_count{k="a"} 1',
          'held_seconds_sum{k="a"} 0.5',
          'held_summary_count{k="a"} 1',
          'held_summary_sum{k="a"} 0.5',
          'held_total{k="a"} 1',
        ]);
      });
    });
  }
});
