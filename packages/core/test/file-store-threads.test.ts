/**
 * worker_threads as writers of the FileStore, with real threads in a real process: the fixture
 * (fixtures/thread-pool.ts) runs the threads and scrapes from its main thread; these tests read
 * the exposition text it printed and the directory listing after that scrape. The last test
 * checks the compaction lock of a terminated thread directly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compactDeadProcesses } from '../src/file-store/dead-processes.js';
import { FileStore } from '../src/file-store/file-store.js';
import { isStoreFileName } from '../src/file-store/format.js';
import { currentIdentity } from '../src/file-store/identity.js';
import { LOCK_FILE_NAME } from '../src/file-store/lock.js';
import { FileCells, ProcessFile } from '../src/file-store/process-file.js';
import type { MetricDescriptor } from '../src/types.js';
import { flatten, tempDir } from './file-store-helpers.js';

/** What the fixture prints. */
interface PoolReport {
  readonly pid: number;
  readonly text: string;
  readonly files: readonly string[];
  readonly live: readonly number[];
  readonly errors: readonly string[];
}

const FIXTURE = fileURLToPath(new URL('./fixtures/thread-pool.js', import.meta.url));

/** Runs the fixture in its own process and returns its report. */
async function runPool(dir: string, ...args: string[]): Promise<PoolReport> {
  const child = spawn(process.execPath, [FIXTURE, dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `the fixture failed:\n${stderr}`);
  return JSON.parse(stdout) as PoolReport;
}

/** The sample lines of `names` (whole lines, sorted) in an exposition text. */
function samples(text: string, ...names: string[]): string[] {
  return text
    .split('\n')
    .filter((line) =>
      names.some((name) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)),
    )
    .sort();
}

describe('worker threads as writers', () => {
  const dirs: (() => void)[] = [];
  after(() => {
    for (const cleanup of dirs) cleanup();
  });
  function freshDir(): string {
    const { dir, cleanup } = tempDir('promfork-threads-');
    dirs.push(cleanup);
    return dir;
  }

  it('counts every thread however it ended; live gauges and files follow the live threads', async () => {
    const dir = freshDir();
    // 12 short-lived threads (4 natural ends, 4 process.exit, 4 terminate), then 3 that stay.
    const report = await runPool(dir, 'pool', '12', '3');
    assert.deepEqual(report.errors, []);
    assert.deepEqual(samples(report.text, 'jobs_total', 'job_seconds_count', 'job_seconds_sum'), [
      'job_seconds_count 15',
      // Thread i observes i: 0 + 1 + ... + 14.
      'job_seconds_sum 105',
      'jobs_total{ending="exit"} 4',
      'jobs_total{ending="live"} 3',
      'jobs_total{ending="natural"} 4',
      'jobs_total{ending="terminate"} 4',
    ]);
    // livesum: the three live threads only, not the twelve that ended.
    assert.deepEqual(samples(report.text, 'busy_threads'), ['busy_threads 3']);
    // all: one series per live thread, labelled with its process and thread.
    assert.equal(report.live.length, 3);
    assert.deepEqual(
      samples(report.text, 'thread_info'),
      report.live
        .map((thread) => `thread_info{pid="${report.pid}",thread="${thread}"} ${thread}`)
        .sort(),
    );
    // The scrape folded the ended threads' files: the live threads', the main thread's (it
    // scraped) and the archive are left (plus the lock, were a compaction still running).
    const stores = report.files.filter(isStoreFileName);
    assert.equal(stores.length, 3 + 1 + 1, `files: ${report.files.join(', ')}`);
    assert.ok(stores.includes('promfork-archive.db'));
    for (const thread of report.live) {
      assert.equal(stores.filter((name) => name.includes(`-thread${thread}.db`)).length, 1);
    }
    assert.ok(report.files.length <= stores.length + 1);
  });

  it('lets eight threads create their first metric at the same instant', async () => {
    const dir = freshDir();
    // Three rounds of eight threads released together from a barrier.
    const report = await runPool(dir, 'race', '3');
    assert.deepEqual(report.errors, []);
    assert.deepEqual(samples(report.text, 'jobs_total'), ['jobs_total{ending="natural"} 24']);
  });

  it('keeps the counts of a Piscina pool whose idle threads end, with no code in the pool', async () => {
    const dir = freshDir();
    // Piscina's defaults park idle threads in Atomics.wait and terminate them when idle.
    const report = await runPool(dir, 'piscina', '40');
    assert.deepEqual(report.errors, []);
    assert.deepEqual(samples(report.text, 'jobs_total', 'job_seconds_count', 'busy_threads'), [
      'job_seconds_count 40',
      'jobs_total{ending="piscina"} 40',
    ]);
    assert.deepEqual(samples(report.text, 'thread_info'), []);
    assert.deepEqual(report.files.filter(isStoreFileName).length, 2, report.files.join(', '));
  });

  it('clears the compaction lock of a terminated thread of a live process', async () => {
    const dir = freshDir();
    // A thread that reports its OS thread id and start time, then is terminated.
    const thread = new Worker(
      `const { readFileSync, readlinkSync } = require('node:fs');
       const { parentPort } = require('node:worker_threads');
       const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
       const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'latin1');
       const startTime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
       parentPort.postMessage({ tid, startTime });
       setInterval(() => {}, 60000);`,
      { eval: true },
    );
    const [{ tid, startTime }] = (await once(thread, 'message')) as [
      { tid: number; startTime: number },
    ];
    await thread.terminate();
    // The lock it would have left had it been terminated while compacting: its process (this
    // one) is alive, its thread is not.
    const me = currentIdentity();
    writeFileSync(
      join(dir, LOCK_FILE_NAME),
      JSON.stringify({ ...me, token: 'a'.repeat(32), tid, tidStartTime: startTime }),
    );
    assert.equal(compactDeadProcesses({ dir }).busy, false);
  });

  it('labels all gauges by thread, unless an older file declared thread itself', () => {
    const dir = freshDir();
    const me = currentIdentity();
    const events = { failed() {}, recovered() {}, afterClose() {} };
    const gauge = (name: string, labelNames: string[]): MetricDescriptor => ({
      name,
      help: 'h',
      type: 'gauge',
      labelNames,
      buckets: [],
      mode: 'all',
    });
    // Two threads of this process (judged by the process: no tid recorded).
    for (const threadId of [5, 6]) {
      const file = ProcessFile.create(
        dir,
        { ...me, token: `${threadId}`.repeat(32), threadId },
        events,
      );
      for (const [d, labels] of [
        [gauge('plain', []), []],
        [gauge('declared', ['thread']), ['x']],
      ] as const) {
        const offset = file.appendDescriptor(d);
        new FileCells(file, file.appendSeries(offset, labels, 2).word, 2).set(0, threadId);
      }
      file.close();
    }
    const scraper = new FileStore({ dir });
    assert.deepEqual(flatten(scraper.collect()), {
      [`plain{pid=${me.pid},thread=5}`]: [5, 0],
      [`plain{pid=${me.pid},thread=6}`]: [6, 0],
      // Where the file's gauge has its own `thread` label, the store adds none (a duplicate
      // label would break the exposition): one series per process, as before threads counted.
      [`declared{thread=x,pid=${me.pid}}`]: [5, 0],
    });
    scraper.close();
  });
});
