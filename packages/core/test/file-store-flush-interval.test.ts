/**
 * FileStore's opt-in `flushIntervalMs` with real processes: what waits for the interval, what
 * a SIGKILL loses with it (the changes since the last write, no more), and that a normal exit
 * still writes everything; worker threads ignore it. The default (a write at the end of every
 * turn) is covered by file-store-processes.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker as Thread } from 'node:worker_threads';
import { Counter } from '../src/counter.js';
import { FileStore } from '../src/file-store/index.js';
import { singleValue, tempDir, Worker } from './file-store-helpers.js';

/** A worker whose store waits `ms` before writing its changes. */
async function workerWithInterval(dir: string, ms: number): Promise<Worker> {
  const w = new Worker(dir, 'file-store-worker', {
    PROMFORK_TEST_FLUSH_INTERVAL_MS: String(ms),
  });
  await w.ready;
  return w;
}

function scrape(dir: string, name: string): number | undefined {
  const scraper = new FileStore({ dir, compactDeadProcesses: false });
  try {
    return singleValue(scraper.collect(), name);
  } finally {
    scraper.close();
  }
}

describe('FileStore flushIntervalMs', () => {
  it('holds changes until the interval ends: a SIGKILL before it loses them', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const w = await workerWithInterval(dir, 10_000);
      // Several turns of changes, each acknowledged a turn after it was made.
      for (let turn = 0; turn < 3; turn++) {
        await w.run({ op: 'inc', name: 'held_total', labels: [], times: 10, by: 1 });
      }
      // With the default these 30 would be in the file now; with the interval none is.
      assert.equal(scrape(dir, 'held_total') ?? 0, 0);
      await w.kill();
      assert.equal(scrape(dir, 'held_total') ?? 0, 0);
    } finally {
      cleanup();
    }
  });

  it('writes the changes of the interval when it ends: a later SIGKILL keeps them', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const w = await workerWithInterval(dir, 20);
      for (let turn = 0; turn < 3; turn++) {
        await w.run({ op: 'inc', name: 'kept_total', labels: [], times: 10, by: 1 });
      }
      // Wait for the write (polling the file; a generous bound only against a hang).
      const deadline = Date.now() + 30_000;
      while (scrape(dir, 'kept_total') !== 30 && Date.now() < deadline) await sleep(10);
      assert.equal(scrape(dir, 'kept_total'), 30);
      await w.kill();
      assert.equal(scrape(dir, 'kept_total'), 30);
    } finally {
      cleanup();
    }
  });

  it('writes every held change at a normal exit', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const w = await workerWithInterval(dir, 10_000);
      await w.run({ op: 'inc', name: 'exit_total', labels: [], times: 5, by: 1 });
      assert.equal(scrape(dir, 'exit_total') ?? 0, 0);
      // The worker disconnects and its event loop runs out: the exit hook writes the 5.
      await w.stop();
      assert.equal(scrape(dir, 'exit_total'), 5);
      // And with process.exit() in the turn of the changes.
      const v = await workerWithInterval(dir, 10_000);
      void v.run({ op: 'incAndExit', name: 'exit_total', times: 7 });
      assert.equal((await v.exited).code, 0);
      assert.equal(scrape(dir, 'exit_total'), 12);
      // And an uncaught exception (exit code 1): Node runs the exit listeners then too.
      const x = await workerWithInterval(dir, 10_000);
      void x.run({ op: 'incAndThrow', name: 'exit_total', times: 4 });
      assert.equal((await x.exited).code, 1);
      assert.equal(scrape(dir, 'exit_total'), 16);
    } finally {
      cleanup();
    }
  });

  it("shows held changes in the process's own scrape, and flush() writes them at once", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const w = await workerWithInterval(dir, 10_000);
      await w.run({ op: 'inc', name: 'own_total', labels: [], times: 6, by: 1 });
      // Its own scrape reads its image, not its file: nothing of it waits for the interval.
      assert.equal((await w.collect())['own_total{}']?.[0], 6);
      assert.equal(scrape(dir, 'own_total') ?? 0, 0);
      await w.run({ op: 'flush' });
      await w.kill();
      assert.equal(scrape(dir, 'own_total'), 6);
    } finally {
      cleanup();
    }
  });

  it("shows held changes to another store's scrape in the same thread", () => {
    const { dir, cleanup } = tempDir();
    const writer = new FileStore({ dir, flushIntervalMs: 10_000 });
    try {
      const counter = new Counter({
        name: 'sibling_total',
        help: 'h',
        store: writer,
        registers: [],
      });
      counter.inc(7);
      // A second store of this thread (another registry's, say) reads the directory: it sees
      // the held change at once, as the first store's own scrape does.
      assert.equal(scrape(dir, 'sibling_total'), 7);
    } finally {
      writer.close();
      cleanup();
    }
  });

  it('writes the changes of exit listeners that run after the exit hook', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const w = await workerWithInterval(dir, 10_000);
      await w.run({ op: 'inc', name: 'late_total', labels: [], times: 2, by: 1 });
      await w.run({ op: 'incOnExit', name: 'late_total', times: 3 });
      await w.stop();
      assert.equal(scrape(dir, 'late_total'), 5);
    } finally {
      cleanup();
    }
  });

  it('is ignored in a worker thread: a thread parked after its task keeps its values', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // The thread records, answers, then sleeps in Atomics.wait like an idle pooled thread
      // (no timer of it ever fires again) until it is terminated.
      const thread = new Thread(
        `const { parentPort, workerData } = require('node:worker_threads');
         import(workerData.url).then(({ FileStore }) => {
           const store = new FileStore({ dir: workerData.dir, flushIntervalMs: 10000 });
           const counter = { name: 'thread_total', help: 'h', type: 'counter', labelNames: [],
             buckets: [], mode: 'sum' };
           store.series(counter, []).add(0, 4);
           Promise.resolve().then(() => {
             parentPort.postMessage('done');
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
           });
         });`,
        {
          eval: true,
          workerData: { dir, url: new URL('../src/file-store/index.js', import.meta.url).href },
        },
      );
      await once(thread, 'message');
      await thread.terminate();
      assert.equal(scrape(dir, 'thread_total'), 4);
    } finally {
      cleanup();
    }
  });

  it('refuses values that are not a number from 0 to 10000', () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const bad of [-1, 10_001, Number.NaN, Number.POSITIVE_INFINITY, '50', null]) {
        assert.throws(
          () => new FileStore({ dir, flushIntervalMs: bad as number }),
          { code: 'PROMFORK_INVALID_OPTION' },
          String(bad),
        );
      }
      new FileStore({ dir, flushIntervalMs: 0 }).close();
      new FileStore({ dir, flushIntervalMs: 10_000 }).close();
    } finally {
      cleanup();
    }
  });
});
