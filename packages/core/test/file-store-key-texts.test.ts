/**
 * The reader finds the key text of a series entry by the key's bytes, shared by every entry
 * with those bytes among the files of a scrape (src/file-store/key-texts.ts). Two writers
 * holding the same thousands of label sets (keys that differ in their last bytes only, enough
 * to grow the table several times), under two metrics, plus keys that need escapes or are
 * not ASCII: every series keeps its own values, merged across the files, scrape after scrape.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FormatProblem, readHeader } from '../src/file-store/format.js';
import { FileStore } from '../src/file-store/index.js';
import { KeyTexts } from '../src/file-store/key-texts.js';
import { parseEntries } from '../src/file-store/reader.js';
import { counterOf, flatten, tempDir, Worker } from './file-store-helpers.js';

const COUNT = 3000;
const ODD = ['quote " back \\ line \n', 'é ü 日本', ''];

/** `{ "<name>{k=k00000}": [value], ... }` for the relabelled counters. */
function expected(name: string, value: number): Record<string, number[]> {
  return Object.fromEntries(
    Array.from({ length: COUNT }, (_, i) => [`${name}{k=k${String(i).padStart(5, '0')}}`, [value]]),
  );
}

describe('key texts shared by key bytes across the files of a scrape', () => {
  const { dir, cleanup } = tempDir('promfork-key-texts-');
  after(() => cleanup());

  it('merges equal keys of several files and metrics, and keeps distinct keys apart', async () => {
    const first = new Worker(dir);
    const second = new Worker(dir);
    const reader = new FileStore({ dir });
    try {
      await Promise.all([first.ready, second.ready]);
      await first.run({ op: 'relabel', name: 'x_total', prefix: 'k', count: COUNT, by: 1 });
      await second.run({ op: 'relabel', name: 'x_total', prefix: 'k', count: COUNT, by: 2 });
      await second.run({ op: 'relabel', name: 'y_total', prefix: 'k', count: COUNT, by: 5 });
      await first.run({ op: 'inc', name: 'odd_total', labels: ODD, times: 1, by: 1 });
      await second.run({ op: 'inc', name: 'odd_total', labels: ODD, times: 1, by: 4 });
      await second.run({ op: 'inc', name: 'pair_total', labels: ODD.slice(1), times: 1, by: 7 });
      const want = {
        ...expected('x_total', 3),
        ...expected('y_total', 5),
        [`odd_total{l0=${ODD[0]},l1=${ODD[1]},l2=}`]: [5],
        [`pair_total{l0=${ODD[1]},l1=}`]: [7],
      };
      // The first scrape parses every entry; the second reuses the parsed entries.
      assert.deepEqual(flatten(reader.collect()), want);
      assert.deepEqual(flatten(reader.collect()), want);
    } finally {
      reader.close();
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('finds keys that all share one hash (a planted file) past the probe bound, each apart', () => {
    const { dir: own, cleanup: done } = tempDir('promfork-key-hash-');
    try {
      const store = new FileStore({ dir: own });
      const metric = counterOf('z_total', ['k']);
      for (let i = 0; i < 500; i++) store.series(metric, [`v${i}`]).add(0, i);
      store.close();
      const bytes = readFileSync(join(own, store.fileName));
      const header = readHeader(bytes);
      assert.ok(!(header instanceof FormatProblem));
      const values = (keys: KeyTexts) => {
        const parsed = parseEntries('f', header, bytes, undefined, undefined, keys);
        assert.ok(!(parsed instanceof FormatProblem));
        const family = parsed.families.find((f) => f.descriptor.name === 'z_total');
        return family?.series.map((s, i) => [s.key, family.data[family.starts[i]!]]);
      };
      const expected = values(new KeyTexts());
      assert.equal(expected?.length, 500);
      // Every key hashes alike: all but the first 64 are found through the overflow Map.
      assert.deepEqual(values(new KeyTexts(() => 7)), expected);
    } finally {
      done();
    }
  });
});
