/**
 * What the file store does with a hostile directory:
 *
 * - files are 0600 and the directory 0700 even under `umask 0`;
 * - a symlink named like a store file is never followed: one pointing outside at a real store
 *   file contributes nothing, one pointing at a FIFO or /dev/zero cannot block or flood a
 *   scrape, and a file swapped for a symlink after listing is refused at open (O_NOFOLLOW);
 * - a symlink planted at the name this process will use is not written through;
 * - no path outside the directory is ever touched: every file-system call the store makes
 *   (create, flush, scrape, close, prepareDirectory) is recorded through the `node:fs`
 *   exports and checked. The only reads elsewhere are `/proc/<pid>/stat` (process liveness).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FormatProblem, processFileName } from '../src/file-store/format.js';
import { currentIdentity } from '../src/file-store/identity.js';
import { FileStore, prepareDirectory, READ_ERRORS_METRIC } from '../src/file-store/index.js';
import { StoreFileReader } from '../src/file-store/reader.js';
import { counterOf, flatten, singleValue, tempDir } from './file-store-helpers.js';

const JOBS = counterOf('jobs_total', ['kind']);

/** Bytes of a healthy store file holding `jobs_total{kind="outside"} 99`. */
function outsideStoreFile(): Buffer {
  const { dir, cleanup } = tempDir();
  try {
    const store = new FileStore({ dir });
    store.series(JOBS, ['outside']).add(0, 99);
    store.close();
    return readFileSync(join(dir, store.fileName));
  } finally {
    cleanup();
  }
}

describe('FileStore in a hostile directory', () => {
  let root: string;
  let cleanup: () => void;
  let dir: string;
  let outside: string;
  beforeEach(() => {
    ({ dir: root, cleanup } = tempDir('promfork-sec-'));
    dir = join(root, 'metrics');
    outside = join(root, 'outside');
    mkdirSync(outside);
  });
  afterEach(() => cleanup());

  it('creates the directory 0700 and files 0600 even under umask 0', () => {
    const previous = process.umask(0);
    try {
      const store = new FileStore({ dir });
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, store.fileName)).mode & 0o777, 0o600);
      store.close();
      const prepared = join(root, 'prepared');
      prepareDirectory({ dir: prepared });
      assert.equal(statSync(prepared).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('never follows a symlink named like a store file', (t) => {
    mkdirSync(dir, { mode: 0o700 });
    // A real store file outside, with numbers that must never show up.
    writeFileSync(join(outside, 'promfork-940001-1.db'), outsideStoreFile());
    symlinkSync(join(outside, 'promfork-940001-1.db'), join(dir, 'promfork-940001-1.db'));
    symlinkSync('../outside/promfork-940001-1.db', join(dir, 'promfork-940002-1.db'));
    symlinkSync('/dev/zero', join(dir, 'promfork-940003-1.db'));
    symlinkSync(join(outside, 'promfork-940001-1.db'), join(dir, 'promfork-archive.db'));
    const fifo = join(outside, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      symlinkSync(fifo, join(dir, 'promfork-940004-1.db'));
    } else {
      t.diagnostic('mkfifo unavailable: FIFO case not run');
    }

    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    store.series(JOBS, ['inside']).add(0, 1);
    const families = store.collect();
    assert.deepEqual(flatten(families), { 'jobs_total{kind=inside}': [1] });
    assert.equal(singleValue(families, 'promfork_store_files'), 1);
    assert.equal(singleValue(families, READ_ERRORS_METRIC.name), 0);
    assert.equal(errors.length, 0);
    // A listed file swapped for a symlink before it is opened: refused by O_NOFOLLOW.
    const swapped = new StoreFileReader().read(dir, 'promfork-940001-1.db');
    assert.ok(swapped instanceof FormatProblem);
    assert.match(swapped.message, /symbolic link; refused/);
    store.close();
  });

  it('does not write through a symlink planted at the name it will use', () => {
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(outside, 'victim.txt');
    writeFileSync(victim, 'precious');
    const predicted = processFileName(currentIdentity(), 1);
    symlinkSync(victim, join(dir, predicted));
    const store = new FileStore({ dir });
    store.series(JOBS, ['x']).add(0, 1);
    store.flush();
    assert.notEqual(store.fileName, predicted);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    store.close();
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
  });

  it('touches no path outside its directory (every fs call recorded)', () => {
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(outside, 'promfork-940001-1.db'), outsideStoreFile());
    symlinkSync(join(outside, 'promfork-940001-1.db'), join(dir, 'promfork-940001-1.db'));
    symlinkSync(outside, join(dir, 'promfork-940005-1.db'));
    mkdirSync(join(dir, 'promfork-940006-1.db'));
    writeFileSync(join(dir, 'promfork-940007-1.db'), outsideStoreFile());
    writeFileSync(join(dir, 'notes.txt'), 'not ours');

    const touched: string[] = [];
    const mutable = fs as unknown as Record<string, unknown>;
    const names = [
      'openSync',
      'readdirSync',
      'lstatSync',
      'statSync',
      'mkdirSync',
      'linkSync',
      'renameSync',
      'unlinkSync',
      'readFileSync',
      'writeFileSync',
      'rmSync',
      'existsSync',
      'realpathSync',
      'symlinkSync',
      'truncateSync',
      'chmodSync',
    ];
    const originals = new Map<string, unknown>();
    for (const name of names) {
      const original = mutable[name];
      if (typeof original !== 'function') continue;
      originals.set(name, original);
      mutable[name] = (...args: unknown[]) => {
        for (const arg of args.slice(0, name === 'linkSync' || name === 'renameSync' ? 2 : 1)) {
          if (typeof arg === 'string') touched.push(`${name} ${resolve(arg)}`);
        }
        return (original as (...a: unknown[]) => unknown)(...args);
      };
    }
    syncBuiltinESMExports();
    try {
      const store = new FileStore({ dir, onError: () => {} });
      store.series(JOBS, ['x']).add(0, 1);
      store.flush();
      store.collect();
      store.collect();
      store.close();
      prepareDirectory({ dir });
    } finally {
      for (const [name, original] of originals) mutable[name] = original;
      syncBuiltinESMExports();
    }
    assert.ok(touched.length > 5, `recorded ${touched.length} calls`);
    const inside = (path: string) => path === dir || path.startsWith(`${dir}/`);
    const escaped = touched.filter((entry) => {
      const path = entry.slice(entry.indexOf(' ') + 1);
      return !inside(path) && !/^\/proc\/\d+\/stat$/.test(path);
    });
    assert.deepEqual(escaped, []);
    // The healthy file inside was read; the link targets outside were not.
    assert.ok(touched.includes(`openSync ${join(dir, 'promfork-940007-1.db')}`));
    assert.ok(!touched.some((entry) => entry.includes(outside)));
  });
});
