/**
 * The directory removed or replaced under running writers (real processes, public API): an
 * operator's `rm -rf` (nobody recreates it), and a new primary's prepareDirectory() (which
 * removes every promfork file, running processes' included). Writers notice at a later write
 * (a flush checks at most once a second that its name still leads to its file) and put their
 * file back with every value they hold, so the merged totals are exact again. A scrape that
 * cannot list the directory names the errno; a directory that cannot be recreated is
 * reported, and the file comes back once it can be.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Counter } from '../src/counter.js';
import { FileStore, prepareDirectory } from '../src/file-store/index.js';
import { tempDir, Worker } from './file-store-helpers.js';
import { parseExposition } from './helpers/parse-exposition.js';

/** How long writers get to put their files back (they do within about a second). */
const SETTLE_MS = 20_000;

/** `jobs_total` summed over its series in a scrape's text (undefined when absent). */
function jobs(text: string): number | undefined {
  const family = parseExposition(text, 'prometheus').find((f) => f.name === 'jobs_total');
  return family?.samples.reduce((sum, s) => sum + s.value, 0);
}

/** Process files in `dir`. */
function processFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^promfork-\d+-.*\.db$/.test(n));
}

/**
 * Keeps every writer counting (one more job each, every 50 ms) until a scrape by `scraper`
 * shows exactly what they have counted in all (`counted` plus what this adds), or SETTLE_MS
 * pass; returns the last total seen and the expected one.
 */
async function countUntilExact(
  writers: readonly Worker[],
  scraper: Worker,
  counted: number,
): Promise<{ seen: number | undefined; expected: number; rounds: number }> {
  const deadline = Date.now() + SETTLE_MS;
  let expected = counted;
  let seen: number | undefined;
  let rounds = 0;
  do {
    rounds++;
    await Promise.all(writers.map((w) => w.run({ op: 'inc', kind: 'job', by: 1 })));
    expected += writers.length;
    seen = jobs(await scraper.scrape());
    if (seen === expected) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  } while (Date.now() < deadline);
  return { seen, expected, rounds };
}

/** Calls `step` every 50 ms until `done()` or SETTLE_MS pass; returns `done()`. */
async function until(done: () => boolean, step: () => void): Promise<boolean> {
  const deadline = Date.now() + SETTLE_MS;
  while (!done() && Date.now() < deadline) {
    step();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return done();
}

describe('the directory removed or replaced while writers run', () => {
  const { dir: root, cleanup } = tempDir('promfork-loss-');
  const workers: Worker[] = [];
  const start = async (dir: string, n: number) => {
    const started = Array.from({ length: n }, () => new Worker(dir, 'api-worker'));
    workers.push(...started);
    await Promise.all(started.map((w) => w.ready));
    return started;
  };
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    cleanup();
  });

  it('rm -rf of the directory: writers recreate it and their files, totals exact again', async (t) => {
    const dir = join(root, 'removed');
    const writers = await start(dir, 3);
    for (const w of writers) await w.run({ op: 'inc', kind: 'job', by: 10 });
    assert.equal(jobs(await writers[0]!.scrape()), 30);

    rmSync(dir, { recursive: true, force: true });
    const { seen, expected, rounds } = await countUntilExact(writers, writers[0]!, 30);
    t.diagnostic(`total ${seen} of ${expected} after ${rounds} rounds of writes`);
    assert.equal(seen, expected, 'the scrape shows every count again');
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'recreated with the usual mode');
    assert.equal(processFiles(dir).length, 3);
    // A process started now reads it all from the files alone.
    const [fresh] = await start(dir, 1);
    assert.equal(jobs(await fresh!.scrape()), expected);
  });

  it("a new primary's prepareDirectory(): old writers put their files back beside the new ones", async (t) => {
    const dir = join(root, 'replaced');
    const old = await start(dir, 3);
    for (const w of old) await w.run({ op: 'inc', kind: 'job', by: 10 });

    prepareDirectory({ dir });
    assert.deepEqual(processFiles(dir), []);
    const [renewed] = await start(dir, 1);
    await renewed!.run({ op: 'inc', kind: 'job', by: 5 });
    const { seen, expected, rounds } = await countUntilExact(old, renewed!, 35);
    t.diagnostic(`total ${seen} of ${expected} after ${rounds} rounds of writes`);
    assert.equal(seen, expected, 'the new worker sees the old ones again');
    assert.equal(processFiles(dir).length, 4);
  });

  it('a scrape that cannot list the directory names the errno', () => {
    const dir = join(root, 'unlisted');
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    try {
      rmSync(dir, { recursive: true, force: true });
      store.collect();
      const listing = errors.find((e) => e.message.includes('Cannot list'));
      assert.ok(listing, `reported: ${errors.map((e) => e.message).join(' | ')}`);
      assert.match(listing.message, /\(ENOENT\)/);
    } finally {
      store.close();
    }
  });

  it('a store opened after rm -rf in the same process does not take the name an earlier store puts back', async () => {
    const dir = join(root, 'reopened');
    const first = new FileStore({ dir });
    const second: { store?: FileStore } = {};
    try {
      const a = new Counter({ name: 'jobs_total', help: 'Jobs done', store: first, registers: [] });
      a.inc(10);
      first.flush();
      rmSync(dir, { recursive: true, force: true });
      // The directory is gone, so the name of the first store's file is free on disk; the first
      // store still owns it and will put its file back under it.
      second.store = new FileStore({ dir });
      assert.notEqual(second.store.fileName, first.fileName);
      const b = new Counter({
        name: 'jobs_total',
        help: 'Jobs done',
        store: second.store,
        registers: [],
      });
      b.inc(5);
      second.store.flush();
      let counted = 10;
      const back = () => existsSync(join(dir, first.fileName));
      assert.ok(
        await until(back, () => {
          a.inc();
          counted++;
        }),
        'the first file is back',
      );
      // Both files stay: neither store renames its file over the other's.
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1100));
        a.inc();
        counted++;
        first.flush();
        second.store.flush();
      }
      assert.equal(processFiles(dir).length, 2);
      const reader = new FileStore({ dir, compactDeadProcesses: false });
      try {
        const family = reader.collect().find((f) => f.descriptor.name === 'jobs_total');
        assert.equal(family?.series[0]?.cells[0], counted + 5);
      } finally {
        reader.close();
      }
    } finally {
      first.close();
      second.store?.close();
    }
  });

  it('a directory that cannot be recreated is reported; the file comes back once it can', async () => {
    const dir = join(root, 'blocked');
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const counter = new Counter({ name: 'jobs_total', help: 'Jobs done', store });
    let counted = 0;
    const count = () => {
      counter.inc();
      counted++;
    };
    try {
      count();
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(dir, 'a file where the directory was');
      const blocked = () => errors.find((e) => /is not a directory/.test(e.message));
      assert.ok(await until(() => blocked() !== undefined, count), 'the failure is reported');
      assert.equal((blocked() as { code?: string }).code, 'PROMFORK_WRITE_FAILED');

      rmSync(dir);
      const file = join(dir, store.fileName);
      assert.ok(await until(() => existsSync(file), count), 'the file is back');
      const reader = new FileStore({ dir, compactDeadProcesses: false });
      try {
        const family = reader.collect().find((f) => f.descriptor.name === 'jobs_total');
        assert.equal(family?.series[0]?.cells[0], counted);
      } finally {
        reader.close();
      }
    } finally {
      store.close();
    }
  });
});
