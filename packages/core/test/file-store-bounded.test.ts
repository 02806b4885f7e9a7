/**
 * Long-lived processes keep bounded files: `reset()` and `remove()` leave removed entries
 * behind, and the writer reclaims their space by rewriting its file (process-file.ts). Real
 * worker processes (fixtures/long-lived-worker.ts) simulate refreshes one per event-loop turn.
 *
 * - 30 days of default metrics at a 10 s interval (259,200 refreshes) keep the file under
 *   twice its size after the first hour (360 refreshes). Quick mode (default): 3,000 refreshes
 *   (8 hours and 20 minutes); PROMFORK_FULL=1: the full 30 days.
 * - A gauge reset and set again with 20 label sets on every refresh, scraped by this process
 *   WHILE the worker rewrites its file: the counter never goes down and is never counted twice
 *   (it stays within what the worker can have done), and between runs the merged numbers are
 *   exact (20 series at the last value, the counters at the refresh count, nothing written
 *   through the child handle of a removed series anywhere).
 * - The rewriting process's own scrape (from memory) follows the moves too.
 * - A rewrite that cannot create its new file is reported once and counted; the writer goes
 *   on writing in place, with every value intact.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Counter } from '../src/counter.js';
import { FileStore } from '../src/file-store/index.js';
import { Gauge } from '../src/gauge.js';
import { flatten, tempDir } from './file-store-helpers.js';
import { CHURN_SERIES, type LongLivedCommand } from './fixtures/long-lived-worker.js';

const FULL = process.env.PROMFORK_FULL === '1';
/** Refreshes in one hour at a 10 s interval. */
const HOUR = 360;
const DEFAULT_METRICS_REFRESHES = FULL ? 30 * 24 * HOUR : 3000;
const CHURN_REFRESHES = FULL ? 20_000 : 2000;

class LongLivedWorker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  /** The run waiting for its answer. */
  private pending: { resolve(done: number): void; reject(error: Error): void } | undefined;

  constructor(dir: string, scenario: 'default-metrics' | 'churn') {
    const script = fileURLToPath(new URL('./fixtures/long-lived-worker.js', import.meta.url));
    this.child = fork(script, [scenario], {
      env: { ...process.env, PROMETHEUS_MULTIPROC_DIR: dir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', () => resolve());
      this.child.once('exit', () => reject(new Error('worker exited before it was ready')));
    });
    this.child.on('message', (message: { done?: number }) => {
      if (message.done !== undefined) this.pending?.resolve(message.done);
    });
    this.child.once('exit', (code, signal) => {
      this.pending?.reject(new Error(`worker exited (${code ?? signal}) during a run`));
    });
  }

  /** Runs `rounds` refreshes; resolves once they are done and flushed. */
  run(rounds: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send({ op: 'run', rounds } satisfies LongLivedCommand);
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ op: 'exit' } satisfies LongLivedCommand);
    await this.exited;
  }
}

/** Size in bytes of the one process file in `dir` other than `except`. */
function processFileSize(dir: string, except?: string): number {
  const names = readdirSync(dir).filter(
    (n) => n.startsWith('promfork-') && n.endsWith('.db') && n !== except,
  );
  assert.equal(names.length, 1, `one process file expected, found ${names.join(', ')}`);
  return statSync(join(dir, names[0]!)).size;
}

