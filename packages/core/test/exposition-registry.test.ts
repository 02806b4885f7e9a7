/**
 * End to end through the public API: a registry holding every metric type (labels needing
 * escapes, exemplars, a summary, the default process metrics) renders both formats through
 * `scrape(accept)`; each exposition parses back strictly and passes promtool.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
  Summary,
} from '../src/index.js';
import { parseExposition } from './helpers/parse-exposition.js';
import { checkWithPromtool } from './helpers/promtool.js';
import { textBody } from './helpers.js';

async function populatedRegistry(): Promise<Registry> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'app_requests_total',
    help: 'Requests served, by "route"\\path',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
    enableExemplars: true,
  });
  requests.inc({
    labels: { route: '/a"b\\c\nd', code: '200' },
    value: 2,
    exemplarLabels: { trace_id: 't1' },
  });
  requests.inc({ route: '/plain', code: '500' });
  const inFlight = new Gauge({
    name: 'app_in_flight',
    help: 'Requests in flight',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  inFlight.set({ route: 'ü€😀' }, -0.5);
  const duration = new Histogram({
    name: 'app_request_duration_seconds',
    help: 'Request duration',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.5, 1, 10, 1e6],
    registers: [registry],
    enableExemplars: true,
  });
  duration.observe({ labels: { route: '/x' }, value: 0.3, exemplarLabels: { trace_id: 't2' } });
  duration.observe({ route: '/x' }, 20);
  const sizes = new Summary({
    name: 'app_response_bytes',
    help: 'Response size',
    percentiles: [0.5, 0.9, 0.99, 1],
    registers: [registry],
  });
  for (let i = 1; i <= 100; i++) sizes.observe(i);
  collectDefaultMetrics({ register: registry });
  return registry;
}

describe('registry expositions', () => {
  test('Prometheus text: parses back and passes promtool', async (t) => {
    const registry = await populatedRegistry();
    const scraped = await registry.scrape('text/plain');
    const { contentType } = scraped;
    const body = textBody(scraped);
    assert.equal(contentType, PROMETHEUS_CONTENT_TYPE);
    const families = parseExposition(body, 'prometheus');
    const requests = families.find((f) => f.name === 'app_requests_total');
    assert.equal(requests?.help, 'Requests served, by "route"\\path');
    assert.deepEqual(requests?.samples[0]?.labels, { route: '/a"b\\c\nd', code: '200' });
    assert.equal(requests?.samples[0]?.value, 2);
    // prom-client's default metric names include gauges ending in _total
    // (nodejs_active_handles_total, ...); kept for dashboard compatibility, so promtool lints them.
    checkWithPromtool(t, body, 'prometheus', {
      allowLint: ['non-counter metrics should not have "_total" suffix'],
    });
  });

  test('OpenMetrics: parses back with exemplars and passes promtool', async (t) => {
    const registry = await populatedRegistry();
    const scraped = await registry.scrape('application/openmetrics-text');
    const { contentType } = scraped;
    const body = textBody(scraped);
    assert.equal(contentType, OPENMETRICS_CONTENT_TYPE);
    const families = parseExposition(body, 'openmetrics');
    const requests = families.find((f) => f.name === 'app_requests');
    assert.equal(requests?.type, 'counter');
    assert.equal(requests?.samples[0]?.name, 'app_requests_total');
    assert.deepEqual(requests?.samples[0]?.exemplar?.labels, { trace_id: 't1' });
    const buckets = families.find((f) => f.name === 'app_request_duration_seconds')?.samples;
    assert.deepEqual(
      buckets?.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le),
      ['0.001', '0.5', '1.0', '10.0', '1e+06', '+Inf'],
    );
    assert.ok(buckets?.some((s) => s.exemplar?.labels.trace_id === 't2'));
    checkWithPromtool(t, body, 'openmetrics');
  });
});
