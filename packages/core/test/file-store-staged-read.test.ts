/**
 * A reader reads another process's file that it holds no large enough earlier image of
 * through one reused staging buffer, a chunk (1 MiB) at a time (bounded-read.ts): files of
 * several chunks and a partial last one, read fresh (the first two reads), into a reused
 * image (the third), and fresh again after the file outgrew the images it had.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore } from '../src/file-store/index.js';
import { flatten, tempDir, Worker } from './file-store-helpers.js';

const CHUNK = 1024 * 1024;

describe('a reader of a file of several read chunks', () => {
  const { dir, cleanup } = tempDir('promfork-staged-read-');
  after(() => cleanup());

  it('shows every series of the file at every scrape, as the file grows', async () => {
    const worker = new Worker(dir);
    const reader = new FileStore({ dir });
    try {
      const { fileName } = await worker.ready;
      const expected = (prefix: string, count: number, value: number) =>
        Object.fromEntries(
          Array.from({ length: count }, (_, i) => [
            `staged_total{k=${prefix}${String(i).padStart(5, '0')}}`,
            [value],
          ]),
        );
      for (const [prefix, count, by] of [
        ['a', 30000, 3],
        ['b', 70000, 5],
      ] as const) {
        await worker.run({ op: 'relabel', name: 'staged_total', prefix, count, by });
        // The header's `used` (FORMAT.md): what a reader reads, in chunks of 1 MiB.
        const used = readFileSync(join(dir, fileName)).readUInt32LE(16);
        assert.ok(
          used > CHUNK && used % CHUNK !== 0,
          `several chunks, a partial last (${used} bytes)`,
        );
        // Fresh images twice (the reader keeps two per file), then one written over.
        for (let scrape = 0; scrape < 3; scrape++) {
          assert.deepEqual(
            flatten(reader.collect()),
            expected(prefix, count, by),
            `${prefix} ${scrape}`,
          );
        }
      }
    } finally {
      reader.close();
      await worker.stop();
    }
  });
});
