/**
 * End-to-end with a real Prometheus server (Debian package `prometheus`): it scrapes the
 * Express cluster example every second while we send traffic, and its query API must report
 * exactly the number of responses sent, whichever worker answered each scrape.
 *
 * Skipped, with the reason, where the binary is absent; fails instead when CI is set, since CI
 * installs the package (.ci/run).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { UNMATCHED_ROUTE } from './helpers/cluster-scenario.js';
import { prometheusForTest, waitForUp, waitForValue } from './helpers/prometheus.js';
import { type ScrapedCluster, startScrapedCluster } from './helpers/scraped-cluster.js';
import { expectedCounts, planRequests, sendPlan, sortedObject } from './helpers/traffic.js';

const JOB = 'promfork-express';
const APP_ROUTES = `{job="${JOB}",route!="/metrics"}`;

let run: ScrapedCluster | undefined;

after(async () => {
  await run?.stop();
});

it('a real Prometheus server scrapes the Express cluster and sums every response', async (t) => {
  const binary = prometheusForTest(t);
  if (binary === undefined) return;
  run = await startScrapedCluster(binary, 'express', { workers: 2, jobName: JOB });
  const { cluster, prometheus: server } = run;

  // Half the traffic before the first scrape, half after: both must show up.
  const first = await sendPlan(cluster.url, planRequests(30, UNMATCHED_ROUTE));
  await waitForUp(server, JOB);
  const second = await sendPlan(cluster.url, planRequests(30, UNMATCHED_ROUTE, 30));
  const sent = [...first, ...second];

  // The total settles on the number of responses once a scrape after the traffic is stored.
  await waitForValue(server, `sum(http_requests_total${APP_ROUTES})`, sent.length);

  // And per series, as Prometheus stored them.
  const series = await server.query(
    `sum by (method, route, status_code) (http_requests_total${APP_ROUTES})`,
  );
  const stored = new Map(
    series.map((s) => [`${s.metric.method} ${s.metric.route} ${s.metric.status_code}`, s.value]),
  );
  assert.deepEqual(sortedObject(stored), sortedObject(expectedCounts(sent)));

  // Both workers served traffic, so a scrape answered by either one had to merge the other's.
  assert.equal(new Set(sent.map((r) => r.pid)).size, 2, 'the traffic reached both workers');
});
