/**
 * "Existing prom-client code runs after changing only the import": one scenario written
 * against prom-client's API runs against prom-client and against @promfork/core, and the two
 * expositions must hold the same families and samples. Label order within a sample is
 * normalised (promfork puts `le` last, prom-client first; Prometheus ignores the order), and
 * summary quantiles are left out (t-digest vs sketch; see summary.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as promClient from 'prom-client';
import * as promfork from '../src/index.js';
import { parseExposition } from './helpers/parse-exposition.js';

type Lib = typeof promClient;

async function scenario(lib: Lib): Promise<string> {
  const registry = new lib.Registry();
  const registers = [registry];
  const requests = new lib.Counter({
    name: 'compat_requests_total',
    help: 'Requests',
    labelNames: ['method', 'code'] as const,
    registers,
  });
  requests.inc({ method: 'GET', code: 200 });
  requests.labels('POST', '500').inc(2);
  requests.labels({ method: 'GET', code: '200' }).inc(0.5);
  requests.inc({ method: 'PUT', code: 201 }, 4);
  requests.remove('PUT', '201');

  const queue = new lib.Gauge({ name: 'compat_queue', help: 'Queue', registers });
  queue.set(10);
  queue.inc();
  queue.dec(3);
  const temp = new lib.Gauge({ name: 'compat_temp', help: 'T', labelNames: ['room'], registers });
  temp.set({ room: 'a' }, 1);
  temp.labels('b').set(2);
  temp.labels('c').inc(5);
  temp.remove('b');

  const latency = new lib.Histogram({
    name: 'compat_latency_seconds',
    help: 'Latency',
    labelNames: ['route'],
    buckets: lib.linearBuckets(0.1, 0.1, 3),
    registers,
  });
  latency.observe({ route: '/' }, 0.15);
  latency.labels('/x').observe(1);
  latency.zero({ route: '/z' });
  const size = new lib.Histogram({
    name: 'compat_size_bytes',
    help: 'Size',
    buckets: lib.exponentialBuckets(1, 10, 3),
    registers,
  });
  size.observe(50);
  size.observe(5000);

  const summary = new lib.Summary({
    name: 'compat_summary',
    help: 'S',
    percentiles: [0.5],
    registers,
  });
  summary.observe(3);
  summary.labels().observe(5);

  new lib.Counter({
    name: 'compat_collected_total',
    help: 'Collected',
    registers,
    collect() {
      this.inc(5);
    },
  });
  const reset = new lib.Counter({ name: 'compat_reset_total', help: 'Reset', registers });
  reset.inc(3);
  // registry.resetMetrics() is not used here: prom-client drops an unlabelled histogram's
  // series on reset, promfork keeps it at 0 (see docs/migrating-from-prom-client.md).
  reset.reset();
  reset.inc();

  registry.setDefaultLabels({ service: 'api' });
  assert.equal(registry.contentType, lib.Registry.PROMETHEUS_CONTENT_TYPE);
  assert.equal(registry.getSingleMetric('compat_queue'), queue);
  return registry.metrics();
}

function normalise(text: string): unknown {
  // prom-client separates families with blank lines, which the text format ignores.
  return parseExposition(text.replace(/\n\n+/g, '\n'), 'prometheus').map((family) => ({
    name: family.name,
    type: family.type,
    help: family.help,
    samples: family.samples
      .filter((s) => !('quantile' in s.labels))
      .map((s) => ({
        name: s.name,
        labels: Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b))),
        value: s.value,
      })),
  }));
}

test('a prom-client scenario gives the same exposition with @promfork/core', async () => {
  const expected = await scenario(promClient);
  const actual = await scenario(promfork as unknown as Lib);
  assert.deepEqual(normalise(actual), normalise(expected));
});
