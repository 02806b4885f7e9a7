/**
 * Native histograms end to end: a real Prometheus (Debian package `prometheus`, 2.42) started
 * with `--enable-feature=native-histograms` scrapes a 4-worker Express example cluster running
 * with `PROMFORK_NATIVE_HISTOGRAMS=1`. Known traffic goes in, including requests to
 * `GET /delay?ms=N` with known latencies, then through Prometheus' HTTP API:
 *
 * - `http_request_duration_seconds` is stored as a native histogram (the API returns a
 *   histogram, not a float, and `histogram_count` has a value: in 2.42 it has none for
 *   classic series), merged over the four workers;
 * - `histogram_count(sum(...))` equals the requests served, in total and on the delay route;
 * - `histogram_quantile(0.99, sum(rate(...[1m])))` on the delay route is within the schema's
 *   relative error of the true p99 of the latencies served (the reasoning is at `p99Bounds`).
 *
 * A text-format scrape of the same cluster stays promtool clean with the native option on, and
 * its classic buckets (the same observations, counted exactly) agree with the native buckets.
 * Exemplars (issue 13's `/api/v1/query_exemplars` check) are in prometheus-exemplars.test.ts.
 *
 * Skipped, with the reason, where the binary is absent; fails instead when CI is set.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type * as Promtool from '../packages/core/dist/test/helpers/promtool.js';
import { UNMATCHED_ROUTE } from './helpers/cluster-scenario.js';
import { parseExposition, sumBy } from './helpers/exposition.js';
import { request, runLimited } from './helpers/http.js';
import { prometheusForTest, waitForUp, waitForValue } from './helpers/prometheus.js';
import { type ScrapedCluster, startScrapedCluster } from './helpers/scraped-cluster.js';
import { planRequests, sendPlan } from './helpers/traffic.js';

// Core's promtool check, loaded from core's compiled tests (this file runs from test/dist).
const { checkWithPromtool }: typeof Promtool = await import(
  new URL('../../packages/core/dist/test/helpers/promtool.js', import.meta.url).href
);

const JOB = 'promfork-native';
const WORKERS = 4;
const METRIC = 'http_request_duration_seconds';
const DELAY_ROUTE = '/delay';
/**
 * Requests with known latencies. 250 makes the p99 rank 0.99 * 250 = 247.5, not a whole
 * number, so Prometheus' choice of bucket (the first whose cumulative count reaches the rank)
 * cannot flip with the float rounding of rate(): it is the bucket of the 248th smallest value.
 */
const DELAYED = 250;
const P99_RANK = Math.ceil(0.99 * DELAYED);

let run: ScrapedCluster | undefined;

after(async () => {
  await run?.stop();
});

/** The latencies asked for: 20 to 200 ms evenly, in a scrambled order (a stride prime to N). */
function plannedLatencies(): number[] {
  const sorted = Array.from({ length: DELAYED }, (_, i) =>
    Math.round(20 + (180 * i) / (DELAYED - 1)),
  );
  return sorted.map((_, i) => sorted[(i * 97) % DELAYED]!);
}

/** Sends `GET /delay?ms=<ms>` for each latency; returns each one's duration seen by the client. */
async function sendDelayed(baseUrl: string, latencies: readonly number[]): Promise<number[]> {
  return runLimited(
    latencies.map((ms) => async () => {
      const start = performance.now();
      const res = await request(`${baseUrl}${DELAY_ROUTE}?ms=${ms}`);
      const took = performance.now() - start;
      assert.equal(res.status, 200, `GET /delay?ms=${ms}: ${res.body}`);
      return took;
    }),
    16,
  );
}

/** The k-th smallest (1-based) of `values`. */
function kthSmallest(values: readonly number[], k: number): number {
  return [...values].sort((a, b) => a - b)[k - 1]!;
}

/**
 * The schema of a native histogram from the bucket bounds Prometheus returns: a positive
 * exponential bucket is `(base^(i-1), base^i]` with `base = 2^(2^-schema)`.
 */
function schemaOf(buckets: ReadonlyArray<{ lower: number; upper: number }>): number {
  const positive = buckets.filter((b) => b.lower > 0);
  assert.ok(positive.length > 0, 'populated positive buckets');
  const schemas = positive.map((b) => -Math.log2(Math.log2(b.upper / b.lower)));
  const schema = Math.round(schemas[0]!);
  for (const s of schemas) assert.ok(Math.abs(s - schema) < 1e-6, `one schema: ${schemas}`);
  assert.ok(schema >= -4 && schema <= 8, `schema ${schema}`);
  return schema;
}

/**
 * Where `histogram_quantile(0.99, ...)` must land, in ms, given the schema.
 *
 * The true p99 T is the 248th smallest of the 250 durations the server itself recorded. We do
 * not know those durations exactly, but each lies between two things we do know: the latency
 * asked for (the route waits at least that long, and the adapter starts timing before the
 * route runs) and the duration the client measured (the server's timing starts after the
 * client sent the request and ends before the client has the whole response). The k-th
 * smallest is monotone in every value, so T lies between the 248th smallest asked-for latency
 * and the 248th smallest client duration. Server overhead (scheduling on a loaded machine
 * included) is thus accounted for without guessing a number of milliseconds.
 *
 * Prometheus picks the bucket holding the 248th smallest observation, `(l, u]` with
 * `u = l * 2^(2^-schema)`, and interpolates inside it, so its answer E is in `[l, u]` and
 * T is in `(l, u]`: E is within the bucket's relative width `w = 2^(2^-schema) - 1` of T,
 * i.e. `T / (1 + w) <= E <= T * (1 + w)`. With the bounds on T:
 * `asked / (1 + w) <= E <= client * (1 + w)`.
 */
