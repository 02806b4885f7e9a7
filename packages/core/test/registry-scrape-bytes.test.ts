/**
 * `registry.scrapeBytes(accept)`, what the HTTP routes send: the same exposition as
 * `scrape(accept)` in every format, as bytes (UTF-8 for the text formats, non-ASCII label
 * values included).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Counter,
  Histogram,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
} from '../src/index.js';

const PROTOBUF =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

function populated(): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name: 'bytes_requests_total',
    help: 'Requests',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'bytes_duration_seconds',
    help: 'Durations',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  for (const route of ['/', '/café', '/日本']) {
    counter.inc({ route }, 2);
    histogram.observe({ route }, 0.3);
  }
  return registry;
}

describe('registry.scrapeBytes', () => {
  for (const accept of [undefined, PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE]) {
    test(`gives the text of scrape() as UTF-8 bytes (Accept: ${accept ?? 'none'})`, async () => {
      const registry = populated();
      const text = await registry.scrape(accept);
      const bytes = await registry.scrapeBytes(accept);
      assert.equal(bytes.contentType, text.contentType);
      assert.ok(bytes.body instanceof Uint8Array);
      assert.equal(Buffer.from(bytes.body).toString('utf8'), text.body);
      assert.match(String(text.body), /route="\/café"/);
    });
  }

  test('gives the protobuf bytes of scrape()', async () => {
    const registry = populated();
    const expected = await registry.scrape(PROTOBUF);
    const bytes = await registry.scrapeBytes(PROTOBUF);
    assert.equal(bytes.contentType, expected.contentType);
    assert.deepEqual(Buffer.from(bytes.body), Buffer.from(expected.body as Uint8Array));
  });

  test('keeps the bytes it handed out, and each text whole, while renders reuse memory', async () => {
    // metrics() writes into the memory of the render before it (render.ts): a shorter or
    // non-ASCII text after a longer one must not carry any of it, and the bytes
    // scrapeBytes() handed out must not be written over.
    const make = (routes: readonly string[]): Registry => {
      const registry = new Registry();
      const counter = new Counter({
        name: 'reuse_total',
        help: 'Reuse',
        labelNames: ['route'] as const,
        registers: [registry],
      });
      for (const route of routes) counter.inc({ route });
      return registry;
    };
    const long = Array.from({ length: 2000 }, (_, i) => `/long/${i}`);
    const registry = make(long);
    const first = await registry.metrics();
    assert.equal(first, await make(long).metrics());
    const bytes = await registry.scrapeBytes();
    const sent = Buffer.from(bytes.body).toString('utf8');
    assert.equal(sent, first);
    const counter = registry.getSingleMetric('reuse_total') as Counter<'route'>;
    counter.reset();
    counter.inc({ route: '/café' }, 3);
    assert.equal(await registry.metrics(), await make(['/café', '/café', '/café']).metrics());
    counter.inc({ route: '/x' });
    assert.equal(await registry.metrics(), await make(['/café', '/café', '/café', '/x']).metrics());
    assert.equal(Buffer.from(bytes.body).toString('utf8'), sent);
  });
});
