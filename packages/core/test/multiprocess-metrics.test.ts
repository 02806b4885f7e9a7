/**
 * The metric API and registries over the FileStore with real forked workers: `get()` and
 * scrapes show every process, and the default registry shows families only other processes
 * declared (but not those this process keeps in another registry).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Counter,
  Gauge,
  getDefaultStore,
  Histogram,
  Registry,
  register,
  Summary,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'promfork-metrics-'));
// Set before the first metric is created: the default store is chosen lazily.
process.env.PROMETHEUS_MULTIPROC_DIR = dir;

const workers: { child: ChildProcess; pid: number }[] = [];

function startWorker(by: number): Promise<{ child: ChildProcess; pid: number }> {
  const script = fileURLToPath(new URL('./fixtures/metrics-worker.js', import.meta.url));
  const child = fork(script, [String(by)], {
    env: { ...process.env, PROMETHEUS_MULTIPROC_DIR: dir },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    child.once('message', (m: { pid: number }) => resolve({ child, pid: m.pid }));
  });
}

before(async () => {
  workers.push(await startWorker(1), await startWorker(2));
});

after(async () => {
  await Promise.all(
    workers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.send('exit');
        }),
    ),
  );
  getDefaultStore().close();
  rmSync(dir, { recursive: true, force: true });
});

test('the default store is a FileStore when PROMETHEUS_MULTIPROC_DIR is set', () => {
  assert.equal(getDefaultStore().kind, 'file');
});

test('get() and the exposition merge counters, histograms and summaries of every process', async () => {
  const jobs = new Counter({ name: 'mp_jobs_total', help: 'Jobs', labelNames: ['kind'] });
  jobs.inc({ kind: 'a' });
  assert.deepEqual(
    (await jobs.get()).values.map((v) => [v.labels, v.value]),
    [[{ kind: 'a' }, 4]],
  );
  assert.equal(
    await register.getSingleMetricAsString('mp_jobs_total'),
    '# HELP mp_jobs_total Jobs\n# TYPE mp_jobs_total counter\nmp_jobs_total{kind="a"} 4\n',
  );

  new Histogram({ name: 'mp_latency_seconds', help: 'Latency', buckets: [1] }).observe(3);
  assert.equal(
    await register.getSingleMetricAsString('mp_latency_seconds'),
    [
      '# HELP mp_latency_seconds Latency',
      '# TYPE mp_latency_seconds histogram',
      'mp_latency_seconds_bucket{le="1"} 1',
      'mp_latency_seconds_bucket{le="+Inf"} 3',
      'mp_latency_seconds_sum 5.25',
      'mp_latency_seconds_count 3',
      '',
    ].join('\n'),
  );

  const size = new Summary({ name: 'mp_size', help: 'Size', percentiles: [0.5] });
  size.observe(30);
  const values = (await size.get()).values;
  const median = values[0]?.value ?? Number.NaN;
  assert.ok(Math.abs(median - 20) <= 0.2, `median of 10, 20, 30 across processes is ${median}`);
  assert.deepEqual(
    values.slice(1).map((v) => [v.metricName, v.value]),
    [
      ['mp_size_sum', 60],
      ['mp_size_count', 3],
    ],
  );
});

test('gauges in the default mode keep one series per process, labelled pid', async () => {
  const up = new Gauge({ name: 'mp_up', help: 'Up' });
  up.set(7);
  const got = (await up.get()).values.map((v) => [v.labels.pid, v.value]);
  const want = [
    [String(process.pid), 7],
    [String(workers[0]?.pid), 1],
    [String(workers[1]?.pid), 2],
  ];
  const byPid = (a: (string | number | undefined)[], b: (string | number | undefined)[]) =>
    String(a[0]).localeCompare(String(b[0]));
  assert.deepEqual(got.sort(byPid), want.sort(byPid));
});

test('the default registry shows families only other processes declared; others do not', async () => {
  const custom = new Registry();
  new Counter({ name: 'mp_private_total', help: 'Private', registers: [custom] });
  const names = (await register.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(
    names.includes('mp_worker_only_total'),
    `default registry lacks the foreign family: ${names}`,
  );
  assert.ok(
    !names.includes('mp_private_total'),
    'a family this process keeps in another registry leaked',
  );
  const foreign = (await register.getMetricsAsJSON()).find(
    (m) => m.name === 'mp_worker_only_total',
  );
  assert.deepEqual(
    foreign?.values.map((v) => v.value),
    [3],
  );
  assert.deepEqual(
    (await custom.getMetricsAsJSON()).map((m) => [m.name, m.values.map((v) => v.value)]),
    [['mp_private_total', [3]]],
  );
  const other = new Registry();
  assert.deepEqual(await other.getMetricsAsJSON(), []);
});
