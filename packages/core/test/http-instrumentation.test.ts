import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectDefaultMetrics } from '../src/default-metrics.js';
import {
  AlreadyRegisteredError,
  InvalidOptionError,
  LabelSetError,
  PromforkError,
} from '../src/errors.js';
import { HttpInstrumentation, type HttpSample, isSecure } from '../src/http/instrumentation.js';
import type { HttpMetricsOptions } from '../src/http/options.js';
import { Registry } from '../src/registry.js';

function setup(options: HttpMetricsOptions<string, string> = {}) {
  const registry = new Registry();
  const errors: Error[] = [];
  const inst = new HttpInstrumentation<string, string>(
    { registry, onError: (e) => errors.push(e), ...options },
    'test',
  );
  const text = async () => (await registry.scrape()).body;
  return { registry, errors, inst, text };
}

const ok: HttpSample = {
  method: 'GET',
  route: '/users/:id',
  statusCode: 200,
  durationSeconds: 0.02,
};

describe('http/instrumentation: record', () => {
  it('counts by method, route template and status, with the duration histogram', async () => {
    const { inst, text } = setup();
    inst.record(ok, 'req', 'res');
    inst.record(ok, 'req', 'res');
    inst.record({ ...ok, method: 'post', statusCode: 201 }, 'req', 'res');
    inst.record({ ...ok, route: undefined, statusCode: 404 }, 'req', 'res');
    inst.record({ ...ok, method: 'BREW', aborted: true }, 'req', 'res');
    const body = await text();
    assert.match(
      body,
      /^http_requests_total\{method="GET",route="\/users\/:id",status_code="200"\} 2$/m,
    );
    assert.match(
      body,
      /^http_requests_total\{method="POST",route="\/users\/:id",status_code="201"\} 1$/m,
    );
    assert.match(
      body,
      /^http_requests_total\{method="GET",route="#unmatched",status_code="404"\} 1$/m,
    );
    assert.match(
      body,
      /^http_requests_total\{method="#other",route="\/users\/:id",status_code="aborted"\} 1$/m,
    );
    assert.match(
      body,
      /^http_request_duration_seconds_bucket\{method="GET",route="\/users\/:id",status_code="200",le="0.025"\} 2$/m,
    );
    assert.match(
      body,
      /^http_request_duration_seconds_bucket\{.*status_code="200",le="0.01"\} 0$/m,
    );
    assert.match(body, /^promfork_instrumentation_errors_total 0$/m);
  });

  it('counts each label set of one route exactly when they alternate', async () => {
    // A route remembers its last label set; every switch of method, status or scheme must
    // reach the right series, and a set dropped by maxSeries must never be remembered.
    const { inst, text } = setup({ maxSeries: 2, conventions: 'opentelemetry' });
    const order: HttpSample[] = [
      ok,
      ok,
      { ...ok, statusCode: 500 },
      ok,
      { ...ok, statusCode: 404 }, // a third label set: dropped (maxSeries 2)
      { ...ok, statusCode: 404 },
      ok,
      { ...ok, secure: true }, // another scheme: a new label set, dropped as well
      ok,
      { ...ok, statusCode: 500 },
    ];
    for (const sample of order) inst.record(sample, 'req', 'res');
    const body = await text();
    const count = (status: string, scheme: string, error: string) =>
      `http_server_request_duration_seconds_count{http_request_method="GET",http_route="/users/:id",http_response_status_code="${status}",url_scheme="${scheme}",error_type="${error}"}`;
    assert.ok(body.includes(`${count('200', 'http', '')} 5\n`), body);
    assert.ok(body.includes(`${count('500', 'http', '500')} 2\n`), body);
    assert.ok(!body.includes('"404"'), body);
    assert.ok(!body.includes('url_scheme="https"'), body);
    // Every request of a dropped set is counted as dropped (the two 404s and the https one).
    assert.match(
      body,
      /^promfork_series_dropped_total\{metric="http_server_request_duration_seconds"\} 3$/m,
    );
  });

  it('keeps counting after the metrics are reset, a series removed or the registry cleared', async () => {
    // The instrumentation caches bound children per label set (and a route its last one); a
    // child handed out before reset/remove stops being exported, so the cache must not keep
    // writing to it (prom-client's middlewares count again from zero after resetMetrics).
    const { inst, registry, text } = setup();
    const line =
      /^http_requests_total\{method="GET",route="\/users\/:id",status_code="200"\} (\d+)$/m;
    const countLine =
      /^http_request_duration_seconds_count\{method="GET",route="\/users\/:id",status_code="200"\} (\d+)$/m;
    inst.record(ok, 'req', 'res');
    registry.resetMetrics();
    inst.record(ok, 'req', 'res');
    inst.record(ok, 'req', 'res');
    let body = await text();
    assert.equal(line.exec(body)?.[1], '2', body);
    assert.equal(countLine.exec(body)?.[1], '2', body);
    registry.getSingleMetric('http_requests_total')?.remove('GET', '/users/:id', '200');
    inst.record(ok, 'req', 'res');
    body = await text();
    assert.equal(line.exec(body)?.[1], '1', body);
    assert.equal(countLine.exec(body)?.[1], '3', body);
    // Removed from the registry (not exported), then registered again: counted from there on.
    const metrics = registry.getMetricsAsArray();
    registry.clear();
    inst.record(ok, 'req', 'res');
    for (const metric of metrics) registry.registerMetric(metric);
    inst.record(ok, 'req', 'res');
    body = await text();
    assert.equal(line.exec(body)?.[1], '1', body);
    assert.equal(countLine.exec(body)?.[1], '1', body);
  });

  it('keeps the duration as a native histogram too with nativeHistogram', async () => {
    const { inst, registry, text } = setup({ nativeHistogram: { bucketFactor: 2 } });
    inst.record(ok, 'req', 'res'); // 0.02 s: schema 0 bucket -5, (2^-6, 2^-5]
    const metric = registry.getSingleMetric('http_request_duration_seconds');
    assert.ok(metric !== undefined);
    // The default store is shared by the tests: this metric's own family.
    const family = metric.store.collect().find((f) => f.descriptor === metric.descriptor);
    assert.deepEqual(family?.series[0]?.native?.positive, [[-5, 1]]);
    // The classic buckets stay, so text scrapes are unchanged.
    assert.match(await text(), /^http_request_duration_seconds_bucket\{.*le="0.025"\} 1$/m);
  });

  it('never throws: a bad duration or a throwing normalizeRoute is reported and counted', async () => {
    const { inst, errors, text } = setup({
      normalizeRoute: (route) => {
        if (route === '/bad') throw new Error('cannot normalise');
        return route;
      },
    });
    inst.record({ ...ok, durationSeconds: Number.NaN }, 'req', 'res');
    inst.record({ ...ok, route: '/bad' }, 'req', 'res');
    inst.record({ ...ok, route: '/bad' }, 'req', 'res');
    assert.equal(errors.length, 2, 'normalizeRoute runs once per template');
    assert.ok(errors[0] instanceof PromforkError);
    assert.match(errors[1]?.message ?? '', /cannot normalise/);
    const body = await text();
    assert.match(body, /^promfork_instrumentation_errors_total 2$/m);
    assert.match(body, /^http_requests_total\{method="GET",route="\/bad",status_code="200"\} 2$/m);
  });

  it('keeps an odd status bounded and excluded routes out', async () => {
    const { inst, text } = setup({ excludeRoutes: ['#unmatched', /^\/internal/] });
    inst.record({ ...ok, statusCode: 7 }, 'req', 'res');
    inst.record({ ...ok, statusCode: 200.5 }, 'req', 'res');
    inst.record({ ...ok, route: undefined }, 'req', 'res');
    inst.record({ ...ok, route: '/internal/x' }, 'req', 'res');
    const body = await text();
    assert.match(
      body,
      /^http_requests_total\{method="GET",route="\/users\/:id",status_code="#invalid"\} 2$/m,
    );
    assert.doesNotMatch(body, /#unmatched|internal/);
  });

  it('tracks in-flight requests and sizes when enabled', async () => {
    const { inst, text } = setup({ inFlight: true, requestSize: true, responseSize: true });
    inst.start();
    inst.start();
    assert.match(await text(), /^http_requests_in_flight 2$/m);
    inst.record({ ...ok, requestLength: '150', responseLength: 20_000 }, 'req', 'res');
    inst.record({ ...ok, requestLength: 'abc', responseLength: undefined }, 'req', 'res');
    const body = await text();
    assert.match(body, /^http_requests_in_flight 0$/m);
    assert.match(
      body,
      /^http_request_size_bytes_count\{method="GET",route="\/users\/:id",status_code="200"\} 1$/m,
    );
    assert.match(body, /^http_request_size_bytes_bucket\{.*le="1000"\} 1$/m);
    assert.match(
      body,
      /^http_response_size_bytes_sum\{method="GET",route="\/users\/:id",status_code="200"\} 20000$/m,
    );
  });

  it('exemplarLabels: the latest exemplar per series and bucket; a bad hook is reported, the request still counted', async () => {
    let next: unknown = { trace_id: 'a1' };
    const { inst, registry, errors } = setup({
      exemplarLabels: (req, res) => {
        assert.deepEqual([req, res], ['req', 'res']);
        if (next instanceof Error) throw next;
        return next as Record<string, string> | undefined;
      },
    });
    const om = async () =>
      String((await registry.scrape('application/openmetrics-text; version=1.0.0')).body);
    inst.record(ok, 'req', 'res');
    next = { trace_id: 'b2' };
    inst.record({ ...ok, durationSeconds: 0.2 }, 'req', 'res');
    next = undefined;
    inst.record(ok, 'req', 'res');
    next = new Error('no trace');
    inst.record(ok, 'req', 'res');
    next = { trace_id: 'x'.repeat(200) };
    inst.record(ok, 'req', 'res');
    const body = await om();
    const series = 'method="GET",route="/users/:id",status_code="200"';
    assert.match(
      body,
      new RegExp(`^http_requests_total\\{${series}\\} 5 # \\{trace_id="b2"\\} 1 `, 'm'),
    );
    assert.match(
      body,
      new RegExp(
        `^http_request_duration_seconds_bucket\\{${series},le="0.025"\\} 4 # \\{trace_id="a1"\\} 0.02 `,
        'm',
      ),
    );
    assert.match(
      body,
      new RegExp(
        `^http_request_duration_seconds_bucket\\{${series},le="0.25"\\} 5 # \\{trace_id="b2"\\} 0.2 `,
        'm',
      ),
    );
    assert.deepEqual(
      errors.map((e) => (e as { code?: string }).code ?? e.message),
      ['no trace', 'PROMFORK_INVALID_EXEMPLAR', 'PROMFORK_INVALID_EXEMPLAR'],
    );
  });

  it('exemplarLabels: a label set dropped by maxSeries is counted as dropped once per request', async () => {
    const { inst, registry, errors } = setup({
      maxSeries: 1,
      exemplarLabels: () => ({ trace_id: 't' }),
    });
    for (let i = 0; i < 3; i++) {
      inst.record(ok, 'req', 'res');
      inst.record({ ...ok, statusCode: 500 }, 'req', 'res'); // dropped: the metrics are full
    }
    const body = String(
      (await registry.scrape('application/openmetrics-text; version=1.0.0')).body,
    );
    assert.match(body, /^http_requests_total\{[^}]*status_code="200"\} 3 # \{trace_id="t"\} 1 /m);
    assert.ok(!body.includes('"500"'), body);
    assert.match(body, /^promfork_series_dropped_total\{metric="http_requests_total"\} 3$/m, body);
    assert.match(
      body,
      /^promfork_series_dropped_total\{metric="http_request_duration_seconds"\} 3$/m,
      body,
    );
    assert.deepEqual(
      errors.map((e) => (e as { code?: string }).code),
      ['PROMFORK_SERIES_LIMIT', 'PROMFORK_SERIES_LIMIT'],
    );
  });

  it('exemplarLabels over metrics a first instrumentation made without exemplars is refused at construction', () => {
    const registry = new Registry();
    new HttpInstrumentation({ registry }, 'one');
    // Reusing its metrics would report an error at every request and never show an exemplar.
    assert.throws(
      () =>
        new HttpInstrumentation(
          { registry, exemplarLabels: () => ({ trace_id: 't' }), onError: () => {} },
          'two',
        ),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.code === 'PROMFORK_INVALID_OPTION' &&
        /exemplarLabels/.test(error.message),
    );
  });

  it('passes req and res to extraLabels and caches per value', async () => {
    const { inst, text } = setup({ extraLabels: { tenant: (req, res) => `${req}-${res}` } });
    inst.record(ok, 'a', 'b');
    inst.record(ok, 'a', 'b');
    inst.record(ok, 'c', 'd');
    const body = await text();
    assert.match(
      body,
      /^http_requests_total\{method="GET",route="\/users\/:id",status_code="200",tenant="a-b"\} 2$/m,
    );
    assert.match(body, /^http_requests_total\{.*tenant="c-d"\} 1$/m);
  });

  it('reuses the metrics of a registry for a second instrumentation', async () => {
    const registry = new Registry();
    const one = new HttpInstrumentation({ registry }, 'one');
    const two = new HttpInstrumentation({ registry }, 'two');
    one.record(ok, undefined, undefined);
    two.record(ok, undefined, undefined);
    assert.match((await registry.scrape()).body, /status_code="200"\} 2$/m);
  });

  it('skip: a throwing hook means "record" and is reported', () => {
    const { inst, errors } = setup({
      skip: (req) => {
        if (req === 'boom') throw new Error('skip failed');
        return req === 'yes';
      },
    });
    assert.equal(inst.skip('yes'), true);
    assert.equal(inst.skip('no'), false);
    assert.equal(inst.skip('boom'), false);
    assert.equal(errors.length, 1);
  });

  it('isMetricsPath compares the path exactly and ignores the query', () => {
    const { inst } = setup();
    assert.equal(inst.isMetricsPath('/metrics'), true);
    assert.equal(inst.isMetricsPath('/metrics?name=x'), true);
    assert.equal(inst.isMetricsPath('/metricsx'), false);
    assert.equal(inst.isMetricsPath('/metrics/'), false);
    assert.equal(inst.isMetricsPath(undefined), false);
    assert.equal(setup({ metricsPath: false }).inst.isMetricsPath('/metrics'), false);
  });
});

