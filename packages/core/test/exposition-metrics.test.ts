/**
 * Metrics and registry through their public output: the whole exposition text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry, Summary } from '../src/index.js';
import { checkWithPromtool } from './helpers/promtool.js';
import { isolated, textBody } from './helpers.js';

function populate(iso: ReturnType<typeof isolated>['iso']): void {
  const c = new Counter({
    name: 'http_requests_total',
    help: 'Requests.\nSecond line',
    labelNames: ['method', 'code'],
    enableExemplars: true,
    ...iso,
  });
  c.inc({ method: 'GET', code: 200 }, 3);
  c.inc({ labels: { method: 'POST', code: 500 }, exemplarLabels: { traceId: 'abc' } });
  const h = new Histogram({ name: 'latency_seconds', help: 'Latency', buckets: [0.1, 1], ...iso });
  h.observe(0.05);
  h.observe(2);
  const s = new Summary({ name: 'size_bytes', help: 'Size', percentiles: [0.5], ...iso });
  s.observe(8);
  const g = new Gauge({ name: 'temperature', help: 'T', labelNames: ['room'], ...iso });
  g.set({ room: 'a"b\\c\n' }, -1.5);
}

test('registry.metrics() renders every family in registration order (Prometheus text)', async (t) => {
  const { registry, iso } = isolated();
  populate(iso);
  registry.setDefaultLabels({ app: 'x' });
  const text = await registry.metrics();
  const median = /size_bytes\{app="x",quantile="0.5"\} (\S+)/.exec(text)?.[1];
  assert.ok(Math.abs(Number(median) - 8) <= 0.08, `median ${median}`);
  assert.equal(
    text,
    `# HELP http_requests_total Requests.\\nSecond line
# TYPE http_requests_total counter
http_requests_total{method="GET",code="200",app="x"} 3
http_requests_total{method="POST",code="500",app="x"} 1

# HELP latency_seconds Latency
# TYPE latency_seconds histogram
latency_seconds_bucket{app="x",le="0.1"} 1
latency_seconds_bucket{app="x",le="1"} 1
latency_seconds_bucket{app="x",le="+Inf"} 2
latency_seconds_sum{app="x"} 2.05
latency_seconds_count{app="x"} 2

# HELP size_bytes Size
# TYPE size_bytes summary
size_bytes{app="x",quantile="0.5"} ${median}
size_bytes_sum{app="x"} 8
size_bytes_count{app="x"} 1

# HELP temperature T
# TYPE temperature gauge
temperature{room="a\\"b\\\\c\\n",app="x"} -1.5
`.replace(/\n\n/g, '\n'),
  );
  assert.equal(registry.contentType, Registry.PROMETHEUS_CONTENT_TYPE);
  checkWithPromtool(t, text, 'prometheus');
});

test('scrape(accept) negotiates OpenMetrics, with exemplars', async (t) => {
  const { registry, iso } = isolated();
  populate(iso);
  const plain = await registry.scrape(undefined);
  assert.equal(plain.contentType, Registry.PROMETHEUS_CONTENT_TYPE);
  assert.equal(plain.body, await registry.metrics());

  const scraped = await registry.scrape('application/openmetrics-text; version=1.0.0');
  assert.equal(scraped.contentType, Registry.OPENMETRICS_CONTENT_TYPE);
  const om = { body: textBody(scraped) };
  const lines = om.body.split('\n');
  assert.equal(lines[0], '# TYPE http_requests counter');
  assert.match(
    om.body,
    /\nhttp_requests_total\{method="POST",code="500"\} 1 # \{traceId="abc"\} 1 \d+(\.\d+)?\n/,
  );
  assert.ok(om.body.endsWith('# EOF\n'));
  checkWithPromtool(t, om.body, 'openmetrics');

  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  assert.ok((await registry.metrics()).endsWith('# EOF\n'));
});

test('getSingleMetricAsString renders one metric', async () => {
  const { registry, iso } = isolated();
  const c = new Counter({ name: 'one_total', help: 'One', ...iso });
  new Counter({ name: 'other_total', help: 'Other', ...iso });
  c.inc(2);
  assert.equal(
    await registry.getSingleMetricAsString('one_total'),
    '# HELP one_total One\n# TYPE one_total counter\none_total 2\n',
  );
  assert.equal(await registry.getSingleMetricAsString('missing'), '');
});
