/**
 * End-to-end with a real Prometheus server (Debian package `prometheus`, 2.42) started with
 * `--enable-feature=native-histograms`: it asks for the protobuf format first, and must ingest
 * what promfork serves: a counter and a classic histogram from a registry, and a native
 * histogram encoded from a snapshot (the native histogram metric itself lives elsewhere; this
 * checks the wire encoding against Prometheus' own parser).
 *
 * Skipped, with the reason, where the binary is absent; fails instead when CI is set, since CI
 * installs the package (.ci/run).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import { Counter, Histogram, MemoryStore, PROTOBUF_CONTENT_TYPE, Registry } from '@promfork/core';
import { waitFor } from './helpers/deadline.js';
import { findPrometheus, type PrometheusServer, startPrometheus } from './helpers/prometheus.js';

/** The renderer is internal to @promfork/core: loaded from the built package, from test/dist/. */
const { ProtobufRenderer } = (await import(
  new URL('../../packages/core/dist/src/render-protobuf.js', import.meta.url).href
)) as typeof import('../packages/core/dist/src/render-protobuf.js');

const JOB = 'promfork-protobuf';
const binary = findPrometheus();
let prometheus: PrometheusServer | undefined;
let server: Server | undefined;

after(async () => {
  await prometheus?.stop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

it('a real Prometheus with native histograms scrapes protobuf: counter, classic and native histograms', async (t) => {
  if (binary === undefined) {
    const reason =
      'the prometheus binary is not installed (apt-get install prometheus, or set PROMETHEUS_BIN)';
    if (process.env.CI) assert.fail(`CI is set but ${reason}`);
    t.skip(reason);
    return;
  }
  const store = new MemoryStore();
  const registry = new Registry();
  const counter = new Counter({
    name: 'e2e_requests_total',
    help: 'requests',
    labelNames: ['route'],
    registers: [registry],
    store,
  });
  counter.inc({ route: '/a' }, 7);
  const classic = new Histogram({
    name: 'e2e_classic_seconds',
    help: 'classic',
    buckets: [0.1, 1],
    registers: [registry],
    store,
  });
  for (const v of [0.05, 0.5, 5]) classic.observe(v);
  // A native-only histogram, schema 0 (buckets (2^(i-1), 2^i]): 1 in the zero bucket,
  // 2 in (0.5, 1] (index 0), 1 in (2, 4] (index 2), 1 in (-2, -1] (index 1, negative).
  const nativeFamily = {
    descriptor: {
      name: 'e2e_native_seconds',
      help: 'native',
      type: 'histogram' as const,
      labelNames: [],
      buckets: [],
      mode: 'sum' as const,
    },
    series: [
      {
        labelValues: [],
        cells: [5, 2.5, 5],
        native: {
          schema: 0,
          zeroThreshold: 2 ** -128,
          zeroCount: 1,
          count: 5,
          sum: 2.5,
          positive: [
            [0, 2],
            [2, 1],
          ] as const,
          negative: [[1, 1]] as const,
        },
      },
    ],
  };
  const nativeBytes = new ProtobufRenderer().render([
    { family: nativeFamily, options: { nowMs: Date.now() } },
  ]);

  const accepts: string[] = [];
  const served: string[] = [];
  server = createServer((req, res) => {
    void (async () => {
      accepts.push(req.headers.accept ?? '');
      const scraped = await registry.scrape(req.headers.accept);
      served.push(scraped.contentType);
      const body =
        typeof scraped.body === 'string'
          ? scraped.body
          : Buffer.concat([scraped.body, nativeBytes]);
      res.writeHead(200, { 'content-type': scraped.contentType });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  prometheus = await startPrometheus(binary, {
    jobName: JOB,
    targets: [target],
    features: ['native-histograms'],
  });
  const p = prometheus;

  await waitFor(
    'Prometheus to ingest the protobuf scrape',
    async () => {
      const rows = await p.query(`e2e_requests_total{job="${JOB}"}`);
      return rows.length === 1 ? rows : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.match(accepts[0] ?? '', /^application\/vnd\.google\.protobuf;/);
  assert.equal(served[0], PROTOBUF_CONTENT_TYPE);

  const value = async (promql: string) => {
    const rows = await p.query(promql);
    assert.equal(rows.length, 1, `${promql}: ${JSON.stringify(rows)}`);
    return rows[0]?.value;
  };
  assert.equal(await value(`e2e_requests_total{job="${JOB}",route="/a"}`), 7);
  assert.equal(await value(`e2e_classic_seconds_count{job="${JOB}"}`), 3);
  // Prometheus names protobuf buckets in OpenMetrics style (`1.0`, as from client_golang).
  assert.equal(await value(`e2e_classic_seconds_bucket{job="${JOB}",le="1.0"}`), 2);
  assert.equal(await value(`e2e_classic_seconds_bucket{job="${JOB}",le="+Inf"}`), 3);
  assert.equal(await value(`histogram_count(e2e_native_seconds{job="${JOB}"})`), 5);
  assert.equal(await value(`histogram_sum(e2e_native_seconds{job="${JOB}"})`), 2.5);
  // Observations in (0.5, 1] and below: the zero bucket, the negative one and index 0.
  assert.equal(await value(`histogram_fraction(-10, 1, e2e_native_seconds{job="${JOB}"})`), 4 / 5);
});
