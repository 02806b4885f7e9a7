/**
 * Check-then-act races between real processes sharing a directory, each made deterministic:
 * a writer process is held inside one event-loop turn by a gate file, and the reading side
 * (this process) opens the gate at the exact step under test by intercepting one `node:fs`
 * call (`syncBuiltinESMExports` makes the store modules' named imports see the wrapper), then
 * waits for the writer's "done" file before the intercepted call returns. No sleep is used as
 * synchronisation and nothing is timed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs, { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CompactionResult, compactDirectory } from '../src/file-store/compaction.js';
import { currentIdentity } from '../src/file-store/identity.js';
import {
  ARCHIVE_FILE_NAME,
  FileStore,
  LOCK_FILE_NAME,
  READ_ERRORS_METRIC,
} from '../src/file-store/index.js';
import { parseHolder } from '../src/file-store/lock.js';
import type { CollectedFamily } from '../src/store.js';
import {
  compactor,
  expectedAfter,
  fixture,
  listing,
  lookWithoutCompacting,
  runFixture,
  shortLived,
  withoutAllGauges,
} from './compaction-helpers.js';
import { flatten, singleValue, tempDir } from './file-store-helpers.js';

/** Blocks this thread until `path` exists (a real process creates it); fails after 30 s. */
function waitForFile(path: string, what: string): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  while (!existsSync(path)) {
    assert.ok(Date.now() < deadline, `${what} did not happen within 30 s`);
    Atomics.wait(sleeper, 0, 0, 2);
  }
}

/**
 * Runs `body` with `fs.fstatSync` wrapped: the first fstat of the file with inode `ino` runs,
 * then `between()` runs before that fstat returns (so whatever `between` makes another process
 * do happens right after this process's fstat of that file).
 */
function afterFirstFstatOf<T>(ino: number, between: () => void, body: () => T): T {
  const original = fs.fstatSync;
  let fired = false;
  const wrapped = ((fd: number, options?: fs.StatOptions) => {
    const stat = original(fd, options as fs.StatOptions & { bigint?: false });
    if (!fired && stat.ino === ino) {
      fired = true;
      between();
    }
    return stat;
  }) as typeof fs.fstatSync;
  fs.fstatSync = wrapped;
  syncBuiltinESMExports();
  try {
    const result = body();
    assert.ok(fired, 'the reader never called fstat on the file under test');
    return result;
  } finally {
    fs.fstatSync = original;
    syncBuiltinESMExports();
  }
}

/**
 * Runs `body` with `fs.openSync` wrapped: `before()` runs just before the first open of `path`
 * (so whatever it makes another process do happens between this process's earlier steps and
 * that open).
 */
function beforeFirstOpenOf<T>(path: string, before: () => void, body: () => T): T {
  const original = fs.openSync;
  let fired = false;
  const wrapped = ((file: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
    if (!fired && file === path) {
      fired = true;
      before();
    }
    return original(file, flags as fs.OpenMode, mode);
  }) as typeof fs.openSync;
  fs.openSync = wrapped;
  syncBuiltinESMExports();
  try {
    const result = body();
    assert.ok(fired, `the reader never opened ${path}`);
    return result;
  } finally {
    fs.openSync = original;
    syncBuiltinESMExports();
  }
}

/** A scrape of `dir` by a store that does not compact; that store's own file is removed. */
function lookFromAnotherProcess(dir: string): CollectedFamily[] {
  const store = new FileStore({ dir, compactDeadProcesses: false });
  try {
    return store.collect();
  } finally {
    store.close();
    unlinkSync(join(dir, store.fileName));
  }
}

