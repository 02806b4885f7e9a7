/**
 * A long-lived reader and a writer that rewrites its file (reclaiming removed series) more than
 * once between two of the reader's scrapes. Filesystems reuse inode numbers (ext4 hands the
 * freed inode of the first rewrite's old file to the second rewrite's new one), and a rewrite
 * keeps the writer's identity (token) in the header, so the reader must not take the file it
 * parsed before for the file in place now: its cached entries sit at the same offsets with the
 * same lengths, but hold other series.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { flatten, tempDir, Worker } from './file-store-helpers.js';

describe('a reader across two rewrites of another process file', () => {
  const { dir, cleanup } = tempDir('promfork-rewrite-reader-');
  after(() => cleanup());

  it('shows the series in place now, never labels cached from an earlier file', async () => {
    const worker = new Worker(dir);
    const reader = new FileStore({ dir });
    try {
      const { fileName } = await worker.ready;
      const expected = (prefix: string, count: number, value: number) =>
        Object.fromEntries(
          Array.from({ length: count }, (_, i) => [
            `churned_total{k=${prefix}${String(i).padStart(5, '0')}}`,
            [value],
          ]),
        );
      await worker.run({ op: 'relabel', name: 'churned_total', prefix: 'a', count: 4000, by: 1 });
      const first = statSync(join(dir, fileName)).ino;
      assert.deepEqual(flatten(reader.collect()), expected('a', 4000, 1));
      // Each phase removes at least as much as it keeps (and over 64 KiB): a rewrite each.
      await worker.run({ op: 'relabel', name: 'churned_total', prefix: 'b', count: 2000, by: 2 });
      const second = statSync(join(dir, fileName)).ino;
      await worker.run({ op: 'relabel', name: 'churned_total', prefix: 'c', count: 1000, by: 3 });
      const third = statSync(join(dir, fileName)).ino;
      assert.notEqual(second, first, 'the first phase change rewrote the file');
      assert.notEqual(third, second, 'the second phase change rewrote the file');
      assert.deepEqual(flatten(reader.collect()), expected('c', 1000, 3));
    } finally {
      reader.close();
      await worker.stop();
    }
  });
});
