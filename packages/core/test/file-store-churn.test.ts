/**
 * Worker churn under PM2-style operation (no code in the primary): short-lived workers, each a
 * real process with its own FileStore, come and go while a long-lived scraping process (this
 * one) scrapes between them. Compaction of dead processes' files is done by both mechanisms a
 * PM2 setup has, alternately: in even batches every worker's store compacts when it starts, in
 * odd batches the workers do not compact at all and only the scraper's scrapes do. Every 7th
 * worker is SIGKILLed after its last update instead of exiting.
 *
 * Checked after every batch: the directory holds at most the batch's files, the archive and the
 * scraper's own file (plus the compaction lock, transiently); after the scraper's scrape only
 * the archive and its own file; and the merged numbers equal the sum of every lifetime so far.
 * Scrape time after the first 10 lifetimes and after all of them is reported (a diagnostic,
 * not an assertion: timing goals live in bench/, `churn.scrape`).
 *
 * Quick mode (default): 100 lifetimes. PROMFORK_FULL=1: 1,000 lifetimes.
 */
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ARCHIVE_FILE_NAME, FileStore, LOCK_FILE_NAME } from '../src/file-store/index.js';
import { expectedAfter, listing, shortLived } from './compaction-helpers.js';
import { flatten, tempDir } from './file-store-helpers.js';

const FULL = process.env.PROMFORK_FULL === '1';
const LIFETIMES = FULL ? 1000 : 100;
const PARALLEL = 6;
const BASELINE = 10;
const TIMING_ROUNDS = 7;

/** Median wall time in ms of `rounds` scrapes (each a full merge of the directory). */
function scrapeMs(store: FileStore, rounds: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    store.collect();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1] as number;
}

describe('worker churn', () => {
  const { dir, cleanup } = tempDir('promfork-churn-');
  after(() => cleanup());

  it(`${LIFETIMES} worker lifetimes leave only live files and one archive, counts exact`, async (t) => {
    const scraper = new FileStore({ dir });
    const own = scraper.fileName;
    const done: number[] = [];
    let next = 0;
    let baselineMs = 0;
    const started = Date.now();
    try {
      for (let batch = 0; next < LIFETIMES; batch++) {
        // The first batch ends at BASELINE lifetimes so that the baseline timing falls there.
        const end = Math.min(next + (next < BASELINE ? BASELINE - next : PARALLEL), LIFETIMES);
        const size = Math.min(PARALLEL, end - next);
        const compact = batch % 2 === 0;
        while (next < end) {
          const indices = Array.from({ length: Math.min(size, end - next) }, () => next++);
          await Promise.all(
            indices.map((i) => shortLived(dir, i, i % 7 === 3 ? 'kill' : 'exit', compact)),
          );
          done.push(...indices);
          // Before any scrape: at most this round's dead files, the archive and the scraper's.
          const files = listing(dir, [LOCK_FILE_NAME]);
          assert.ok(files.length <= size + 2, `after lifetime ${next}: ${files.join(', ')}`);
        }
        // The scrape compacts what the workers left and merges the archive: exact numbers.
        assert.deepEqual(flatten(scraper.collect()), expectedAfter(done), `after ${next}`);
        assert.deepEqual(
          listing(dir, [LOCK_FILE_NAME]),
          [own, ARCHIVE_FILE_NAME].sort(),
          `after the scrape at ${next} lifetimes`,
        );
        if (next === BASELINE) baselineMs = scrapeMs(scraper, TIMING_ROUNDS);
      }
      const afterMs = scrapeMs(scraper, TIMING_ROUNDS);
      assert.equal(done.length, LIFETIMES);
      // A store that starts now sees the same totals.
      const fresh = new FileStore({ dir });
      assert.deepEqual(flatten(fresh.collect()), expectedAfter(done));
      fresh.close();
      unlinkSync(join(dir, fresh.fileName)); // a live process's file: not part of the churn
      assert.deepEqual(listing(dir, [LOCK_FILE_NAME]), [own, ARCHIVE_FILE_NAME].sort());
      const work = flatten(scraper.collect())['work_total{}'];
      t.diagnostic(
        `churn: ${LIFETIMES} lifetimes in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `files after churn: ${listing(dir).length} (archive + scraper); work_total ${work} ` +
          `= sum of every lifetime's increments; median scrape ${baselineMs.toFixed(3)} ms after ` +
          `${BASELINE}, ${afterMs.toFixed(3)} ms after ${LIFETIMES} ` +
          `(ratio ${(afterMs / baselineMs).toFixed(2)})`,
      );
    } finally {
      scraper.close();
    }
  });
});