function p99Bounds(
  asked: readonly number[],
  client: readonly number[],
  schema: number,
): { low: number; high: number; width: number; askedP99: number; clientP99: number } {
  const width = 2 ** (2 ** -schema) - 1;
  const askedP99 = kthSmallest(asked, P99_RANK);
  const clientP99 = kthSmallest(client, P99_RANK);
  return { low: askedP99 / (1 + width), high: clientP99 * (1 + width), width, askedP99, clientP99 };
}

it(`a real Prometheus with native histograms: ${METRIC} from a ${WORKERS}-worker cluster, counts and p99`, async (t) => {
  const binary = prometheusForTest(t);
  if (binary === undefined) return;
  run = await startScrapedCluster(binary, 'express', {
    workers: WORKERS,
    jobName: JOB,
    env: { PROMFORK_NATIVE_HISTOGRAMS: '1' },
    features: ['native-histograms'],
  });
  const { cluster, prometheus: server } = run;
  const base = cluster.url;
  const delaySeries = `${METRIC}{job="${JOB}",method="GET",route="${DELAY_ROUTE}",status_code="200"}`;
  const jobSeries = `${METRIC}{job="${JOB}"}`;

  // Every route once or more (4xx included), then one request to the delay route, stored by
  // Prometheus before the measured traffic: rate() takes the difference between the first and
  // last samples of its window, so a sample holding the warm-up but none of the measured
  // requests must be in the window for rate() to cover exactly the measured requests.
  const mixed = await sendPlan(base, planRequests(24, UNMATCHED_ROUTE));
  await waitForUp(server, JOB);
  const warmupSent = Date.now();
  await sendDelayed(base, [0]);
  await waitForValue(server, `histogram_count(sum(${delaySeries}))`, 1);

  const asked = plannedLatencies();
  const client = await sendDelayed(base, asked);
  const served = mixed.length + 1 + asked.length;

  // Counts: the merged native histogram of the four workers holds every request served.
  await waitForValue(server, `histogram_count(sum(${delaySeries}))`, 1 + asked.length);
  await waitForValue(server, `histogram_count(sum(${jobSeries}))`, served);
  const evaluatedAt = Date.now();
  assert.ok(
    evaluatedAt - warmupSent < 55_000,
    `the 1m rate window must still hold the warm-up sample; the run took ${evaluatedAt - warmupSent} ms`,
  );

  // Stored as a native histogram: the API returns histograms, one per route/method/status.
  const stored = await server.queryHistograms(delaySeries, evaluatedAt / 1000);
  assert.equal(stored.length, 1, JSON.stringify(stored));
  assert.equal(stored[0]!.count, 1 + asked.length);
  const schema = schemaOf(stored[0]!.buckets);
  const sumMs = asked.reduce((a, b) => a + b, 0);
  assert.ok(stored[0]!.sum * 1000 >= sumMs, `sum ${stored[0]!.sum} s >= ${sumMs} ms asked`);

  // p99 over the measured requests, against the bound derived in p99Bounds.
  const p99Query = `histogram_quantile(0.99, sum(rate(${delaySeries}[1m])))`;
  const rows = await server.query(p99Query, evaluatedAt / 1000);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  const estimateMs = rows[0]!.value * 1000;
  const bounds = p99Bounds(asked, client, schema);
  t.diagnostic(
    `schema ${schema} (bucket width ${(bounds.width * 100).toFixed(2)}%); p99 asked ` +
      `${bounds.askedP99} ms, client-side ${bounds.clientP99.toFixed(1)} ms, Prometheus ` +
      `${estimateMs.toFixed(1)} ms; allowed [${bounds.low.toFixed(1)}, ${bounds.high.toFixed(1)}] ms`,
  );
  assert.ok(
    estimateMs >= bounds.low && estimateMs <= bounds.high,
    `p99 ${estimateMs} ms outside [${bounds.low}, ${bounds.high}] ms`,
  );

  // The same cluster's text exposition (no Accept header: text 0.0.4) stays promtool clean:
  // classic buckets only, the native buckets are for protobuf scrapes.
  const text = await request(`${base}/metrics`);
  assert.equal(text.status, 200);
  assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  // The default metrics' gauges keep prom-client's names (`nodejs_active_handles_total`),
  // which promtool's naming lint flags; that finding only, as in core's default-metrics test.
  checkWithPromtool(t, text.body, 'prometheus', {
    allowLint: ['non-counter metrics should not have "_total" suffix'],
  });
  const samples = parseExposition(text.body);
  const onDelayRoute = (sample: { labels: Readonly<Record<string, string>> }) =>
    sample.labels.route === DELAY_ROUTE;
  const counts = sumBy(samples, `${METRIC}_count`, ['route'], onDelayRoute);
  assert.equal(counts.get(DELAY_ROUTE), 1 + asked.length);

  // The classic buckets count the very observations the native ones do (one observe() feeds
  // both), exactly, whatever the machine's load: a misplaced native bucket (an observation
  // filed a bucket too high or too low) shows as a classic count outside what the native
  // buckets allow. For a classic bound `le`, the native buckets wholly at or below it hold at
  // most the classic count, and those starting below it at least that count.
  const classic = sumBy(samples, `${METRIC}_bucket`, ['le'], onDelayRoute);
  const native = stored[0]!.buckets;
  for (const [le, count] of classic) {
    const bound = Number(le);
    if (!Number.isFinite(bound)) continue;
    const surely = native.filter((b) => b.upper <= bound).reduce((n, b) => n + b.count, 0);
    const maybe = native.filter((b) => b.lower < bound).reduce((n, b) => n + b.count, 0);
    assert.ok(
      surely <= count && count <= maybe,
      `classic le=${le} holds ${count}; the native buckets allow ${surely}..${maybe}`,
    );
  }
});
