import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import { InvalidOptionError, Registry } from '@promfork/core';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import request from 'supertest';
import { type KoaMetricsOptions, metricsHandler, metricsMiddleware } from '../src/index.js';

type KoaClass = typeof Koa3;

/** The value of `http_requests_total` for one label set in an exposition, or undefined. */
function count(text: string, method: string, route: string, status: string): number | undefined {
  const escaped = route.replaceAll('\\', '\\\\');
  const head = `http_requests_total{method="${method}",route="${escaped}",status_code="${status}"} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
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

/** An app with a prefixed router, a nested router and an error route. */
function buildApp(Koa: KoaClass, options: KoaMetricsOptions) {
  const app = new Koa();
  app.silent = true;
  app.use(metricsMiddleware(options));
  const posts = new Router();
  posts.get('/posts/:postId', (ctx) => {
    ctx.body = 'post';
  });
  const users = new Router({ prefix: '/users' });
  users.get('/', (ctx) => {
    ctx.body = 'users';
  });
  users.use('/:userId', posts.routes());
  users.get('/:userId', (ctx) => {
    ctx.body = 'user';
  });
  users.get('/:userId/fail', () => {
    throw new Error('boom');
  });
  const root = new Router();
  root.get('/health', (ctx) => {
    ctx.body = 'ok';
  });
  root.get('/items/:id', (ctx) => {
    ctx.status = 201;
    ctx.body = 'item';
  });
  app.use(users.routes());
  app.use(root.routes());
  return app;
}

function listen(app: Koa3) {
  return request(app.callback() as RequestListener);
}

for (const [name, Koa] of [
  ['Koa 2', Koa2],
  ['Koa 3', Koa3],
] as const) {
  describe(`@promfork/koa with ${name}`, () => {
    it('reads Content-Length headers only when a size histogram is on', async () => {
      const readsWith = async (options: KoaMetricsOptions) => {
        const reads: Reads = { n: 0 };
        const app = new Koa();
        app.silent = true;
        app.use(async (ctx, next) => {
          spyContentLength(ctx.req.headers, ctx.res, reads);
          await next();
        });
        app.use(metricsMiddleware({ registry: new Registry(), ...options }));
        app.use((ctx) => {
          ctx.body = 'echo';
        });
        await listen(app).post('/echo').send('hello').expect(200, 'echo');
        // The request is recorded by the time its scrape is answered.
        await listen(app).get('/metrics').expect(200);
        return reads.n;
      };
      // The framework's own reads, with the request not instrumented at all.
      const baseline = await readsWith({ skip: () => true });
      assert.equal(await readsWith({}), baseline);
      assert.equal(await readsWith({ requestSize: true }), baseline + 1);
      assert.equal(await readsWith({ requestSize: true, responseSize: true }), baseline + 2);
    });

    it('labels prefixed and nested routers with the full template', async () => {
      const registry = new Registry();
      const app = listen(buildApp(Koa, { registry }));
      await app.get('/users/7/posts/1').expect(200, 'post');
      await app.get('/users/8/posts/2').expect(200, 'post');
      await app.get('/users/8').expect(200, 'user');
      await app.get('/users').expect(200, 'users');
      await app.get('/items/3').expect(201);
      await app.get('/users/9/fail').expect(500);
      const text = (await app.get('/metrics').expect(200)).text;
      assert.equal(count(text, 'GET', '/users/:userId/posts/:postId', '200'), 2);
      assert.equal(count(text, 'GET', '/users/:userId', '200'), 1);
      assert.equal(count(text, 'GET', '/users', '200'), 1);
      assert.equal(count(text, 'GET', '/items/:id', '201'), 1);
      assert.equal(count(text, 'GET', '/users/:userId/fail', '500'), 1);
      assert.doesNotMatch(text, /route="\/users\/[0-9]/);
      assert.doesNotMatch(text, /route="\/metrics/);
    });

    it('counts unmatched and hostile requests under #unmatched and keeps serving', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = listen(buildApp(Koa, { registry, onError: (e) => errors.push(e) }));
      const hostile = [
        '/nope',
        '//%5Cfoo.bar:80@example.com',
        '/%E0%A4%A',
        `/${'a'.repeat(10 * 1024)}`,
        '/..%2f..%2fetc/passwd',
        '/%00',
      ];
      for (const path of hostile) await app.get(path).expect(404);
      await app.get('/health').expect(200);
      const text = (await app.get('/metrics').expect(200)).text;
      assert.equal(count(text, 'GET', '#unmatched', '404'), hostile.length);
      assert.equal(count(text, 'GET', '/health', '200'), 1);
      assert.deepEqual(errors, []);
      assert.match(text, /^promfork_instrumentation_errors_total 0$/m);
    });

    it('serves the metrics with negotiation, gzip, HEAD, 405 and authorize', async () => {
      const registry = new Registry();
      const app = listen(
        buildApp(Koa, {
          registry,
          authorize: (ctx) => ctx.get('authorization') === 'Bearer ok',
        }),
      );
      await app.get('/metrics').expect(403);
      const auth = { authorization: 'Bearer ok' };
      const text = await app.get('/metrics?x=1').set(auth).expect(200);
      assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const om = await app
        .get('/metrics')
        .set({ ...auth, accept: 'application/openmetrics-text; version=1.0.0' })
        .expect(200);
      assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
      assert.match(om.text, /# EOF\n$/);
      const zipped = await app
        .get('/metrics')
        .set({ ...auth, 'accept-encoding': 'gzip' })
        .expect(200);
      // The client inflates the body itself; the header says it came compressed.
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.match(zipped.text, /# TYPE http_requests_total counter/);
      const head = await app.head('/metrics').set(auth).expect(200);
      assert.equal(head.text, undefined);
      await app.post('/metrics').set(auth).expect(405).expect('allow', 'GET, HEAD');
    });

    it('applies skip, excludeRoutes, extraLabels and status grouping', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = listen(
        buildApp(Koa, {
          registry,
          skip: (ctx) => ctx.get('x-skip') === '1',
          excludeRoutes: ['/health'],
          groupStatusCodes: true,
          extraLabels: {
            tenant: (ctx) => {
              const tenant = ctx.get('x-tenant');
              if (tenant === 'bad') throw new Error('no tenant');
              return tenant;
            },
          },
          onError: (e) => errors.push(e),
        }),
      );
      await app.get('/health').expect(200);
      await app.get('/items/1').set('x-tenant', 'acme').expect(201);
      await app.get('/items/2').set('x-tenant', 'acme').expect(201);
      await app.get('/items/3').set('x-skip', '1').expect(201);
      await app.get('/items/4').set('x-tenant', 'bad').expect(201);
      const text = (await app.get('/metrics').expect(200)).text;
      const head = 'http_requests_total{method="GET",route="/items/:id",status_code="2xx"';
      assert.ok(text.includes(`${head},tenant="acme"} 2\n`), text);
      assert.ok(text.includes(`${head},tenant=""} 1\n`), text);
      assert.doesNotMatch(text, /route="\/health/);
      assert.equal(errors.length, 1);
      assert.match(text, /^promfork_instrumentation_errors_total 1$/m);
    });

    it('metricsHandler serves the metrics on a router route', async () => {
      const registry = new Registry();
      const app = new Koa();
      app.use(metricsMiddleware({ registry, metricsPath: false }));
      const router = new Router();
      router.get('/x', (ctx) => {
        ctx.body = 'x';
      });
      router.get('/internal/prom', metricsHandler({ registry }));
      app.use(router.routes());
      const client = listen(app);
      await client.get('/x').expect(200);
      await client.get('/metrics').expect(404);
      const res = await client.get('/internal/prom').expect(200);
      assert.equal(count(res.text, 'GET', '/x', '200'), 1);
      assert.equal(count(res.text, 'GET', '#unmatched', '404'), 1);
    });
  });
}

describe('@promfork/koa options', () => {
  it('rejects unknown keys and wrong types at creation', () => {
    assert.throws(
      () => metricsMiddleware({ bucket: [1] } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
    assert.throws(
      () => metricsMiddleware({ inFlight: 'yes' as never }),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
    );
  });
});