describe('http/options: validation', () => {
  const registry = new Registry();
  const make = (options: unknown) =>
    new HttpInstrumentation(options as HttpMetricsOptions, 'metricsMiddleware');

  it('rejects unknown keys', () => {
    assert.throws(
      () => make({ registry, metricsPaht: '/m' }),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.code === 'PROMFORK_UNKNOWN_OPTION' &&
        e.message.includes('"metricsPaht"'),
    );
  });

  it('rejects wrong types, naming the option and the value', () => {
    const bad: Record<string, unknown> = {
      metricsPath: 'metrics',
      buckets: ['1'],
      groupStatusCodes: 'yes',
      excludeRoutes: '/health',
      skip: true,
      extraLabels: [],
      normalizeRoute: 'x',
      inFlight: 1,
      requestSize: null,
      responseSize: 'no',
      sizeBuckets: 5,
      nativeHistogram: 'yes',
      authorize: {},
      onError: 'stderr',
      registry: {},
    };
    for (const [key, value] of Object.entries(bad)) {
      assert.throws(
        () => make({ [key]: value }),
        (e: unknown) =>
          e instanceof InvalidOptionError &&
          e.code === 'PROMFORK_INVALID_OPTION' &&
          e.message.includes(`"${key}"`),
        key,
      );
    }
  });

  it('rejects extra labels that are invalid or redefine the own labels', () => {
    assert.throws(() => make({ registry, extraLabels: { route: () => 'x' } }), InvalidOptionError);
    assert.throws(() => make({ registry, extraLabels: { 'bad-name': () => 'x' } }), LabelSetError);
    assert.throws(() => make({ registry, extraLabels: { ok: 'x' } }), InvalidOptionError);
  });

  it('accepts zero values and undefined as absent', () => {
    make({ registry: new Registry(), metricsPath: false, excludeRoutes: [], extraLabels: {} });
    make({ registry: new Registry(), skip: undefined, buckets: undefined });
  });
});

