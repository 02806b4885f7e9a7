/**
 * Default metrics across real processes: workers forked with PROMETHEUS_MULTIPROC_DIR set each
 * run collectDefaultMetrics() on the default registry; one of them answers the scrape.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './file-store-helpers.js';
import type { DefaultMetricsCommand } from './fixtures/default-metrics-worker.js';
import { type ParsedFamily, parseExposition } from './helpers/parse-exposition.js';

class DefaultMetricsWorker {
  readonly child: ChildProcess;
  /** Resolves with a lower bound of the CPU seconds the worker reported. */
  readonly ready: Promise<number>;
  readonly exited: Promise<void>;

  constructor(dir: string) {
    const script = fileURLToPath(new URL('./fixtures/default-metrics-worker.js', import.meta.url));
    this.child = fork(script, [], {
      env: { ...process.env, PROMETHEUS_MULTIPROC_DIR: dir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (message: { cpu: number }) => resolve(message.cpu));
      this.child.once('exit', () => reject(new Error('worker exited before it was ready')));
    });
  }

  scrape(): Promise<Map<string, ParsedFamily>> {
    return new Promise((resolve) => {
      this.child.once('message', (message: { text: string }) => {
        const families = parseExposition(message.text, 'prometheus');
        resolve(new Map(families.map((f) => [f.name, f])));
      });
      this.child.send({ op: 'scrape' } satisfies DefaultMetricsCommand);
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe('collectDefaultMetrics with several processes', () => {
  const { dir, cleanup } = tempDir('promfork-dm-');
  const workers: DefaultMetricsWorker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    cleanup();
  });

  it('keeps per-process gauges apart by pid, sums CPU and reports the version once', async () => {
    for (let i = 0; i < 3; i++) workers.push(new DefaultMetricsWorker(dir));
    const cpuLowerBounds = await Promise.all(workers.map((w) => w.ready));
    const pids = workers.map((w) => String(w.child.pid)).sort();
    const [first, , third] = workers as [
      DefaultMetricsWorker,
      DefaultMetricsWorker,
      DefaultMetricsWorker,
    ];

    const families = await first.scrape();
    for (const name of [
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      const samples = families.get(name)?.samples ?? [];
      assert.deepEqual(samples.map((s) => s.labels.pid).sort(), pids, `${name} by pid`);
      // (Event-loop statistics of a worker that just started may still be 0: no sample yet.)
      for (const s of samples) assert.ok(s.value >= 0, `${name}{pid=${s.labels.pid}} = ${s.value}`);
      if (!name.startsWith('nodejs_eventloop')) {
        for (const s of samples)
          assert.ok(s.value > 0, `${name}{pid=${s.labels.pid}} = ${s.value}`);
      }
    }
    const cpu = families.get('process_cpu_seconds_total')?.samples ?? [];
    assert.equal(cpu.length, 1);
    assert.equal(cpu[0]?.labels.pid, undefined);
    const sumOfLowerBounds = cpuLowerBounds.reduce((a, b) => a + b, 0);
    assert.ok(cpu[0]!.value >= sumOfLowerBounds, `${cpu[0]?.value} < ${sumOfLowerBounds}`);
    const version = families.get('nodejs_version_info')?.samples ?? [];
    assert.equal(version.length, 1);
    assert.equal(version[0]?.labels.version, process.version);
    assert.equal(version[0]?.value, 1);

    // A dead worker's per-process gauges disappear; its CPU time stays in the sum.
    await third.kill();
    const afterKill = await first.scrape();
    const remaining = afterKill.get('process_resident_memory_bytes')?.samples ?? [];
    assert.equal(remaining.length, 2);
    assert.ok(!remaining.some((s) => s.labels.pid === String(third.child.pid)));
    const cpuAfter = afterKill.get('process_cpu_seconds_total')?.samples[0]?.value ?? 0;
    assert.ok(cpuAfter >= (cpu[0]?.value ?? Number.POSITIVE_INFINITY));
  });
});
