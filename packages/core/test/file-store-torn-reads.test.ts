/**
 * Consistent reads under continuous writes, with real processes: writers rewrite their
 * histogram, summary and counter series every event-loop turn (fixtures/hammer-writer.ts)
 * while this process scrapes the directory again and again. A read() of a file racing a
 * pwrite() of it has no atomicity, so without per-series checks some scraped series mix two
 * moments (`+Inf` != `_count`, a `_sum` of another moment). Every scraped series must be
 * internally consistent, and counters must never go down from one scrape to the next.
 *
 * Whether a given scrape races a write is up to the scheduler; the test does not time
 * anything, it only scrapes enough times that, before the checks existed, torn series were
 * seen in every run (see docs/reliability.md for the figures).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import {
  histogramCountIndex,
  histogramSumIndex,
  SUMMARY_COUNT,
  SUMMARY_SUM,
} from '../src/store.js';
import { tempDir, Worker } from './file-store-helpers.js';
import { HAMMER_BUCKETS, HAMMER_SERIES, HAMMER_SUMMARY_VALUE } from './fixtures/hammer-shape.js';

const FULL = process.env.PROMFORK_FULL === '1';
const WRITERS = 2;
const SCRAPES = FULL ? 3000 : 300;

describe('FileStore: consistent reads under continuous writes', () => {
  const { dir, cleanup } = tempDir('promfork-torn-');
  const workers: Worker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    cleanup();
  });

  it('every scraped series is from one moment, and counters never go down', async () => {
    for (let i = 0; i < WRITERS; i++) workers.push(new Worker(dir, 'hammer-writer'));
    await Promise.all(workers.map((w) => w.ready));
    const scraper = new FileStore({ dir, compactDeadProcesses: false });
    const torn: string[] = [];
    let seen = 0;
    let lastTurns = 0;
    const lastCounts = new Map<string, number>();
    const tornReads: Record<string, number> = {};
    try {
      for (let scrape = 0; scrape < SCRAPES; scrape++) {
        for (const family of scraper.collect()) {
          const { name, labelNames } = family.descriptor;
          for (const s of family.series) {
            const id = `${name}{${labelNames.map((n, i) => `${n}=${s.labelValues[i]}`)}}`;
            const cells = s.cells;
            if (name === 'hammer_seconds') {
              seen++;
              const n = HAMMER_BUCKETS.length;
              let count = 0;
              let sum = 0;
              for (let b = 0; b <= n; b++) count += cells[b]!;
              for (let b = 0; b < n; b++) sum += cells[b]! * HAMMER_BUCKETS[b]!;
              const storedCount = cells[histogramCountIndex(n)]!;
              const storedSum = cells[histogramSumIndex(n)]!;
              if (count !== storedCount || sum !== storedSum) {
                torn.push(
                  `${id}: buckets add to ${count}, sum ${sum}; _count ${storedCount}, _sum ${storedSum}`,
                );
              }
              const before = lastCounts.get(id) ?? 0;
              assert.ok(
                storedCount >= before,
                `${id} _count went down: ${before} -> ${storedCount}`,
              );
              lastCounts.set(id, storedCount);
            } else if (name === 'hammer_summary_seconds') {
              seen++;
              if (cells[SUMMARY_SUM] !== HAMMER_SUMMARY_VALUE * cells[SUMMARY_COUNT]!) {
                torn.push(`${id}: _sum ${cells[SUMMARY_SUM]}, _count ${cells[SUMMARY_COUNT]}`);
              }
            } else if (name === 'promfork_store_torn_reads_total') {
              tornReads[s.labelValues[0]!] = cells[0]!;
            } else if (name === 'hammer_turns_total') {
              const turns = cells[0]!;
              assert.ok(
                turns >= lastTurns,
                `hammer_turns_total went down: ${lastTurns} -> ${turns}`,
              );
              lastTurns = turns;
            }
          }
        }
      }
    } finally {
      scraper.close();
    }
    assert.equal(seen, SCRAPES * (HAMMER_SERIES + 1), 'every scrape shows every series');
    assert.ok(lastTurns > 0, 'the writers wrote');
    assert.deepEqual(
      torn.slice(0, 5),
      [],
      `${torn.length} of ${seen} scraped series were torn (torn reads counted: ${JSON.stringify(tornReads)})`,
    );
  });
});
