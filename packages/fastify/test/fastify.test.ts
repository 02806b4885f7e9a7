import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, Registry } from '@promfork/core';
import fastify5, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import promfork, { type FastifyMetricsOptions, metricsHandler } from '../src/index.js';

type Factory = typeof fastify5;

/** The value of `http_requests_total` for one label set in an exposition, or undefined. */
function count(text: string, method: string, route: string, status: string): number | undefined {
  const head = `http_requests_total{method="${method}",route="${route}",status_code="${status}"} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

async function metricsText(app: FastifyInstance, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.body;
}

/** A counter of reads of the request's and the response's Content-Length header. */
interface Reads {
  n: number;
}

/**
 * Makes every read of the request's Content-Length (through `headers`) and of the response's
 * (through `getHeader`) count in `reads`.
 */
function spyContentLength(
  headers: Record<string, unknown>,
  res: { getHeader(name: string): unknown },
  reads: Reads,
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

/** An app with a prefixed plugin, parameters, an opted-out route and an error route. */
async function buildApp(factory: Factory, options: FastifyMetricsOptions) {
  const app = factory();
  await app.register(promfork, options);
  await app.register(
    async (users) => {
      users.get('/', async () => 'users');
      users.get('/:userId', async () => 'user');
      users.get('/:userId/posts/:postId', async () => 'post');
      users.get('/:userId/fail', async () => {
        throw new Error('boom');
      });
    },
    { prefix: '/users' },
  );
  app.get('/health', { config: { metrics: false } }, async () => 'ok');
  app.get('/items/:id', async (_req, reply) => {
    reply.code(201);
    return 'item';
  });
  await app.ready();
  return app;
}

for (const [name, factory] of [
  ['Fastify 4', fastify4],
  ['Fastify 5', fastify5],
] as const) {
  describe(`@promfork/fastify with ${name}`, () => {
    it('reads Content-Length headers only when a size histogram is on', async () => {
      const readsWith = async (options: FastifyMetricsOptions) => {
        const reads: Reads = { n: 0 };
        const app = factory();
        app.addHook('onRequest', (request, reply, done) => {
          spyContentLength(request.raw.headers, reply, reads);
          done();
        });
        await app.register(promfork, { registry: new Registry(), ...options });
        app.post('/echo', async () => 'echo');
        await app.ready();
        try {
          const res = await app.inject({
            method: 'POST',
            url: '/echo',
            payload: 'hello',
            headers: { 'content-type': 'text/plain' },
          });
          assert.equal(res.body, 'echo');
          await metricsText(app); // the request is recorded by the time its scrape is answered
        } finally {
          await app.close();
        }
        return reads.n;
      };
      // The framework's own reads, with the request not instrumented at all.
      const baseline = await readsWith({ skip: () => true });
      assert.equal(await readsWith({}), baseline);
      assert.equal(await readsWith({ requestSize: true }), baseline + 1);
      assert.equal(await readsWith({ requestSize: true, responseSize: true }), baseline + 2);
    });

    it('labels prefixed routes with routeOptions.url and honours config.metrics=false', async () => {
      const registry = new Registry();
      const app = await buildApp(factory, { registry });
      for (const url of ['/users/7/posts/1', '/users/8/posts/2', '/users/8', '/users', '/health']) {
        assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
      }
      assert.equal((await app.inject({ method: 'GET', url: '/items/3' })).statusCode, 201);
      assert.equal((await app.inject({ method: 'GET', url: '/users/9/fail' })).statusCode, 500);
      const text = await metricsText(app);
      assert.equal(count(text, 'GET', '/users/:userId/posts/:postId', '200'), 2);
      assert.equal(count(text, 'GET', '/users/:userId', '200'), 1);
      assert.equal(count(text, 'GET', '/users', '200'), 1);
      assert.equal(count(text, 'GET', '/items/:id', '201'), 1);
      assert.equal(count(text, 'GET', '/users/:userId/fail', '500'), 1);
      assert.doesNotMatch(text, /route="\/users\/[0-9]/);
      assert.doesNotMatch(text, /route="\/(health|metrics)/);
      await app.close();
    });

    it('counts unmatched and hostile requests under #unmatched and keeps serving', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = await buildApp(factory, { registry, onError: (e) => errors.push(e) });
      const hostile = [
        '/nope',
        '//%5Cfoo.bar:80@example.com',
        `/${'a'.repeat(10 * 1024)}`,
        '/..%2f..%2fetc/passwd',
        '/%00',
      ];
      for (const url of hostile) {
        const r = await app.inject({ method: 'GET', url });
        assert.equal(r.statusCode, 404, url.slice(0, 40));
      }
      // Fastify answers broken percent-encoding itself (400) before any hook runs: not
      // counted (documented), and nothing else happens.
      assert.equal((await app.inject({ method: 'GET', url: '/%E0%A4%A' })).statusCode, 400);
      // Odd methods: Fastify answers them itself; they are counted, never crash anything.
      for (const method of ['PROPFIND', 'TRACE']) {
        await app.inject({ method: method as 'GET', url: '/users/1' });
      }
      assert.equal((await app.inject({ method: 'GET', url: '/users/1' })).statusCode, 200);
      const text = await metricsText(app);
      assert.equal(count(text, 'GET', '#unmatched', '404'), hostile.length);
      assert.equal(count(text, 'GET', '/users/:userId', '200'), 1);
      assert.deepEqual(errors, []);
      assert.match(text, /^promfork_instrumentation_errors_total 0$/m);
      await app.close();
    });

    it('serves the metrics through a normal route: user hooks, negotiation, gzip, HEAD', async () => {
      const registry = new Registry();
      const app = factory();
      // The user's own auth hook applies to the metrics route like to any route.
      app.addHook('onRequest', async (request, reply) => {
        if (request.url.startsWith('/metrics') && request.headers.authorization !== 'Bearer ok') {
          await reply.code(401).send('no');
        }
      });
      await app.register(promfork, {
        registry,
        authorize: (request) => request.headers['x-role'] !== 'guest',
      });
      await app.ready();
      assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      const auth = { authorization: 'Bearer ok' };
      const guest = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { ...auth, 'x-role': 'guest' },
      });
      assert.equal(guest.statusCode, 403);
      const text = await app.inject({ method: 'GET', url: '/metrics?x=1', headers: auth });
      assert.equal(text.statusCode, 200);
      assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const om = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { ...auth, accept: 'application/openmetrics-text; version=1.0.0' },
      });
      assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
      assert.match(om.body, /# EOF\n$/);
      const zipped = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { ...auth, 'accept-encoding': 'gzip' },
      });
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      const { gunzipSync } = await import('node:zlib');
      assert.match(gunzipSync(zipped.rawPayload).toString(), /# TYPE http_requests_total counter/);
      const head = await app.inject({ method: 'HEAD', url: '/metrics', headers: auth });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      await app.close();
    });

    it('applies skip, excludeRoutes, extraLabels, status grouping and metricsPath', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = await buildApp(factory, {
        registry,
        metricsPath: '/internal/metrics',
        skip: (request) => request.headers['x-skip'] === '1',
        excludeRoutes: [/^\/users\/$/],
        groupStatusCodes: true,
        extraLabels: {
          tenant: (request) => {
            const tenant = request.headers['x-tenant'];
            if (tenant === 'bad') throw new Error('no tenant');
            return typeof tenant === 'string' ? tenant : 'none';
          },
        },
        onError: (e) => errors.push(e),
      });
      await app.inject({ method: 'GET', url: '/users' });
      await app.inject({ method: 'GET', url: '/items/1', headers: { 'x-tenant': 'acme' } });
      await app.inject({ method: 'GET', url: '/items/2', headers: { 'x-tenant': 'acme' } });
      await app.inject({ method: 'GET', url: '/items/3', headers: { 'x-skip': '1' } });
      await app.inject({ method: 'GET', url: '/items/4', headers: { 'x-tenant': 'bad' } });
      const res = await app.inject({ method: 'GET', url: '/internal/metrics' });
      assert.equal(res.statusCode, 200);
      const head = 'http_requests_total{method="GET",route="/items/:id",status_code="2xx"';
      assert.ok(res.body.includes(`${head},tenant="acme"} 2\n`), res.body);
      assert.ok(res.body.includes(`${head},tenant=""} 1\n`), res.body);
      assert.doesNotMatch(res.body, /route="\/users\/"/);
      assert.equal(errors.length, 1);
      assert.match(res.body, /^promfork_instrumentation_errors_total 1$/m);
      assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      await app.close();
    });

    it('metricsHandler serves the metrics from a route of your own', async () => {
      const registry = new Registry();
      const app = factory();
      await app.register(promfork, { registry, metricsPath: false });
      app.get('/x', async () => 'x');
      app.get('/prom', { config: { metrics: false } }, metricsHandler({ registry }));
      await app.inject({ method: 'GET', url: '/x' });
      assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      const res = await app.inject({ method: 'GET', url: '/prom' });
      assert.equal(res.statusCode, 200);
      assert.equal(count(res.body, 'GET', '/x', '200'), 1);
      assert.equal(count(res.body, 'GET', '#unmatched', '404'), 1);
      await app.close();
    });

    it('rejects bad options through register', async () => {
      const app = factory();
      await assert.rejects(
        async () => {
          await app.register(promfork, { metricsPaht: '/m' } as never);
        },
        (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
      );
      const other = factory();
      await assert.rejects(
        async () => {
          await other.register(promfork, { groupStatusCodes: 1 as never });
        },
        (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
      );
    });
  });
}
