/**
 * The HTTP adapter conformance suite: every behaviour the three adapters (Express, Koa,
 * Fastify) share, as node:test tests, asserted once here and run for every framework version
 * by a small per-framework driver (`express-adapter.test.ts`, `koa-adapter.test.ts`,
 * `fastify-adapter.test.ts` in this folder). What only one framework does (Express's layer
 * templates, Fastify's `config.metrics`...) stays in that adapter's own package tests.
 *
 * It lives in the root test/ project because that is the one project that references all
 * three adapter packages; the adapter packages cannot import it (test/ depends on them).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  type HttpMetricsOptions,
  InvalidOptionError,
  type MetricsRouteOptions,
  PROTOBUF_CONTENT_TYPE,
  Registry,
  setServing,
  startMetricsServer,
} from '@promfork/core';
import request from 'supertest';
// Core's promtool check, loaded from core's compiled tests (this file runs from test/dist).
import type * as Promtool from '../packages/core/dist/test/helpers/promtool.js';

const { checkWithPromtool }: typeof Promtool = await import(
  new URL('../../packages/core/dist/test/helpers/promtool.js', import.meta.url).href
);

/** A server of a driver, listening on a loopback port. */
export interface RunningApp {
  readonly server: Server;
  /** Stops the server and drops its open connections. */
  close(): Promise<void>;
}

/** Calls a driver's standard app makes into the suite. */
export interface AppHooks {
  /**
   * Runs for every request ahead of the adapter, with the request headers and the response
   * object the adapter reads the response Content-Length from.
   */
  readonly before?: (
    headers: Record<string, unknown>,
    res: { getHeader(name: string): unknown },
  ) => void;
  /** Called when a request reaches GET /slow/:id (which never answers). */
  readonly entered?: () => void;
}

/**
 * One framework version with its adapter, seen through what the suite needs. `Req` and `Res`
 * are the objects the adapter hands to the option callbacks.
 */
export interface AdapterDriver<Req, Res> {
  /** Framework and major version, e.g. `Express 5`. */
  readonly name: string;
  /** The request headers of the object the option callbacks receive. */
  headers(req: Req): IncomingHttpHeaders;
  /**
   * Starts the standard app with the adapter installed first (middleware or plugin) with
   * `options`. Its routes (nested in a `/users` router or plugin where the framework nests):
   * GET /users, /users/:userId, /users/:userId/posts/:postId (200); GET /users/:userId/fail
   * (throws; the framework's error handling answers 500); GET /health (200);
   * GET /items/:id (201); POST /echo (200 `echo`); GET /slow/:id (calls `hooks.entered`,
   * never answers). Rejects (or throws) InvalidOptionError for bad options.
   */
  start(options: HttpMetricsOptions<Req, Res>, hooks?: AppHooks): Promise<RunningApp>;
  /** Starts a second, uninstrumented app serving `metricsHandler(options)` on GET /prom. */
  startAdmin(options: MetricsRouteOptions<Req>): Promise<RunningApp>;
  /**
   * Where the framework itself answers before the adapter sees the request: Fastify answers
   * a path with broken percent-encoding (400, not counted) and methods other than GET/HEAD on
   * the metrics route (404: the adapter registers a GET route).
   */
  readonly answersItself?: { readonly brokenEscape: 400; readonly postMetrics: 404 };
}

