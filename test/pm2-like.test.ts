/**
 * End-to-end: PM2 cluster mode, where the primary runs no promfork code (a stand-in primary,
 * test/fixtures/pm2-like-primary.ts, since PM2 is not a dependency). The workers alone must
 * keep every count: across a SIGKILLed worker, and across a restart of the whole app on the
 * same directory, where the previous run's counts carry on (counters never go back).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { describeClusterScenario, UNMATCHED_ROUTE } from './helpers/cluster-scenario.js';
import { waitFor } from './helpers/deadline.js';
import { parseExposition, sumBy } from './helpers/exposition.js';
import { request } from './helpers/http.js';
import { type ExampleCluster, startExampleCluster } from './helpers/processes.js';
import { expectedCounts, planRequests, sendPlan, sortedObject } from './helpers/traffic.js';

describeClusterScenario('pm2-like');

let running: ExampleCluster | undefined;
const dir = mkdtempSync(join(tmpdir(), 'promfork-e2e-pm2-restart-'));
after(async () => {
  await running?.program.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('pm2-like: a restarted app on the same directory keeps the previous run’s counts', async () => {
  running = await startExampleCluster('pm2-like', { workers: 2, dir });
  const first = await sendPlan(running.url, planRequests(24, UNMATCHED_ROUTE));
  const stopped = await running.program.stop('SIGTERM', 10_000);
  assert.deepEqual(stopped, { code: 0, signal: null }, running.program.describeOutput());

  running = await startExampleCluster('pm2-like', { workers: 2, dir });
  const second = await sendPlan(running.url, planRequests(24, UNMATCHED_ROUTE, 24));
  const expected = sortedObject(expectedCounts([...first, ...second]));
  const cluster = running;
  let last: Record<string, number> | undefined;
  await waitFor(
    'a scrape that counts both runs',
    async () => {
      const res = await request(`${cluster.url}/metrics`);
      last = sortedObject(
        sumBy(
          parseExposition(res.body),
          'http_requests_total',
          ['method', 'route', 'status_code'],
          (s) => s.labels.route !== '/metrics',
        ),
      );
      return isDeepStrictEqual(last, expected) ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  ).catch(() => assert.deepEqual(last, expected, 'counts of both runs'));
});
