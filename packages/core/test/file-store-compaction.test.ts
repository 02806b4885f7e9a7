/**
 * Compaction of dead processes, with real processes: short-lived workers forked from compiled
 * fixtures, compactors that SIGKILL themselves at each step, two compactors at once, stale
 * locks, pid reuse, markProcessDead, and the node:cluster helper.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidOptionError } from '../src/errors.js';
import { type CompactionResult, compactDirectory } from '../src/file-store/compaction.js';
import { type FileIdentity, FormatProblem, H_PID } from '../src/file-store/format.js';
import { currentIdentity, LivenessChecker, readProcStat } from '../src/file-store/identity.js';
import {
  ARCHIVE_FILE_NAME,
  compactDeadProcesses,
  FileStore,
  LOCK_FILE_NAME,
  markProcessDead,
  prepareDirectory,
} from '../src/file-store/index.js';
import { FileCells, ProcessFile } from '../src/file-store/process-file.js';
import { readFileHeader } from '../src/file-store/reader.js';
import {
  addDeadFile,
  compactor,
  expectedAfter,
  fixture,
  listing,
  lookWithoutCompacting,
  runFixture,
  shortLived,
  withoutAllGauges,
} from './compaction-helpers.js';
import { flatten, singleValue, tempDir, Worker } from './file-store-helpers.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';

function copyDir(from: string, to: string): void {
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
}

describe('compaction of dead processes', () => {
  const cleanups: (() => void)[] = [];
  function dirFor(): string {
    const { dir, cleanup } = tempDir('promfork-compact-');
    cleanups.push(cleanup);
    return dir;
  }
  after(() => {
    for (const c of cleanups) c();
  });

  it('keeps the counts of a SIGKILLed worker, drops live gauges of dead workers', async () => {
    const dir = dirFor();
    const workers = [new Worker(dir), new Worker(dir), new Worker(dir)];
    await Promise.all(workers.map((w) => w.ready));
    for (const [i, w] of workers.entries()) {
      await w.run({ op: 'inc', name: 'jobs_total', labels: [], times: 10 * (i + 1), by: 1 });
      await w.run({ op: 'gauge', name: 'busy', mode: 'livesum', value: i + 1, timestamp: 0 });
      await w.run({ op: 'gauge', name: 'peak', mode: 'max', value: 7 - i, timestamp: 0 });
    }
    await workers[0]!.kill();
    await workers[1]!.stop();
    const scraper = new FileStore({ dir });
    assert.deepEqual(flatten(scraper.collect()), {
      'jobs_total{}': [60],
      'busy{}': [3, 0], // only the live worker's
      'peak{}': [7, 0], // the dead worker's maximum stays
    });
    // The two dead workers' files were folded into the archive.
    assert.deepEqual(
      listing(dir),
      [ARCHIVE_FILE_NAME, scraper.fileName, (await workers[2]!.ready).fileName].sort(),
    );
    await workers[2]!.kill();
    assert.deepEqual(flatten(scraper.collect()), { 'jobs_total{}': [60], 'peak{}': [7, 0] });
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME, scraper.fileName].sort());
    scraper.close();
  });

  it('treats a file whose pid is alive but whose start time differs as dead', async () => {
    const dir = dirFor();
    await shortLived(dir, 5, 'exit');
    const [name] = listing(dir);
    // Make the file claim this (alive) test process's pid: only its start time differs.
    const path = join(dir, name!);
    const bytes = readFileSync(path);
    bytes.writeDoubleLE(process.pid, H_PID);
    writeFileSync(path, bytes);
    const result = markProcessDead(process.pid, { dir });
    assert.deepEqual(result, { busy: false, absorbed: [name], removed: [name] });
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([5]));
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
  });

  it('decides a process is dead before reading its file: a worker that flushes and dies mid-compaction keeps its counts', async () => {
    // Found by the 1,000-lifetime churn run: a compactor that read a live worker's file and only
    // then asked whether it was alive could see it dead (it had just flushed and been
    // SIGKILLed) and fold the content read before that last flush into the archive, then unlink
    // the file: that worker's counts were gone, with no error. Here the worker is held inside
    // the turn in which it recorded its values (nothing flushed yet) until the compactor's
    // liveness check opens the gate; the check returns only once the worker has flushed and
    // died. The file must be read after that answer, so every value is in the archive.
    const dir = dirFor();
    const signals = dirFor();
    const gate = join(signals, 'go');
    const child = spawn(process.execPath, [
      fixture('short-lived-worker'),
      dir,
      '5',
      'kill',
      'no-compact',
      gate,
    ]);
    const ended = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('close', (_code, signal) => resolve(signal)),
    );
    const name = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('error', reject);
    });
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    let gateOpened = false;
    class GateOnFirstCheck extends LivenessChecker {
      override isAlive(identity: Pick<FileIdentity, 'pid' | 'startTime'>): boolean {
        if (identity.pid === child.pid && !gateOpened) {
          gateOpened = true;
          writeFileSync(gate, '');
          // This process is blocked here, so the worker stays a zombie once it dies.
          const deadline = Date.now() + 30_000;
          while (new LivenessChecker().isAlive(identity)) {
            assert.ok(Date.now() < deadline, 'the gated worker did not die within 30 s');
            Atomics.wait(sleeper, 0, 0, 2);
          }
        }
        return super.isAlive(identity);
      }
    }
    const result = compactDirectory(dir, { liveness: new GateOnFirstCheck() });
    assert.equal(await ended, 'SIGKILL');
    assert.ok(gateOpened, 'the compactor never asked whether the worker was alive');
    assert.deepEqual(result, { busy: false, absorbed: [name], removed: [name], remaining: 0 });
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([5]));
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
  });

  it('markProcessDead folds only the named dead pid and leaves live processes alone', async () => {
    const dir = dirFor();
    const live = new FileStore({ dir, compactDeadProcesses: false });
    live.series({ ...counter('own_total') }, []).add(0, 2);
    live.flush();
    const w = new Worker(dir);
    const { fileName } = await w.ready;
    await w.run({ op: 'inc', name: 'own_total', labels: [], times: 3, by: 1 });
    await w.kill();
    await addDeadFile(dir, 1);
    const others = listing(dir, [live.fileName, fileName]);
    // The live process (this one) is not dead: nothing happens.
    assert.deepEqual(markProcessDead(process.pid, { dir }), {
      busy: false,
      absorbed: [],
      removed: [],
    });
    assert.deepEqual(markProcessDead(w.pid, { dir }), {
      busy: false,
      absorbed: [fileName],
      removed: [fileName],
    });
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME, live.fileName, ...others].sort());
    assert.equal(lookWithoutCompacting(dir)['own_total{}']?.[0], 5);
    assert.deepEqual(compactDeadProcesses({ dir }).absorbed, others);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME, live.fileName].sort());
    live.close();

    assert.throws(
      () => markProcessDead(0, { dir }),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.code === 'PROMFORK_INVALID_OPTION' &&
        e.message.includes('0'),
    );
    assert.throws(
      () => markProcessDead(1, { dir, directory: dir } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
    assert.throws(
      () => new FileStore({ dir, compactDeadProcesses: 'yes' as never }),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
    );
  });

  it('merges summary sketches into the archive: quantiles within 1% after compaction', async () => {
    const dir = dirFor();
    const workers = Array.from({ length: 4 }, () => new Worker(dir, 'api-worker'));
    await Promise.all(workers.map((w) => w.ready));
    const all: number[] = [];
    for (const [k, w] of workers.entries()) {
      const values = Array.from({ length: 300 }, (_, i) => 0.001 * 1.01 ** (300 * k + i));
      all.push(...values);
      await w.run({ op: 'observe', values });
      await w.run({ op: 'gauge', value: k + 1 });
    }
    await Promise.all(workers.map((w) => w.kill()));
    const scraper = new Worker(dir, 'api-worker');
    await scraper.ready;
    const families = parseExposition(await scraper.scrape(), 'prometheus');
    await scraper.kill();
    assert.deepEqual(listing(dir).length, 2, 'the scraper compacted the four dead workers');
    assert.ok(existsSync(join(dir, ARCHIVE_FILE_NAME)));
    assert.equal(sample(families, 'job_seconds_count'), all.length);
    assert.equal(sample(families, 'queue_depth'), undefined); // livesum of dead workers
    const sorted = [...all].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99]) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
      const got = sample(families, 'job_seconds', { quantile: String(q) });
      assert.ok(got !== undefined && Math.abs(got - exact) <= 0.01 * exact, `q${q}: ${got}`);
    }
  });

  describe('crash at every step', () => {
    let base: string;
    let leftovers: string;
    before(async () => {
      // Base state: an archive holding workers 0 and 1, dead files of workers 2, 3 and 4.
      base = dirFor();
      await addDeadFile(base, 0, 'exit');
      await addDeadFile(base, 1, 'kill');
      assert.deepEqual(lookWithoutCompacting(base), expectedAfter([0, 1]));
      const first = await compactor(base);
      assert.ok(first !== 'crashed' && first.absorbed.length === 2);
      for (const i of [2, 3, 4]) await addDeadFile(base, i);
      assert.equal(listing(base).length, 4);
      // A second base: a compaction that crashed after its rename, leaving absorbed files
      // (and its lock), plus a dead file it never saw.
      leftovers = dirFor();
      copyDir(base, leftovers);
      assert.equal(await compactor(leftovers, 'renamed'), 'crashed');
      assert.equal(listing(leftovers).length, 5);
      await addDeadFile(leftovers, 5);
    });

    const steps = [
      ['locked', 'base'],
      ['cleared', 'leftovers'],
      ['temp-partial', 'base'],
      ['temp-written', 'base'],
      ['renamed', 'base'],
      ['unlinked-one', 'base'],
      ['unlinked', 'base'],
    ] as const;
    for (const [step, from] of steps) {
      it(`neither loses nor double counts when the compactor dies at "${step}"`, async () => {
        const dir = dirFor();
        copyDir(from === 'base' ? base : leftovers, dir);
        const workers = from === 'base' ? [0, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5];
        assert.equal(await compactor(dir, step), 'crashed');
        // Readers see every worker exactly once in the state the crash left.
        assert.deepEqual(lookWithoutCompacting(dir), expectedAfter(workers));
        // The next compaction finishes the job: one archive, no leftovers, same numbers.
        const next = await compactor(dir);
        assert.ok(next !== 'crashed' && !next.busy);
        assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
        assert.deepEqual(lookWithoutCompacting(dir), expectedAfter(workers));
      });
    }
  });

  it('a second compactor finds the lock busy and changes nothing; scrapes stay exact', async () => {
    const dir = dirFor();
    const signals = dirFor();
    for (const i of [0, 1, 2]) await addDeadFile(dir, i);
    const child = spawn(
      process.execPath,
      [fixture('compactor'), dir, 'none', 'temp-written', signals],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      while (!existsSync(join(signals, 'paused'))) await new Promise((r) => setTimeout(r, 5));
      // The first compactor holds the lock with its new archive written but not renamed.
      const before = listing(dir);
      assert.deepEqual(compactDirectory(dir), {
        busy: true,
        absorbed: [],
        removed: [],
        remaining: 0,
      });
      assert.deepEqual(markProcessDead(12345678, { dir }).busy, true);
      assert.deepEqual(listing(dir), before);
      // A compacting scrape meanwhile does not wait for the lock and counts everyone once
      // (the dead files are not compacted yet, so their `all` series still show).
      const scraper = new FileStore({ dir });
      assert.deepEqual(withoutAllGauges(flatten(scraper.collect())), expectedAfter([0, 1, 2]));
      scraper.close();
      unlinkSync(join(dir, scraper.fileName));
    } finally {
      writeFileSync(join(signals, 'go'), '');
    }
    assert.equal(await exited, 0);
    assert.equal((JSON.parse(stdout) as CompactionResult).absorbed.length, 3);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0, 1, 2]));
  });

  it('scrapes racing with back-to-back compactions count every worker exactly once', async () => {
    const dir = dirFor();
    const signals = dirFor();
    const indices = Array.from({ length: 12 }, (_, i) => i);
    for (let i = 0; i < indices.length; i += 4) {
      await Promise.all(indices.slice(i, i + 4).map((k) => addDeadFile(dir, k)));
    }
    const expected = expectedAfter(indices);
    const store = new FileStore({ dir, compactDeadProcesses: false });
    // One file per compaction, one compaction after another, released once we are scraping.
    const child = spawn(
      process.execPath,
      [fixture('compactor'), dir, 'none', 'locked', signals, '1'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let scrapes = 0;
    try {
      while (!existsSync(join(signals, 'paused'))) await new Promise((r) => setTimeout(r, 5));
      writeFileSync(join(signals, 'go'), '');
      do {
        assert.deepEqual(withoutAllGauges(flatten(store.collect())), expected, `scrape ${scrapes}`);
        scrapes++;
      } while (!existsSync(join(signals, 'done')));
    } finally {
      writeFileSync(join(signals, 'go'), '');
    }
    assert.equal(await exited, 0);
    assert.equal(readFileSync(join(signals, 'done'), 'utf8'), String(indices.length + 1));
    assert.deepEqual(flatten(store.collect()), expected);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME, store.fileName].sort());
    store.close();
  });

  it('a store compacts at most 64 files at a time and still counts every one', () => {
    const dir = dirFor();
    const events = { failed() {}, recovered() {}, afterClose() {} };
    const d = counter('c_total');
    for (let i = 0; i < 70; i++) {
      // Pids above Linux's highest possible pid (2^22): never alive.
      const file = ProcessFile.create(
        dir,
        { pid: 5_000_000 + i, startTime: 1, token: i.toString(16).padStart(32, '0') },
        events,
      );
      new FileCells(file, file.appendSeries(file.appendDescriptor(d), [], 1).word, 1).add(0, i + 1);
      file.close();
    }
    const store = new FileStore({ dir });
    // Starting, the store folded 64 files into the archive; 6 wait for the next run.
    assert.equal(listing(dir).length, 1 + 1 + 6);
    assert.deepEqual(flatten(store.collect()), { 'c_total{}': [(70 * 71) / 2] });
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME, store.fileName].sort());
    assert.deepEqual(flatten(store.collect()), { 'c_total{}': [(70 * 71) / 2] });
    store.close();
  });

  it('a damaged archive stops compaction, never a scrape: reported once, counted', () => {
    const dir = dirFor();
    writeFileSync(join(dir, ARCHIVE_FILE_NAME), Buffer.from('PROMFORK but not really'));
    const events = { failed() {}, recovered() {}, afterClose() {} };
    const file = ProcessFile.create(
      dir,
      { pid: 5_000_001, startTime: 1, token: 'f'.repeat(32) },
      events,
    );
    const d = counter('c_total');
    new FileCells(file, file.appendSeries(file.appendDescriptor(d), [], 1).word, 1).add(0, 5);
    file.close();
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const first = store.collect();
    const second = store.collect();
    // The dead file is read as it is; its counts stay.
    assert.deepEqual(flatten(second), { 'c_total{}': [5] });
    assert.deepEqual(errors.map((e) => (e as { code?: string }).code).sort(), [
      'PROMFORK_COMPACTION_FAILED',
      'PROMFORK_FILE_UNREADABLE',
    ]);
    assert.match(
      errors.find((e) => e.message.includes('archive'))!.message,
      /promfork-archive\.db/,
    );
    // Start, first and second scrape each tried and failed.
    assert.equal(singleValue(first, 'promfork_store_compaction_errors_total'), 2);
    assert.equal(singleValue(second, 'promfork_store_compaction_errors_total'), 3);
    assert.equal(listing(dir).length, 3);
    store.close();
  });

  it('never renames over an archive generation it did not read (lock or no lock)', async () => {
    const dir = dirFor();
    await addDeadFile(dir, 0);
    assert.equal(compactDirectory(dir).absorbed.length, 1);
    await addDeadFile(dir, 1);
    // Another compactor's archive (workers 0 and 2), as if it had replaced the archive while
    // this run was between reading it and renaming its own.
    const other = dirFor();
    await addDeadFile(other, 0);
    await addDeadFile(other, 2);
    assert.equal(compactDirectory(other).absorbed.length, 2);
    const result = compactDirectory(dir, {
      faultInjection: (step) => {
        if (step !== 'temp-written') return;
        copyFileSync(join(other, ARCHIVE_FILE_NAME), join(dir, '.replacement'));
        renameSync(join(dir, '.replacement'), join(dir, ARCHIVE_FILE_NAME));
      },
    });
    // It gives up: worker 1's file stays, worker 2's counts in the new archive stay.
    assert.equal(result.busy, true);
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0, 1, 2]));
    assert.equal(compactDirectory(dir).absorbed.length, 1);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0, 1, 2]));
  });

  it('two compactors started at once never double count', async () => {
    const dir = dirFor();
    const workers: number[] = [];
    for (let round = 0; round < 3; round++) {
      const indices = Array.from({ length: 6 }, (_, i) => 6 * round + i);
      await Promise.all(indices.map((i) => addDeadFile(dir, i)));
      workers.push(...indices);
      const [a, b] = await Promise.all([compactor(dir), compactor(dir)]);
      assert.ok(a !== 'crashed' && b !== 'crashed');
      // Each dead file was absorbed by exactly one of them.
      const absorbed = [...a.absorbed, ...b.absorbed].sort();
      assert.equal(new Set(absorbed).size, absorbed.length);
      assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
      assert.deepEqual(lookWithoutCompacting(dir), expectedAfter(workers));
    }
  });

  it('takes over a lock whose holder is dead or whose pid was reused', async () => {
    const dir = dirFor();
    await shortLived(dir, 0, 'exit');
    const me = currentIdentity();
    const lock = join(dir, LOCK_FILE_NAME);
    const holder = (pid: number, startTime: number): string =>
      JSON.stringify({ pid, startTime, token: 'a'.repeat(32) });
    // Held by this very process: busy.
    writeFileSync(lock, holder(me.pid, me.startTime));
    assert.equal(compactDirectory(dir).busy, true);
    // This pid, another start time: a reused pid, so the holder is dead.
    writeFileSync(lock, holder(me.pid, me.startTime + 1));
    assert.equal(compactDirectory(dir).absorbed.length, 1);
    assert.equal(existsSync(lock), false);
    // A holder that exited (a finished child's pid and start time).
    await shortLived(dir, 1, 'exit');
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const startTime = readProcStat(child.pid!)?.startTime ?? 0;
    await new Promise((resolve) => child.once('close', resolve));
    writeFileSync(lock, holder(child.pid!, startTime));
    assert.equal(compactDirectory(dir).absorbed.length, 1);
    // Garbage in the lock file is not a holder.
    await shortLived(dir, 2, 'exit');
    writeFileSync(lock, 'garbage');
    assert.equal(compactDirectory(dir).absorbed.length, 1);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0, 1, 2]));
  });

  it('compaction removes the temp file a dead writer left mid-rewrite, and only that one', async () => {
    const dir = dirFor();
    await shortLived(dir, 0, 'kill', false);
    const [deadName] = listing(dir);
    const dead = readFileHeader(dir, deadName!);
    assert.ok(!(dead instanceof FormatProblem));
    // What a writer SIGKILLed between writing its new file and renaming it leaves behind.
    const orphan = `.promfork-${dead.pid}-${dead.token}.tmp`;
    writeFileSync(join(dir, orphan), readFileSync(join(dir, deadName!)));
    // A live writer's temp (a rewrite under way) and a foreign dotfile stay.
    const live = new FileStore({ dir, compactDeadProcesses: false });
    cleanups.push(() => live.close());
    const mine = readFileHeader(dir, live.fileName);
    assert.ok(!(mine instanceof FormatProblem));
    const busy = `.promfork-${mine.pid}-${mine.token}.tmp`;
    writeFileSync(join(dir, busy), '');
    writeFileSync(join(dir, '.keep'), 'not ours');
    assert.deepEqual(compactDirectory(dir).absorbed, [deadName]);
    assert.deepEqual(listing(dir), ['.keep', busy, ARCHIVE_FILE_NAME, live.fileName].sort());
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0]));
  });

  it('prepareDirectory removes the archive, the lock and temp files: a fresh start', async () => {
    const dir = dirFor();
    await shortLived(dir, 0, 'exit');
    await compactor(dir);
    writeFileSync(join(dir, LOCK_FILE_NAME), '{}');
    writeFileSync(join(dir, '.promfork-archive-1-x.tmp'), '');
    writeFileSync(join(dir, 'keep.txt'), 'not ours');
    prepareDirectory({ dir });
    assert.deepEqual(listing(dir), ['keep.txt']);
    assert.deepEqual(lookWithoutCompacting(dir), {});
  });

  it('the node:cluster helper compacts each worker file when the primary sees it exit', async () => {
    const dir = dirFor();
    const run = await runFixture('cluster-primary', [dir, '6']);
    assert.equal(run.code, 0);
    const report = JSON.parse(run.stdout) as { files: string[]; errors: string[] };
    assert.deepEqual(report, { files: [ARCHIVE_FILE_NAME], errors: [] });
    assert.deepEqual(lookWithoutCompacting(dir), { 'work_total{}': [1 + 2 + 3 + 4 + 5 + 6] });
  });

  it('compactOnWorkerExit rejects bad options', async () => {
    const { compactOnWorkerExit } = await import('../src/file-store/index.js');
    const dir = dirFor();
    assert.throws(
      () => compactOnWorkerExit({ dir, onError: 'log' as never }),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
    );
    assert.throws(
      () => compactOnWorkerExit({ dir, every: 1 } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
    const stop = compactOnWorkerExit({ dir });
    stop();
  });
});

function counter(name: string) {
  return {
    name,
    help: `${name} help`,
    type: 'counter' as const,
    labelNames: [],
    buckets: [],
    mode: 'sum' as const,
  };
}

function sample(
  families: readonly ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      const own = Object.entries(s.labels);
      if (own.length === Object.keys(labels).length && own.every(([k, v]) => labels[k] === v)) {
        return s.value;
      }
    }
  }
  return undefined;
}