describe('http/instrumentation: opentelemetry preset label values', () => {
  it('labels the scheme, server errors and aborted requests as the convention says', async () => {
    const { inst, text } = setup({ conventions: 'opentelemetry', defaultMetrics: false });
    assert.equal(inst.measuresScheme, true);
    inst.record({ ...ok, secure: true }, 'req', 'res');
    inst.record({ ...ok, statusCode: 503 }, 'req', 'res');
    inst.record({ ...ok, aborted: true }, 'req', 'res');
    inst.record({ ...ok, method: 'PROPFIND' }, 'req', 'res');
    const body = await text();
    const head =
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/users/:id"';
    for (const line of [
      `${head},http_response_status_code="200",url_scheme="https",error_type=""} 1`,
      `${head},http_response_status_code="503",url_scheme="http",error_type="503"} 1`,
      `${head},http_response_status_code="",url_scheme="http",error_type="aborted"} 1`,
      'http_server_request_duration_seconds_count{http_request_method="_OTHER",http_route="/users/:id",http_response_status_code="200",url_scheme="http",error_type=""} 1',
    ]) {
      assert.ok(body.split('\n').includes(line), `${line}\n${body}`);
    }
  });

  it('names the size histograms and the in-flight gauge after the convention', async () => {
    const { inst, text } = setup({
      conventions: 'opentelemetry',
      defaultMetrics: false,
      requestSize: true,
      responseSize: true,
    });
    const request = { method: 'GET', socket: {} };
    inst.start(request);
    inst.record({ ...ok, requestLength: '10', responseLength: 2000, request }, 'req', 'res');
    const body = await text();
    const labels =
      '{http_request_method="GET",http_route="/users/:id",http_response_status_code="200",url_scheme="http",error_type=""}';
    assert.ok(body.includes(`http_server_request_body_size_bytes_sum${labels} 10\n`), body);
    assert.ok(body.includes(`http_server_response_body_size_bytes_sum${labels} 2000\n`), body);
    assert.match(
      body,
      /^http_server_active_requests\{http_request_method="GET",url_scheme="http"\} 0$/m,
    );
    assert.doesNotMatch(body, /^http_requests_total/m);
  });

  it('labels requests in flight by method and scheme; each leaves the series it entered', async () => {
    const { inst, text } = setup({ conventions: 'opentelemetry', defaultMetrics: false });
    const active = async () =>
      (await text())
        .split('\n')
        .filter((line) => line.startsWith('http_server_active_requests{'))
        .sort();
    const get = { method: 'GET', socket: {} };
    const tls = { method: 'post', socket: { encrypted: true } };
    const odd = { method: 'PROPFIND', socket: {} };
    for (const request of [get, tls, odd]) inst.start(request);
    assert.deepEqual(await active(), [
      'http_server_active_requests{http_request_method="GET",url_scheme="http"} 1',
      'http_server_active_requests{http_request_method="POST",url_scheme="https"} 1',
      'http_server_active_requests{http_request_method="_OTHER",url_scheme="http"} 1',
    ]);
    // A middleware rewrote the method (method-override) after the request started.
    get.method = 'PUT';
    inst.record({ ...ok, method: 'PUT', request: get }, 'req', 'res');
    inst.record({ ...ok, method: 'POST', secure: true, request: tls }, 'req', 'res');
    assert.deepEqual(await active(), [
      'http_server_active_requests{http_request_method="GET",url_scheme="http"} 0',
      'http_server_active_requests{http_request_method="POST",url_scheme="https"} 0',
      'http_server_active_requests{http_request_method="_OTHER",url_scheme="http"} 1',
    ]);
    inst.record({ ...ok, method: 'PROPFIND', request: odd }, 'req', 'res');
    // Recorded twice by mistake: the second record does not count the request out again.
    inst.record({ ...ok, method: 'PROPFIND', request: odd }, 'req', 'res');
    assert.ok((await active()).every((line) => line.endsWith(' 0')));
  });

  it('reads the scheme from the socket: TLS sockets are encrypted', () => {
    assert.equal(isSecure({ socket: { encrypted: true } }), true);
    assert.equal(isSecure({ socket: {} }), false);
    assert.equal(isSecure({ socket: null }), false);
    assert.equal(isSecure({}), false);
  });

  it('does not ask adapters for the scheme under the other presets', () => {
    assert.equal(setup({ defaultMetrics: false }).inst.measuresScheme, false);
    assert.equal(
      setup({ conventions: 'express-prom-bundle', defaultMetrics: false }).inst.measuresScheme,
      false,
    );
  });
});

describe('http/instrumentation: default metrics', () => {
  it('yields them to a later explicit collectDefaultMetrics call on the same registry', async () => {
    // prom-client habit: install the middleware, then call collectDefaultMetrics() with one's
    // own options. The adapter's set is replaced instead of making that call throw.
    const { registry, text } = setup();
    assert.match(await text(), /^process_cpu_user_seconds_total \S+$/m);
    const handle = collectDefaultMetrics({ register: registry, labels: { service: 'api' } });
    try {
      const body = await text();
      assert.match(body, /^process_cpu_user_seconds_total\{service="api"\} \S+$/m);
      assert.doesNotMatch(body, /^process_cpu_user_seconds_total \S+$/m);
      // An explicit set is the user's: a second explicit call still fails as in prom-client.
      assert.throws(() => collectDefaultMetrics({ register: registry }), AlreadyRegisteredError);
    } finally {
      handle.stop();
    }
  });
});