describe('long-lived processes keep bounded files', () => {
  const { dir, cleanup } = tempDir('promfork-bounded-');
  const workers: LongLivedWorker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    cleanup();
  });

  it(`default metrics, ${DEFAULT_METRICS_REFRESHES} refreshes: under 2x the size after an hour`, async (t) => {
    const sub = join(dir, 'default-metrics');
    const worker = new LongLivedWorker(sub, 'default-metrics');
    workers.push(worker);
    await worker.ready;
    await worker.run(HOUR);
    const firstHour = processFileSize(sub);
    let largest = firstHour;
    let done = HOUR;
    while (done < DEFAULT_METRICS_REFRESHES) {
      done = await worker.run(Math.min(HOUR, DEFAULT_METRICS_REFRESHES - done));
      largest = Math.max(largest, processFileSize(sub));
    }
    const last = processFileSize(sub);
    t.diagnostic(
      `file after 1 h: ${firstHour} B, largest: ${largest} B, after ${done} refreshes: ${last} B`,
    );
    assert.ok(
      largest < 2 * firstHour,
      `file grew to ${largest} B, twice its ${firstHour} B after the first hour or more`,
    );
    await worker.stop();
  });

  it(`a gauge reset and set again, ${CHURN_REFRESHES} refreshes scraped meanwhile: exact, bounded`, async (t) => {
    const sub = join(dir, 'churn');
    const worker = new LongLivedWorker(sub, 'churn');
    workers.push(worker);
    await worker.ready;
    const scraper = new FileStore({ dir: sub, compactDeadProcesses: false });
    const own = scraper.fileName;
    const expected = (done: number) => {
      const values: Record<string, number[]> = {
        'churn_rounds_total{}': [done],
        'churn_hits_total{slot=kept}': [done],
        // The held child of the removed series counts into the series made again.
        'churn_hits_total{slot=gone}': [done],
      };
      for (let i = 0; i < CHURN_SERIES; i++) {
        values[`churn_value{slot=slot-${i}}`] = [done, 0];
      }
      return values;
    };
    const merged = () => {
      const flat = flatten(scraper.collect());
      // The mostrecent timestamp slot is not what is checked here.
      for (const key of Object.keys(flat)) if (key.startsWith('churn_value')) flat[key]![1] = 0;
      return flat;
    };
    const BATCH = 100;
    let done = 0;
    let scrapes = 0;
    let last = 0;
    let largest = 0;
    try {
      while (done < CHURN_REFRESHES) {
        const before = done;
        let running = true;
        const batch = worker.run(BATCH).then((n) => {
          running = false;
          return n;
        });
        // Scrape while the worker refreshes (and rewrites its file): a file read twice or
        // missed at a rename would show as a count above what can have been done, or a drop.
        while (running) {
          const now = merged();
          const count = now['churn_rounds_total{}']?.[0] ?? 0;
          assert.ok(count >= last, `counter went down from ${last} to ${count}`);
          assert.ok(count <= before + BATCH, `counter ${count} above ${before + BATCH}`);
          // No value can be above the refreshes done (a file counted twice, a stale handle).
          for (const [key, [value]] of Object.entries(now)) {
            assert.ok(value! <= before + BATCH, `${key} = ${value}`);
          }
          last = count;
          scrapes++;
          await new Promise((resolve) => setImmediate(resolve));
        }
        done = await batch;
        assert.deepEqual(merged(), expected(done), `after ${done} refreshes`);
        largest = Math.max(largest, processFileSize(sub, own));
      }
    } finally {
      scraper.close();
    }
    t.diagnostic(`${scrapes} scrapes during the refreshes; largest file ${largest} B`);
    // 20 series need about 2 KiB; removed ones must not pile up (without reclaiming, 2,000
    // refreshes leave about 2.3 MB behind).
    assert.ok(largest <= 128 * 1024, `file grew to ${largest} B`);
    await worker.stop();
  });

  it("the rewriting process's own scrape follows its entries to their new places", async () => {
    const sub = join(dir, 'own-view');
    const store = new FileStore({ dir: sub, compactDeadProcesses: false });
    const gauge = new Gauge({
      name: 'slot_value',
      help: 'h',
      labelNames: ['slot'],
      store,
      registers: [],
    });
    const kept = new Counter({
      name: 'kept_total',
      help: 'h',
      labelNames: ['k'],
      store,
      registers: [],
    });
    // Created after the first removed entries, so that a rewrite moves it.
    let child: ReturnType<typeof kept.labels> | undefined;
    const ROUNDS = 300;
    const inodes = new Set<number>();
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        gauge.reset();
        for (let i = 0; i < 20; i++) gauge.set({ slot: `slot-${i}` }, round);
        if (round === 2) child = kept.labels({ k: 'a' });
        child?.inc();
        await new Promise((resolve) => setImmediate(resolve));
        inodes.add(statSync(join(sub, store.fileName)).ino);
      }
      assert.ok(inodes.size > 1, 'the file was rewritten');
      const own = flatten(store.collect());
      const expected: Record<string, number[]> = { 'kept_total{k=a}': [ROUNDS - 1] };
      for (let i = 0; i < 20; i++)
        expected[`slot_value{slot=slot-${i},pid=${process.pid}}`] = [ROUNDS, 0];
      assert.deepEqual(own, expected);
    } finally {
      store.close();
    }
  });

  it('a rewrite that cannot create its file is reported; the file is written in place, exact', async () => {
    const sub = join(dir, 'rewrite-fails');
    const errors: Error[] = [];
    const store = new FileStore({ dir: sub, onError: (e) => errors.push(e) });
    // Plant a directory where the writer creates its new file (named by pid and token).
    const token = readFileSync(join(sub, store.fileName)).subarray(40, 56).toString('hex');
    mkdirSync(join(sub, `.promfork-${process.pid}-${token}.tmp`));
    const gauge = new Gauge({
      name: 'slot_value',
      help: 'h',
      labelNames: ['slot'],
      store,
      registers: [],
    });
    const ROUNDS = 300;
    for (let round = 1; round <= ROUNDS; round++) {
      gauge.reset();
      for (let i = 0; i < 20; i++) gauge.set({ slot: `slot-${i}` }, round);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const reader = new FileStore({ dir: sub, compactDeadProcesses: false });
    try {
      const rewrite = errors.filter((e) => /Cannot rewrite/.test(e.message));
      assert.equal(rewrite.length, 1, errors.map((e) => e.message).join(' | '));
      assert.equal((rewrite[0] as { code?: string }).code, 'PROMFORK_WRITE_FAILED');
      assert.match(rewrite[0]!.message, /\((EISDIR|EPERM)\)/);
      const seen = flatten(reader.collect(), false);
      assert.deepEqual(seen['promfork_store_write_errors_total{}'], [1]);
      const slots = Object.entries(seen).filter(([key]) => key.startsWith('slot_value'));
      assert.equal(slots.length, 20);
      for (const [key, [value]] of slots) assert.equal(value, ROUNDS, key);
      // Written in place: removed series still take their room.
      assert.ok(statSync(join(sub, store.fileName)).size > 128 * 1024);
    } finally {
      reader.close();
      store.close();
    }
  });
});