/** Serves a request listener (an Express app, a Koa `app.callback()`) on a loopback port. */
export async function serve(listener: RequestListener): Promise<RunningApp> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The value of `http_requests_total` for one label set in an exposition, or undefined. */
export function count(
  text: string,
  method: string,
  route: string,
  status: string,
): number | undefined {
  const escaped = route.replaceAll('\\', '\\\\');
  const head = `http_requests_total{method="${method}",route="${escaped}",status_code="${status}"} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

/**
 * Makes every read of the request's Content-Length (through `headers`) and of the response's
 * (through `getHeader`) add one to `reads.n`.
 */
function spyContentLength(
  headers: Record<string, unknown>,
  res: { getHeader(name: string): unknown },
  reads: { n: number },
): void {
  const value = headers['content-length'];
  Object.defineProperty(headers, 'content-length', {
    configurable: true,
    enumerable: value !== undefined,
    get: () => {
      reads.n++;
      return value;
    },
  });
  const getHeader = res.getHeader.bind(res);
  res.getHeader = (name: string) => {
    if (name.toLowerCase() === 'content-length') reads.n++;
    return getHeader(name);
  };
}

/** Paths no route matches, several of them hostile; every framework answers them 404. */
const HOSTILE_PATHS = [
  '/nope',
  '//%5Cfoo.bar:80@example.com',
  `/${'a'.repeat(10 * 1024)}`,
  '/..%2f..%2fetc/passwd',
  '/%00',
];

/** Sends one bodiless request with any method; resolves when the response has ended. */
async function send(app: RunningApp, method: string, path: string): Promise<void> {
  const { port } = app.server.address() as AddressInfo;
  const req = httpRequest({ host: '127.0.0.1', port, path, method });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
}

/** Runs `body` against the standard app started with `options`, then closes it. */
async function withApp<Req, Res>(
  driver: AdapterDriver<Req, Res>,
  options: HttpMetricsOptions<Req, Res>,
  body: (client: ReturnType<typeof request>, app: RunningApp) => Promise<void>,
  hooks?: AppHooks,
): Promise<void> {
  const app = await driver.start(options, hooks);
  try {
    await body(request(app.server), app);
  } finally {
    await app.close();
  }
}

/** The metrics text the app serves on GET /metrics. */
async function scrape(client: ReturnType<typeof request>): Promise<string> {
  return (await client.get('/metrics').expect(200)).text;
}

/** The lines of `text` that start with `head` (a sample name and its labels). */
function lines(text: string, head: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(head));
}

/** True for an InvalidOptionError with `code` whose message contains `part`. */
function optionError(code: string, part: string): (e: unknown) => boolean {
  return (e) =>
    e instanceof InvalidOptionError && e.code === code && (e as Error).message.includes(part);
}

/** What Prometheus asks for with native histograms on: protobuf first. */
const PROTOBUF_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,' +
  'text/plain;version=0.0.4;q=0.5';

/** Reads a response body as the bytes received (after any gzip the client undid). */
function binary(
  response: request.Response,
  done: (error: Error | null, body: Buffer) => void,
): void {
  // In Node, superagent hands a custom parser the response stream itself.
  const res = response as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
  res.on('error', (error: Error) => done(error, Buffer.alloc(0)));
}

/** Registers the conformance tests for one framework version. */
export function runAdapterConformance<Req, Res>(driver: AdapterDriver<Req, Res>): void {
  const header = (req: Req, name: string): string | undefined => {
    const value = driver.headers(req)[name];
    return typeof value === 'string' ? value : undefined;
  };

  describe(`adapter conformance: ${driver.name}`, () => {
    it('reads Content-Length headers only when a size histogram is on', async () => {
      const readsWith = async (options: HttpMetricsOptions<Req, Res>) => {
        const reads = { n: 0 };
        const before: AppHooks['before'] = (headers, res) => spyContentLength(headers, res, reads);
        const registry = new Registry();
        await withApp(
          driver,
          { registry, ...options },
          async (client) => {
            await client.post('/echo').set('content-type', 'text/plain').send('hello');
            // The request is recorded by the time its scrape is answered.
            await scrape(client);
          },
          { before },
        );
        return reads.n;
      };
      // The framework's own reads, with the request not instrumented at all.
      const baseline = await readsWith({ skip: () => true });
      assert.equal(await readsWith({}), baseline);
      assert.equal(await readsWith({ requestSize: true }), baseline + 1);
      assert.equal(await readsWith({ requestSize: true, responseSize: true }), baseline + 2);
    });

    it('labels nested routes with the full template, never the concrete path', async () => {
      await withApp(driver, { registry: new Registry() }, async (client) => {
        await client.get('/users/7/posts/1').expect(200, 'post');
        await client.get('/users/8/posts/2').expect(200, 'post');
        await client.get('/users/8').expect(200, 'user');
        await client.get('/users').expect(200, 'users');
        await client.get('/items/3').expect(201);
        await client.get('/users/9/fail').expect(500);
        await client.get('/users/10/fail').expect(500);
        const text = await scrape(client);
        assert.equal(count(text, 'GET', '/users/:userId/posts/:postId', '200'), 2);
        assert.equal(count(text, 'GET', '/users/:userId', '200'), 1);
        assert.equal(count(text, 'GET', '/users', '200'), 1);
        assert.equal(count(text, 'GET', '/items/:id', '201'), 1);
        // The template survives an error handled outside the route.
        assert.equal(count(text, 'GET', '/users/:userId/fail', '500'), 2);
        assert.doesNotMatch(text, /route="\/users\/[0-9]/);
        assert.doesNotMatch(text, /route="\/metrics/, 'the metrics route is not recorded');
      });
    });

    it('counts unmatched and hostile requests under #unmatched and keeps serving', async () => {
      const errors: Error[] = [];
      const options = { registry: new Registry(), onError: (e: Error) => errors.push(e) };
      await withApp(driver, options, async (client, app) => {
        for (const path of HOSTILE_PATHS) await client.get(path).expect(404);
        // A broken escape: unmatched like any other path, unless the framework answers it.
        const rejected = driver.answersItself?.brokenEscape === 400;
        await client.get('/%E0%A4%A').expect(rejected ? 400 : 404);
        // Odd methods: answered by the framework or unmatched; they never break anything.
        for (const method of ['PROPFIND', 'TRACE']) await send(app, method, '/users/1');
        await client.get('/health').expect(200);
        const text = await scrape(client);
        const unmatched = HOSTILE_PATHS.length + (rejected ? 0 : 1);
        assert.equal(count(text, 'GET', '#unmatched', '404'), unmatched);
        assert.equal(count(text, 'GET', '/health', '200'), 1);
        assert.deepEqual(errors, []);
        assert.match(text, /^promfork_instrumentation_errors_total 0$/m);
      });
    });

    it('serves the metrics with negotiation, gzip, HEAD, 405 and authorize', async () => {
      const options: HttpMetricsOptions<Req, Res> = {
        registry: new Registry(),
        authorize: (req) => header(req, 'authorization') === 'Bearer ok',
      };
      await withApp(driver, options, async (client) => {
        await client.get('/metrics').expect(403);
        await client.get('/metrics').set('authorization', 'Bearer no').expect(403);
        const auth = { authorization: 'Bearer ok' };
        const text = await client.get('/metrics?x=1').set(auth).expect(200);
        assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
        const om = await client
          .get('/metrics')
          .set({ ...auth, accept: 'application/openmetrics-text; version=1.0.0' })
          .expect(200);
        assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
        assert.match(om.text, /# EOF\n$/);
        const zipped = await client
          .get('/metrics')
          .set({ ...auth, 'accept-encoding': 'gzip' })
          .expect(200);
        // The client inflates the body itself; the header says it came compressed.
        assert.equal(zipped.headers['content-encoding'], 'gzip');
        assert.match(zipped.text, /# TYPE http_requests_total counter/);
        const head = await client.head('/metrics').set(auth).expect(200);
        assert.equal(head.text, undefined);
        if (driver.answersItself?.postMetrics === 404) {
          await client.post('/metrics').set(auth).expect(404);
        } else {
          await client.post('/metrics').set(auth).expect(405).expect('allow', 'GET, HEAD');
        }
      });
    });

    it('passes the protobuf exposition through byte for byte, plain and gzipped', async () => {
      const registry = new Registry();
      // No default metrics: they are sampled at every scrape, so two scrapes would differ.
      await withApp(driver, { registry, defaultMetrics: false }, async (client) => {
        await client.get('/users/8').expect(200, 'user');
        // The metrics route is not recorded, so the registry answers the same bytes again.
        const expected = (await registry.scrape(PROTOBUF_ACCEPT)).body;
        assert.ok(typeof expected !== 'string' && expected.length > 0);
        for (const encoding of ['identity', 'gzip']) {
          const res = await client
            .get('/metrics')
            .set({ accept: PROTOBUF_ACCEPT, 'accept-encoding': encoding })
            .buffer(true)
            .parse(binary)
            .expect(200);
          assert.equal(res.headers['content-type'], PROTOBUF_CONTENT_TYPE);
          assert.equal(res.headers['content-encoding'], encoding === 'gzip' ? 'gzip' : undefined);
          assert.ok(Buffer.isBuffer(res.body));
          assert.equal(Buffer.compare(res.body, Buffer.from(expected)), 0, encoding);
        }
      });
    });

    it('applies skip, excludeRoutes, extraLabels, status grouping, normalizeRoute and metricsPath', async () => {
      const errors: Error[] = [];
      const options: HttpMetricsOptions<Req, Res> = {
        registry: new Registry(),
        metricsPath: '/internal/metrics',
        skip: (req) => header(req, 'x-skip') === '1',
        excludeRoutes: ['/health', /^\/users\/:userId\/posts/],
        groupStatusCodes: true,
        // Two routes merged into one label: 200 and 201 then share the `2xx` series.
        normalizeRoute: (route) => route.replace(/^\/(items\/:id|users\/:userId)$/, '/entity/:id'),
        extraLabels: {
          tenant: (req) => {
            const tenant = header(req, 'x-tenant');
            if (tenant === 'bad') throw new Error('no tenant');
            return tenant ?? 'none';
          },
        },
        onError: (e) => errors.push(e),
      };
      await withApp(driver, options, async (client) => {
        await client.get('/health').expect(200);
        await client.get('/users/1/posts/2').expect(200);
        await client.get('/items/1').set('x-tenant', 'acme').expect(201);
        await client.get('/users/2').set('x-tenant', 'acme').expect(200);
        await client.get('/items/3').set('x-skip', '1').expect(201);
        await client.get('/items/4').set('x-tenant', 'bad').expect(201);
        await client.get('/metrics').expect(404);
        const text = (await client.get('/internal/metrics').expect(200)).text;
        const head = 'http_requests_total{method="GET",route="/entity/:id",status_code="2xx"';
        assert.ok(text.includes(`${head},tenant="acme"} 2\n`), text);
        assert.ok(text.includes(`${head},tenant=""} 1\n`), text);
        assert.doesNotMatch(text, /route="\/(health|users\/:userId\/posts|items)/);
        assert.equal(errors.length, 1);
        assert.match(errors[0]?.message ?? '', /no tenant/);
        assert.match(text, /^promfork_instrumentation_errors_total 1$/m);
      });
    });

    it('metricsHandler serves the metrics on another app; metricsPath false serves none', async () => {
      const registry = new Registry();
      const app = await driver.start({ registry, metricsPath: false });
      const admin = await driver.startAdmin({ registry });
      try {
        await request(app.server).get('/health').expect(200);
        await request(app.server).get('/metrics').expect(404);
        const text = (await request(admin.server).get('/prom').expect(200)).text;
        assert.equal(count(text, 'GET', '/health', '200'), 1);
        assert.equal(count(text, 'GET', '#unmatched', '404'), 1);
      } finally {
        await app.close();
        await admin.close();
      }
    });

    it('records a request the client aborted once, as status_code="aborted"', async () => {
      const registry = new Registry();
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const app = await driver.start({ registry }, { entered: () => entered() });
      try {
        const { port } = app.server.address() as AddressInfo;
        const req = httpRequest({ host: '127.0.0.1', port, path: '/slow/1' });
        req.on('error', () => {});
        req.end();
        await inHandler;
        req.destroy();
        // The server learns of the close asynchronously: poll the exposition briefly.
        const aborted = `http_requests_total{method="GET",route="/slow/:id",status_code="aborted"} `;
        let line: string | undefined;
        for (let i = 0; i < 200 && line === undefined; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          line = (await registry.scrape()).body.split('\n').find((l) => l.startsWith(aborted));
        }
        assert.equal(line, `${aborted}1`);
      } finally {
        await app.close();
      }
    });

    it('rejects unknown option keys and wrong types at creation', async () => {
      const unknown = (e: unknown) =>
        e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION';
      const invalid = (e: unknown) =>
        e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION';
      await assert.rejects(async () => driver.start({ metricPath: '/m' } as never), unknown);
      await assert.rejects(
        async () => driver.start({ metricsPath: 'metrics' }),
        (e: unknown) => invalid(e) && (e as Error).message.includes('"metricsPath" "metrics"'),
      );
      await assert.rejects(async () => driver.start({ inFlight: 'yes' as never }), invalid);
      await assert.rejects(async () => driver.start({ groupStatusCodes: 1 as never }), invalid);
      await assert.rejects(async () => driver.startAdmin({ registry: {} as Registry }), invalid);
    });

    it('registers the default metrics once per registry, off with false, with their options', async () => {
      const registry = new Registry();
      // Two apps on one registry: the second finds the default metrics and adds none.
      const first = await driver.start({ registry });
      const second = await driver.start({ registry });
      try {
        const text = await scrape(request(second.server));
        assert.equal(lines(text, '# TYPE process_cpu_user_seconds_total counter').length, 1);
        assert.equal(lines(text, '# TYPE nodejs_heap_size_used_bytes gauge').length, 1);
      } finally {
        await first.close();
        await second.close();
      }
      await withApp(driver, { registry: new Registry(), defaultMetrics: false }, async (client) => {
        assert.doesNotMatch(await scrape(client), /process_cpu|nodejs_/);
      });
      const options = { registry: new Registry(), defaultMetrics: { prefix: 'app_' } };
      await withApp(driver, options, async (client) => {
        const text = await scrape(client);
        assert.match(text, /^app_process_cpu_user_seconds_total \S+$/m);
        assert.doesNotMatch(text, /^process_cpu/m);
      });
      await assert.rejects(
        async () => driver.start({ defaultMetrics: 'yes' as never }),
        optionError('PROMFORK_INVALID_OPTION', '"defaultMetrics" "yes"'),
      );
      await assert.rejects(
        async () => driver.start({ defaultMetrics: { register: new Registry() } as never }),
        optionError('PROMFORK_UNKNOWN_OPTION', '"register"'),
      );
    });

    it('takes a metric prefix, metric names and label names, and rejects bad ones', async () => {
      const options: HttpMetricsOptions<Req, Res> = {
        registry: new Registry(),
        defaultMetrics: false,
        metricPrefix: 'api_',
        metricNames: { requestsTotal: 'calls_total', requestDuration: 'latency_seconds' },
        labelNames: { method: 'verb', route: 'path', statusCode: 'code' },
      };
      await withApp(driver, options, async (client) => {
        await client.get('/users/8').expect(200);
        const text = await scrape(client);
        const labels = '{verb="GET",path="/users/:userId",code="200"}';
        assert.deepEqual(lines(text, `api_calls_total${labels}`), [`api_calls_total${labels} 1`]);
        assert.deepEqual(lines(text, `api_latency_seconds_count${labels}`), [
          `api_latency_seconds_count${labels} 1`,
        ]);
        assert.doesNotMatch(text, /^http_request/m);
      });
      const invalid = 'PROMFORK_INVALID_OPTION';
      const bad: [HttpMetricsOptions<Req, Res>, string][] = [
        [{ metricNames: { requestsTotal: 'bad-name' } }, '"metricNames.requestsTotal" "bad-name"'],
        [{ metricNames: { requestDuration: false as never } }, '"metricNames.requestDuration"'],
        [{ metricNames: { up: 'http_requests_total' } }, '"metricNames.up"'],
        [{ labelNames: { route: 'le' } }, '"labelNames.route" "le"'],
        [{ labelNames: { route: 'method' } }, '"labelNames.route" "method"'],
        [{ metricPrefix: '1x_' }, '"metricPrefix" "1x_"'],
        [{ conventions: 'otel' as never }, '"conventions" "otel"'],
        [{ latency: 'average' as never }, '"latency" "average"'],
        [{ extraLabels: { path: () => 'x' }, labelNames: { route: 'path' } }, '"path"'],
      ];
      for (const [given, part] of bad) {
        await assert.rejects(async () => driver.start(given), optionError(invalid, part));
      }
      await assert.rejects(
        async () => driver.start({ metricNames: { total: 'x' } as never }),
        optionError('PROMFORK_UNKNOWN_OPTION', '"total"'),
      );
    });

    it('serves an up gauge that setServing(false) turns to 0', async () => {
      const registry = new Registry();
      await withApp(driver, { registry, up: true, defaultMetrics: false }, async (client) => {
        assert.match(await scrape(client), /^# TYPE up gauge\nup 1$/m);
        assert.equal(setServing(false, { registry }), true);
        assert.match(await scrape(client), /^up 0$/m);
      });
      const without = new Registry();
      await withApp(driver, { registry: without, defaultMetrics: false }, async (client) => {
        assert.doesNotMatch(await scrape(client), /^up /m);
        assert.equal(setServing(false, { registry: without }), false);
      });
    });

    it('records latency as a summary, or as a histogram and a summary', async () => {
      const labels = '{method="GET",route="/health",status_code="200"';
      const summary = { percentiles: [0.5, 0.99] };
      const options = { registry: new Registry(), defaultMetrics: false, summary };
      await withApp(driver, { ...options, latency: 'summary' }, async (client) => {
        await client.get('/health').expect(200);
        const text = await scrape(client);
        assert.match(text, /^# TYPE http_request_duration_seconds summary$/m);
        assert.equal(lines(text, `http_request_duration_seconds${labels},quantile=`).length, 2);
        assert.deepEqual(lines(text, `http_request_duration_seconds_count${labels}}`), [
          `http_request_duration_seconds_count${labels}} 1`,
        ]);
      });
      const both = { ...options, registry: new Registry(), latency: 'both' as const };
      await withApp(driver, both, async (client) => {
        await client.get('/health').expect(200);
        const text = await scrape(client);
        assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
        assert.match(text, /^# TYPE http_request_duration_quantiles_seconds summary$/m);
        assert.equal(
          lines(text, `http_request_duration_quantiles_seconds${labels},quantile="0.5"} `).length,
          1,
        );
      });
    });

    it("names everything as OpenTelemetry's HTTP server conventions do", async (t) => {
      const options = {
        registry: new Registry(),
        defaultMetrics: false,
        conventions: 'opentelemetry' as const,
      };
      await withApp(driver, options, async (client, app) => {
        await client.get('/users/8').expect(200);
        await client.get('/users/9/fail').expect(500);
        await client.get('/nope').expect(404);
        await send(app, 'PROPFIND', '/nope');
        const text = await scrape(client);
        const name = 'http_server_request_duration_seconds';
        const series = (labels: string) => lines(text, `${name}_count{${labels}} `);
        const m = 'http_request_method="GET"';
        assert.deepEqual(
          series(
            `${m},http_route="/users/:userId",http_response_status_code="200",url_scheme="http",error_type=""`,
          ),
          [
            `${name}_count{${m},http_route="/users/:userId",http_response_status_code="200",url_scheme="http",error_type=""} 1`,
          ],
        );
        assert.equal(
          series(
            `${m},http_route="/users/:userId/fail",http_response_status_code="500",url_scheme="http",error_type="500"`,
          ).length,
          1,
        );
        // No route matched: the convention leaves http.route unset.
        assert.equal(
          series(
            `${m},http_route="",http_response_status_code="404",url_scheme="http",error_type=""`,
          ).length,
          1,
        );
        assert.match(text, /http_request_method="_OTHER"/);
        assert.doesNotMatch(text, /PROPFIND/);
        const buckets = lines(text, `${name}_bucket{${m},http_route="/users/:userId",`).map(
          (l) => /le="([^"]+)"/.exec(l)?.[1],
        );
        assert.deepEqual(buckets, [
          '0.005',
          '0.01',
          '0.025',
          '0.05',
          '0.075',
          '0.1',
          '0.25',
          '0.5',
          '0.75',
          '1',
          '2.5',
          '5',
          '7.5',
          '10',
          '+Inf',
        ]);
        assert.match(
          text,
          /^# TYPE http_server_active_requests gauge\nhttp_server_active_requests\{http_request_method="GET",url_scheme="http"\} 0$/m,
        );
        assert.doesNotMatch(text, /^http_requests_total/m);
        checkWithPromtool(t, text, 'prometheus');
      });
    });

    it("keeps express-prom-bundle's names and labels with its preset", async (t) => {
      const options = {
        registry: new Registry(),
        defaultMetrics: false,
        conventions: 'express-prom-bundle' as const,
      };
      await withApp(driver, options, async (client) => {
        await client.get('/users/8').expect(200);
        await client.get('/items/3').expect(201);
        const text = await scrape(client);
        const name = 'http_request_duration_seconds';
        assert.deepEqual(
          lines(text, `${name}_count{method="GET",path="/items/:id",status_code="201"} `),
          [`${name}_count{method="GET",path="/items/:id",status_code="201"} 1`],
        );
        const buckets = lines(text, `${name}_bucket{method="GET",path="/users/:userId",`).map(
          (l) => /le="([^"]+)"/.exec(l)?.[1],
        );
        assert.deepEqual(buckets, ['0.003', '0.03', '0.1', '0.3', '1.5', '10', '+Inf']);
        assert.match(text, /^up 1$/m);
        assert.doesNotMatch(text, /^http_requests_total/m);
        checkWithPromtool(t, text, 'prometheus');
      });
    });

    it('records on the public port while startMetricsServer serves /metrics on its own', async () => {
      const registry = new Registry();
      const metrics = await startMetricsServer({ registry, port: 0, host: '127.0.0.1' });
      try {
        await withApp(driver, { registry, metricsPath: false }, async (client) => {
          await client.get('/health').expect(200);
          await client.get('/metrics').expect(404);
          const url = `http://127.0.0.1:${metrics.address.port}`;
          const text = (await request(url).get('/metrics').expect(200)).text;
          assert.equal(count(text, 'GET', '/health', '200'), 1);
        });
      } finally {
        await metrics.close();
      }
    });
  });
}
