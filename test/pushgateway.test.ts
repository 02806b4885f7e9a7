/**
 * End-to-end with a real Prometheus Pushgateway (Debian package `prometheus-pushgateway`): a
 * 4-process batch job pushes the merged metrics of its directory, and the gateway's own
 * /metrics must show the exact totals under the job and grouping labels; then pushAdd and push
 * semantics, a refused push, and delete.
 *
 * Skipped, with the reason, where the binary is absent; fails instead when CI is set, since CI
 * installs the package (.ci/run).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Counter, Gauge, Pushgateway, PushgatewayError, Registry } from '@promfork/core';
import { withDeadline } from './helpers/deadline.js';
import { parseExposition, type Sample } from './helpers/exposition.js';
import { RunningProgram } from './helpers/processes.js';
import {
  findPushgateway,
  type PushgatewayServer,
  startPushgateway,
} from './helpers/pushgateway.js';

const JOB = 'nightly/backup';
// Values the gateway's path cannot carry plainly: a slash, a lone dot, an empty value.
const GROUPINGS = { instance: 'db-1/eu', shard: '.', slot: '' };
const GROUP = { job: JOB, ...GROUPINGS };
const BATCH_JOB = fileURLToPath(new URL('./fixtures/batch-job.js', import.meta.url));

const binary = findPushgateway();
let gateway: PushgatewayServer | undefined;
const dirs: string[] = [];

after(async () => {
  await gateway?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the batch job (4 workers, then the parent pushes) in a fresh directory. */
async function runBatchJob(method: 'push' | 'pushAdd', scenario: 'full' | 'rerun'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'promfork-e2e-pushgateway-'));
  dirs.push(dir);
  const program = new RunningProgram(
    `batch job (${method}, ${scenario})`,
    process.execPath,
    [BATCH_JOB, gateway!.url, method, JOB, JSON.stringify(GROUPINGS), scenario],
    { ...process.env, PROMETHEUS_MULTIPROC_DIR: dir },
  );
  const { code } = await withDeadline(`${program.label} to exit`, program.exited, 60_000).catch(
    async (error: Error) => {
      await program.stop('SIGKILL');
      throw error;
    },
  );
  assert.equal(code, 0, `the batch job failed\n${program.describeOutput()}`);
  assert.deepEqual(program.stdout, ['pushed 200'], program.describeOutput());
}

/** The samples of one group on the gateway, by `name{labels other than the group's}`. */
async function groupSamples(group: Readonly<Record<string, string>>): Promise<Map<string, number>> {
  const samples = parseExposition(await gateway!.scrape());
  const inGroup = (s: Sample) => Object.entries(group).every(([k, v]) => s.labels[k] === v);
  const out = new Map<string, number>();
  for (const sample of samples.filter(inGroup)) {
    // The gateway's own bookkeeping of the group, not pushed data.
    if (sample.name === 'push_time_seconds' || sample.name === 'push_failure_time_seconds')
      continue;
    const rest = Object.entries(sample.labels)
      .filter(([k]) => !(k in group))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out.set(rest === '' ? sample.name : `${sample.name}{${rest}}`, sample.value);
  }
  return out;
}

/** Only the batch job's own families (the merged scrape may hold promfork's own counters). */
function batchFamilies(samples: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...samples].filter(([key]) => key.startsWith('batch_')));
}

const FULL_RUN = {
  // 10 + 20 + 30 + 40 and 1 + 2 + 3 + 4
  'batch_records_total{outcome=ok}': 100,
  'batch_records_total{outcome=failed}': 10,
  // each worker i: i observations of 0.25 and one of 0.5
  'batch_record_seconds_bucket{le=0.25}': 10,
  'batch_record_seconds_bucket{le=1}': 14,
  'batch_record_seconds_bucket{le=+Inf}': 14,
  batch_record_seconds_sum: 4.5,
  batch_record_seconds_count: 14,
  // max over the workers of 1000 + i
  batch_last_success_timestamp_seconds: 1004,
};

it('a real Pushgateway receives the merged metrics of a 4-process job; push, pushAdd and delete behave as the gateway documents', async (t) => {
  if (binary === undefined) {
    const reason =
      'the prometheus-pushgateway binary is not installed ' +
      '(apt-get install prometheus-pushgateway, or set PUSHGATEWAY_BIN)';
    if (process.env.CI) assert.fail(`CI is set but ${reason}`);
    t.skip(reason);
    return;
  }
  gateway = await startPushgateway(binary);
  const server = gateway;

  await t.test(
    'push sends the totals of every process, under the job and grouping labels',
    async () => {
      await runBatchJob('push', 'full');
      assert.deepEqual(batchFamilies(await groupSamples(GROUP)), FULL_RUN);
    },
  );

  // Another group of the same job, pushed from this process, that no later step may touch.
  const other = new Registry();
  new Counter({
    name: 'batch_records_total',
    help: 'Records processed by the batch job',
    labelNames: ['outcome'],
    registers: [other],
  }).inc({ outcome: 'ok' }, 7);
  const otherGroup = { job: JOB, instance: 'db-2' };
  await new Pushgateway(server.url, {}, other).push({
    jobName: JOB,
    groupings: { instance: 'db-2' },
  });

  await t.test('pushAdd replaces only the metrics with the names it pushes', async () => {
    await runBatchJob('pushAdd', 'rerun');
    // batch_records_total is replaced as a whole (its `failed` series is gone); the histogram
    // and the gauge, not pushed this time, keep the first run's values.
    const expected = Object.fromEntries(
      Object.entries(FULL_RUN).filter(([key]) => !key.startsWith('batch_records_total')),
    );
    assert.deepEqual(batchFamilies(await groupSamples(GROUP)), {
      ...expected,
      'batch_records_total{outcome=ok}': 4,
    });
  });

  await t.test('push replaces every metric of the group', async () => {
    await runBatchJob('push', 'rerun');
    assert.deepEqual(batchFamilies(await groupSamples(GROUP)), {
      'batch_records_total{outcome=ok}': 4,
    });
  });

  await t.test('a push the gateway refuses rejects with PROMFORK_PUSHGATEWAY_STATUS', async () => {
    // The gateway holds batch_records_total as a counter; a gauge of that name is inconsistent.
    const clash = new Registry();
    new Gauge({
      name: 'batch_records_total',
      help: 'Records processed by the batch job',
      registers: [clash],
    }).set(1);
    const pusher = new Pushgateway(server.url, {}, clash);
    const url = pusher.urlFor({ jobName: 'clash' }).href;
    await assert.rejects(pusher.push({ jobName: 'clash' }), (error: unknown) => {
      assert.ok(error instanceof PushgatewayError);
      assert.equal(error.code, 'PROMFORK_PUSHGATEWAY_STATUS');
      assert.equal(error.statusCode, 400);
      assert.equal(error.method, 'PUT');
      assert.equal(error.url, url);
      assert.ok(error.message.includes(url), error.message);
      assert.ok(error.message.includes('HTTP 400'), error.message);
      return true;
    });
  });

  await t.test('delete removes the group and leaves the others', async () => {
    const { resp, body } = await new Pushgateway(server.url, {}, new Registry()).delete({
      jobName: JOB,
      groupings: GROUPINGS,
    });
    assert.equal(resp.statusCode, 202);
    assert.equal(body, '');
    assert.deepEqual([...(await groupSamples(GROUP)).keys()], []);
    assert.deepEqual(batchFamilies(await groupSamples(otherGroup)), {
      'batch_records_total{outcome=ok}': 7,
    });
  });
});