describe('races between processes sharing a directory', () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const c of cleanups) c();
  });
  function dirFor(): string {
    const { dir, cleanup } = tempDir('promfork-race-');
    cleanups.push(cleanup);
    return dir;
  }

  it('a scrape keeps a live file that grows between the reader taking its size and reading its header', async () => {
    // The writer grows its file in one flush: ftruncate to the new size, the new entries, then
    // the header's `used`. A reader that took the file's size (fstat) BEFORE reading the header
    // could get the old size and the new `used`, call the file "truncated" and skip it: that
    // whole process vanished from one scrape (its counters dropped, which Prometheus takes for
    // a reset) and a read error was counted and reported for a healthy file. Here the writer's
    // growing flush runs right after the reader's fstat of its file.
    const dir = dirFor();
    const signals = dirFor();
    const gate = join(signals, 'go');
    const done = join(signals, 'done');
    const child = spawn(process.execPath, [fixture('gated-writer'), dir, gate, done], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ended = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      const name = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('error', reject);
        child.once('close', () => reject(new Error('the writer ended before it was ready')));
      });
      const path = join(dir, name);
      const sizeBefore = statSync(path).size;
      const scraper = new FileStore({ dir, compactDeadProcesses: false });
      const families = afterFirstFstatOf(
        statSync(path).ino,
        () => {
          writeFileSync(gate, '');
          waitForFile(done, "the writer's growing flush");
        },
        () => scraper.collect(),
      );
      assert.ok(statSync(path).size > sizeBefore, 'the writer did not grow its file');
      // Whichever of its flushes the reader saw, the writer's file is in the scrape.
      const work = singleValue(families, 'work_total');
      assert.ok(work === 5 || work === 6, `work_total is ${work}, expected the writer's 5 or 6`);
      assert.equal(singleValue(families, READ_ERRORS_METRIC.name), 0);
      scraper.close();
    } finally {
      child.kill('SIGKILL');
      await ended;
    }
  });

  it('a leftover unlinked by another compactor between the listing and its read is no read error', async () => {
    // A compactor that crashed after renaming its archive leaves the files it absorbed behind
    // (leftovers: scrapes skip them, the next compaction only unlinks them, without writing a
    // new archive when there is nothing else to absorb). A scrape that listed such a file and
    // found it gone when it opened it reported a read error ("vanished") and counted it in
    // promfork_store_read_errors_total, although nothing was lost: its values are in the
    // archive that scrape read. Here a real compactor process unlinks the leftover right
    // before the scrape opens it.
    const dir = dirFor();
    await shortLived(dir, 3, 'exit', false);
    const [leftover] = listing(dir);
    assert.equal(await compactor(dir, 'renamed'), 'crashed');
    const errors: Error[] = [];
    const scraper = new FileStore({
      dir,
      compactDeadProcesses: false,
      onError: (error) => errors.push(error),
    });
    const families = beforeFirstOpenOf(
      join(dir, leftover!),
      () => {
        const run = spawnSync(process.execPath, [fixture('compactor'), dir], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), {
          busy: false,
          absorbed: [],
          removed: [leftover],
          remaining: 0,
        });
      },
      () => scraper.collect(),
    );
    assert.deepEqual(withoutAllGauges(flatten(families)), expectedAfter([3]));
    assert.equal(singleValue(families, READ_ERRORS_METRIC.name), 0);
    assert.deepEqual(errors, []);
    scraper.close();
  });

  for (const ending of ['exit', 'natural'] as const) {
    it(`counts recorded in an exit listener added after the store's are written (${ending})`, async () => {
      // The store flushes every open file from its own 'exit' listener, installed when the
      // first store opens, so before the application's listeners (added later). Updates made
      // by those listeners were only scheduled for a next turn that never comes: lost, with
      // no error. A real process counts in such a listener and exits.
      const dir = dirFor();
      const run = await runFixture('exit-listener-worker', [dir, ending]);
      assert.equal(run.code, 0);
      assert.deepEqual(flatten(lookFromAnotherProcess(dir)), {
        'work_total{}': [11],
        'shutdown_total{reason=exit}': [1],
      });
    });
  }

  it('a lock released while a stale-lock clearer had moved it aside does not stall compaction', async () => {
    // Clearing a stale lock moves the lock file aside to inspect it and links it back when it
    // turns out to be a fresh lock. A holder that released its lock in between found no lock
    // file and left it; the clearer then put it back: a lock naming a LIVE process that nobody
    // holds, so every later compaction in the directory, that process's own included, was
    // "busy" for as long as that process lived (dead workers' files piled up). Here the
    // clearer is a real process paused at each step; this process is the holder.
    const dir = dirFor();
    const signals = dirFor();
    await shortLived(dir, 0, 'exit', false);
    const me = currentIdentity();
    const lock = join(dir, LOCK_FILE_NAME);
    // A stale lock: this pid with another start time is a reused pid, so its holder is dead.
    writeFileSync(
      lock,
      JSON.stringify({ pid: me.pid, startTime: me.startTime + 1, token: 'a'.repeat(32) }),
    );
    const clearer = spawn(process.execPath, [fixture('lock-clearer'), dir, signals], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    clearer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const ended = new Promise<number | null>((resolve) => clearer.once('close', resolve));
    waitForFile(join(signals, 'judged'), 'the clearer reading the stale lock');
    // This process clears the stale lock, takes it and compacts; once it is done (the lock is
    // still held, and no longer checked), the clearer, which judged the old lock stale, moves
    // this one aside and keeps it there until this process has released it.
    const first = compactDirectory(dir, {
      faultInjection: (step) => {
        if (step !== 'unlinked') return;
        writeFileSync(join(signals, 'judge'), '');
        waitForFile(join(signals, 'moved'), 'the clearer moving the lock aside');
      },
    });
    assert.equal(first.absorbed.length, 1);
    writeFileSync(join(signals, 'restore'), '');
    assert.equal(await ended, 0);
    assert.equal((JSON.parse(out) as CompactionResult).busy, true);
    // The clearer put back the lock this process had released.
    assert.equal(parseHolder(readFileSync(lock, 'utf8'))?.pid, me.pid);
    await shortLived(dir, 1, 'exit', false);
    const second = compactDirectory(dir);
    assert.equal(second.busy, false);
    assert.equal(second.absorbed.length, 1);
    assert.deepEqual(listing(dir), [ARCHIVE_FILE_NAME]);
    assert.deepEqual(lookWithoutCompacting(dir), expectedAfter([0, 1]));
  });
});
