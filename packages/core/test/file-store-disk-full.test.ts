/**
 * A real full disk and a real read-only directory, on small tmpfs mounts made for the test
 * (`mount -t tmpfs -o size=64k`): no fault injection, the kernel answers ENOSPC and EROFS.
 *
 * - Disk full while the file grows: updates never throw, values stay in memory and are served
 *   by this process's scrapes, the failure is reported once (however many flushes fail) and
 *   counted on every one, and the retry timer writes everything once space returns.
 * - Unwritable or unusable directory at start: a StoreError naming the directory and the fix.
 *
 * Mounting needs root (or CAP_SYS_ADMIN); elsewhere these tests are skipped with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStore, prepareDirectory, WRITE_ERRORS_METRIC } from '../src/file-store/index.js';
import { Counter, Registry, StoreError } from '../src/index.js';
import { flatten, singleValue, tempDir } from './file-store-helpers.js';

/** Mounts a tmpfs of `size` at `dir`; returns false when this process may not mount. */
function mountTmpfs(dir: string, options: string): boolean {
  const run = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  return run.status === 0;
}

function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Fills the file system holding `path` until the kernel says ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

const SKIP_MESSAGE = 'cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): test not run';

describe('disk full while the file grows (real tmpfs, ENOSPC)', () => {
  let base: string;
  let cleanup: () => void;
  let mounted = false;
  before(() => {
    ({ dir: base, cleanup } = tempDir('promfork-enospc-'));
    mounted = mountTmpfs(base, 'size=64k,mode=0700');
  });
  after(() => {
    if (mounted) unmount(base);
    cleanup();
  });

  it('keeps serving from memory, reports once, counts, and writes again when space returns', async (t) => {
    if (!mounted) {
      t.skip(SKIP_MESSAGE);
      return;
    }
    const dir = join(base, 'metrics');
    const errors: Error[] = [];
    const store = new FileStore({ dir, onError: (e) => errors.push(e) });
    const registry = new Registry();
    const requests = new Counter({
      name: 'requests_total',
      help: 'Requests.',
      labelNames: ['route'],
      store,
      registers: [registry],
    });
    requests.inc({ route: '/a' });
    store.flush();
    assert.equal(errors.length, 0);

    // The disk fills up (another program's file); then new series make the file grow.
    const filler = join(base, 'filler');
    fill(filler);
    const ROUTES = 200;
    for (let i = 0; i < ROUTES; i++) requests.inc({ route: `/route/${i}` }, 2);
    store.flush();
    for (let i = 0; i < ROUTES; i++) requests.inc({ route: `/route/${i}` }, 1);
    store.flush();
    store.flush();

    // Reported once, with the file's name and the cause; counted on every failed flush.
    assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
    assert.equal((errors[0] as StoreError).code, 'PROMFORK_WRITE_FAILED');
    assert.match(errors[0]!.message, /ENOSPC/);
    assert.match(errors[0]!.message, new RegExp(store.fileName.replaceAll('.', '\\.')));
    const ownView = store.collect();
    assert.ok((singleValue(ownView, WRITE_ERRORS_METRIC.name) ?? 0) >= 2);
    // This process still serves every value from memory.
    const text = await registry.metrics();
    assert.match(text, /^requests_total\{route="\/a"\} 1$/m);
    assert.match(text, /^requests_total\{route="\/route\/199"\} 3$/m);
    // Another process cannot even start a file on this disk now: a clear error at start.
    assert.throws(
      () => new FileStore({ dir }),
      (e: unknown) =>
        e instanceof StoreError &&
        e.code === 'PROMFORK_DIRECTORY_UNUSABLE' &&
        e.message.includes(dir) &&
        /ENOSPC/.test(e.message) &&
        /free space/.test(e.message),
    );

    // Space returns: the retry timer writes everything kept in memory, with no call from us.
    rmSync(filler);
    const deadline = Date.now() + 10_000;
    let seen: Record<string, number[]> = {};
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reader = new FileStore({ dir, onError: () => {} });
      try {
        seen = flatten(reader.collect());
      } finally {
        reader.close();
        rmSync(join(dir, reader.fileName), { force: true });
      }
      if (Object.keys(seen).length === ROUTES + 1) break;
    }
    assert.equal(seen['requests_total{route=/a}']?.[0], 1);
    for (let i = 0; i < ROUTES; i++) {
      assert.deepEqual(seen[`requests_total{route=/route/${i}}`], [3], `route ${i}`);
    }
    // A later failure is a new incident and is reported again.
    assert.equal(errors.length, 1);
    store.close();
  });
});

describe('unusable directory at start', () => {
  let base: string;
  let cleanup: () => void;
  let mounted = false;
  before(() => {
    ({ dir: base, cleanup } = tempDir('promfork-erofs-'));
    mounted = mountTmpfs(base, 'ro,size=16k');
  });
  after(() => {
    if (mounted) unmount(base);
    cleanup();
  });

  const namesDirAndFix = (dir: string, problem: RegExp, fix: RegExp) => (e: unknown) =>
    e instanceof StoreError &&
    e.code === 'PROMFORK_DIRECTORY_UNUSABLE' &&
    e.message.includes(JSON.stringify(dir)) &&
    problem.test(e.message) &&
    fix.test(e.message);

  it('read-only directory: names it and says what to do', (t) => {
    if (!mounted) {
      t.skip(SKIP_MESSAGE);
      return;
    }
    const check = namesDirAndFix(base, /not writable.*EROFS/, /write permission|another directory/);
    assert.throws(() => new FileStore({ dir: base }), check);
    assert.throws(() => prepareDirectory({ dir: base }), check);
  });

  it('missing directory that cannot be created: names it and says what to do', (t) => {
    if (!mounted) {
      t.skip(SKIP_MESSAGE);
      return;
    }
    const dir = join(base, 'missing', 'metrics');
    // Node's recursive mkdir reports the first missing level (ENOENT) on a read-only parent.
    const check = namesDirAndFix(
      dir,
      /cannot be created \((EROFS|ENOENT)\)/,
      /PROMETHEUS_MULTIPROC_DIR/,
    );
    assert.throws(() => new FileStore({ dir }), check);
    assert.throws(() => prepareDirectory({ dir }), check);
  });

  it('a path through a regular file: names it and says what to do (no mount needed)', () => {
    const { dir: parent, cleanup: done } = tempDir();
    try {
      writeFileSync(join(parent, 'file'), 'x');
      const dir = join(parent, 'file', 'metrics');
      assert.throws(
        () => new FileStore({ dir }),
        namesDirAndFix(dir, /cannot be created \(ENOTDIR\)/, /PROMETHEUS_MULTIPROC_DIR/),
      );
      mkdirSync(join(parent, 'ok'));
    } finally {
      done();
    }
  });
});
