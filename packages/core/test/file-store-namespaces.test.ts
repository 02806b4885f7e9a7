/**
 * Writers in another pid namespace (two containers of one pod on one volume): their pids mean
 * nothing here, so their liveness is judged by the lease in their header, never by pid. The
 * files of such writers are made with this process's writer and the namespace of another.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { FileStore } from '../src/file-store/file-store.js';
import { FormatProblem, H_LEASE_MS } from '../src/file-store/format.js';
import { currentIdentity, LivenessChecker } from '../src/file-store/identity.js';
import { FileCells, ProcessFile } from '../src/file-store/process-file.js';
import { readFileHeader } from '../src/file-store/reader.js';
import type { GaugeMode, MetricDescriptor } from '../src/types.js';
import { counterOf, flatten, tempDir } from './file-store-helpers.js';

const events = { failed() {}, recovered() {}, afterClose() {} };

function gaugeOf(name: string, mode: GaugeMode): MetricDescriptor {
  return { name, help: `${name} help`, type: 'gauge', labelNames: [], buckets: [], mode };
}

/** A pid no process has: one of a child that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/**
 * Writes the file of a writer in another pid namespace whose pid is `pid`: `jobs_total` = `jobs`
 * and a livesum gauge = 1; its lease renewed `leaseAgeMs` ago.
 */
function foreignFile(dir: string, pid: number, jobs: number, leaseAgeMs: number): string {
  const me = currentIdentity();
  assert.ok(me.pidNamespace > 0, 'this test needs /proc/self/ns/pid');
  const file = ProcessFile.create(
    dir,
    { ...me, pid, startTime: 4242, pidNamespace: me.pidNamespace + 1 },
    events,
  );
  const slots = (d: MetricDescriptor, size: number) =>
    new FileCells(file, file.appendSeries(file.appendDescriptor(d), [], size).word, size);
  slots(counterOf('jobs_total'), 1).add(0, jobs);
  slots(gaugeOf('busy', 'livesum'), 2).set(0, 1);
  file.flush();
  const name = file.name;
  file.close();
  const lease = Buffer.alloc(8);
  lease.writeDoubleLE(Date.now() - leaseAgeMs);
  const fd = openSync(join(dir, name), 'r+');
  writeSync(fd, lease, 0, 8, H_LEASE_MS);
  closeSync(fd);
  return name;
}

describe('writers in another pid namespace', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    ({ dir, cleanup } = tempDir('promfork-ns-'));
  });
  after(() => cleanup());

  it('are alive while their lease is fresh, whatever their pid says here', () => {
    const pid = deadPid();
    const fresh = foreignFile(dir, pid, 5, 1_000);
    const expired = foreignFile(dir, pid, 7, 10 * 60_000);
    const scraper = new FileStore({ dir });
    // Both files count; only the writer with a fresh lease is live.
    assert.deepEqual(flatten(scraper.collect()), { 'jobs_total{}': [12], 'busy{}': [1, 0] });
    // The expired one was folded into the archive; the fresh one is left alone.
    assert.deepEqual(
      readdirSync(dir).sort(),
      [fresh, scraper.fileName, 'promfork-archive.db'].sort(),
    );
    assert.ok(!readdirSync(dir).includes(expired));
    scraper.close();
  });

  it('judges a lease by the timeout given', () => {
    const me = currentIdentity();
    const foreign = { ...me, pid: deadPid(), pidNamespace: me.pidNamespace + 1 };
    const now = Date.now();
    assert.equal(new LivenessChecker().isAlive({ ...foreign, leaseMs: now - 60_000 }), true);
    assert.equal(
      new LivenessChecker({ leaseTimeoutMs: 30_000 }).isAlive({
        ...foreign,
        leaseMs: now - 60_000,
      }),
      false,
    );
    // In this namespace the pid decides, whatever the lease says.
    assert.equal(new LivenessChecker().isAlive({ ...me, leaseMs: 0 }), true);
    assert.equal(
      new LivenessChecker().isAlive({ ...foreign, pidNamespace: me.pidNamespace }),
      false,
    );
  });

  it('rejects a lease timeout below three renewals', () => {
    assert.throws(() => new FileStore({ dir, leaseTimeoutSeconds: 10 }), {
      code: 'PROMFORK_INVALID_OPTION',
    });
    assert.throws(() => new FileStore({ dir, leaseTimeoutSeconds: Number.NaN }), {
      code: 'PROMFORK_INVALID_OPTION',
    });
  });

  it('renews the lease of a live writer every 10 s', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
    try {
      const file = ProcessFile.create(dir, currentIdentity(), events);
      const lease = () => {
        const header = readFileHeader(dir, file.name);
        assert.ok(!(header instanceof FormatProblem));
        return header.leaseMs;
      };
      assert.equal(lease(), 1_000_000);
      mock.timers.tick(10_000);
      assert.equal(lease(), 1_010_000);
      mock.timers.tick(20_000);
      assert.equal(lease(), 1_030_000);
      file.close();
      // A closed file renews nothing.
      mock.timers.tick(10_000);
      assert.equal(lease(), 1_030_000);
    } finally {
      mock.timers.reset();
    }
  });
});
