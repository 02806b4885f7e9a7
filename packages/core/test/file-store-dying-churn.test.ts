/**
 * A long-lived scraper over forked writers that come and go with label sets that churn: each
 * round two writers count into a random subset of label sets (escaped, non-ASCII, near-equal
 * keys) on two counters, then one exits and one is SIGKILLed; the scraper's merged values after
 * every round equal the sum over every lifetime so far (dead processes' files read as they are
 * or folded into the archive). Guards the reader's key texts, entry caches and merge plans
 * across files that vanish, are compacted and are replaced by new ones.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { flatten, tempDir, Worker } from './file-store-helpers.js';

const VALUES = ['x', 'x ', 'é', '"q"', 'a\\b', 'l\n', '', 'k1', 'k2', 'k10'];

describe('scrapes over writers that die, with churning label sets', () => {
  const { dir, cleanup } = tempDir('promfork-dying-churn-');
  after(() => cleanup());

  it('keeps every lifetime counted, per label set, round after round', async () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const want: Record<string, number[]> = {};
    const scraper = new FileStore({ dir });
    try {
      for (let round = 0; round < 6; round++) {
        const writers = [new Worker(dir), new Worker(dir)];
        await Promise.all(writers.map((w) => w.ready));
        for (const [w, writer] of writers.entries()) {
          for (const name of ['p_total', 'q_total']) {
            for (const a of VALUES) {
              if (next() < 0.5) continue;
              const b = VALUES[Math.floor(next() * VALUES.length)] as string;
              const by = 1 + w + round;
              await writer.run({ op: 'inc', name, labels: [a, b], times: 1, by });
              const id = `${name}{l0=${a},l1=${b}}`;
              want[id] = [(want[id]?.[0] ?? 0) + by];
            }
          }
          await writer.run({ op: 'flush' });
        }
        const [exiting, killed] = writers as [Worker, Worker];
        void exiting.run({ op: 'exit' }); // Answered by the exit, not by an ack.
        killed.child.kill('SIGKILL');
        await Promise.all([exiting.exited, killed.exited]);
        assert.deepEqual(flatten(scraper.collect()), want, `round ${round}`);
        assert.deepEqual(flatten(scraper.collect()), want, `round ${round}, again`);
      }
    } finally {
      scraper.close();
    }
  });
});
