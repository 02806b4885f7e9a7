/**
 * Worker churn under PM2-style operation (no code in the primary): 200 short-lived workers,
 * each a real process whose FileStore compacts dead processes' files when it starts. The
 * directory must stay at live files + one archive, and the merged numbers stay exact.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ARCHIVE_FILE_NAME, FileStore } from '../src/file-store/index.js';
import { expectedAfter, listing, shortLived } from './compaction-helpers.js';
import { flatten, tempDir } from './file-store-helpers.js';

describe('worker churn', () => {
  const { dir: root, cleanup } = tempDir('promfork-churn-');
  after(() => cleanup());
  const dirFor = (): string => root;

  it('200 short-lived workers leave only live files and one archive, counts exact', async () => {
    const dir = dirFor();
    const total = 200;
    const parallel = 6;
    let next = 0;
    for (let batch = 0; next < total; batch++) {
      const indices = Array.from({ length: Math.min(parallel, total - next) }, () => next++);
      // Every 7th worker is SIGKILLed after its last update instead of exiting.
      await Promise.all(indices.map((i) => shortLived(dir, i, i % 7 === 3 ? 'kill' : 'exit')));
      // Each worker compacts dead files when its store starts: at most this batch's files
      // and the archive are left.
      const files = listing(dir);
      assert.ok(files.length <= parallel + 1, `after batch ${batch}: ${files.join(', ')}`);
    }
    const all = Array.from({ length: total }, (_, i) => i);
    const scraper = new FileStore({ dir });
    assert.deepEqual(flatten(scraper.collect()), expectedAfter(all));
    assert.deepEqual(listing(dir), [scraper.fileName, ARCHIVE_FILE_NAME].sort());
    scraper.close();
  });
});
