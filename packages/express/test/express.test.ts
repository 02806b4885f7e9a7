import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, Registry } from '@promfork/core';
import express5, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import request from 'supertest';
import { metricsHandler, metricsMiddleware } from '../src/index.js';

type Express = typeof express5;

/** The value of `http_requests_total` for one label set in an exposition, or undefined. */
function count(text: string, method: string, route: string, status: string): number | undefined {
  const escaped = route.replaceAll('\\', '\\\\');
  const head = `http_requests_total{method="${method}",route="${escaped}",status_code="${status}"} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

async function scrape(app: Parameters<typeof request>[0]): Promise<string> {
  const res = await request(app).get('/metrics').expect(200);
  return res.text;
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

/** The nested-router app of the issue, plus arrays, RegExps, a sub-app and an error route. */
function buildApp(express: Express, registry: Registry) {
  const app = express();
  app.use(metricsMiddleware({ registry }));
  const users = express.Router();
  const posts = express.Router();
  posts.get('/posts/:postId', (_req, res) => {
    res.send('post');
  });
  users.get('/', (_req, res) => {
    res.send('users');
  });
  users.use('/:userId', posts);
  users.get('/:userId', (_req, res) => {
    res.send('user');
  });
  app.use('/users', users);
  app.get(['/a', '/b'], (_req, res) => {
    res.send('ab');
  });
  app.get(/^\/re\/\d+$/, (_req, res) => {
    res.send('re');
  });
  const mounted = express.Router();
  mounted.get('/x/:id', (_req, res) => {
    res.send('x');
  });
  app.use(['/m1', '/m2'], mounted);
  const admin = express();
  admin.get('/stats/:id', (_req, res) => {
    res.send('stats');
  });
  app.use('/admin', admin);
  const failing = express.Router();
  failing.get('/:id/fail', () => {
    throw new Error('boom');
  });
  app.use('/err', failing);
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send('error');
  });
  return app;
}

for (const [name, express] of [
  ['Express 4', express4],
  ['Express 5', express5],
] as const) {
  describe(`@promfork/express with ${name}`, () => {
    it('reads Content-Length headers only when a size histogram is on', async () => {
      const readsWith = async (options: Parameters<typeof metricsMiddleware>[0]) => {
        const reads: Reads = { n: 0 };
        const app = express();
        app.use((req: Request, res: Response, next: NextFunction) => {
          spyContentLength(req.headers, res, reads);
          next();
        });
        app.use(metricsMiddleware({ registry: new Registry(), ...options }));
        app.post('/echo', (_req, res) => {
          res.send('echo');
        });
        await request(app).post('/echo').send('hello').expect(200, 'echo');
        await scrape(app); // the request is recorded by the time its scrape is answered
        return reads.n;
      };
      // The framework's own reads, with the request not instrumented at all.
      const baseline = await readsWith({ skip: () => true });
      assert.equal(await readsWith({}), baseline);
      assert.equal(await readsWith({ requestSize: true }), baseline + 1);
      assert.equal(await readsWith({ requestSize: true, responseSize: true }), baseline + 2);
    });

    it('labels nested routers with the full template, never the concrete path', async () => {
      const registry = new Registry();
      const app = buildApp(express, registry);
      await request(app).get('/users/7/posts/1').expect(200, 'post');
      await request(app).get('/users/8/posts/2').expect(200, 'post');
      await request(app).get('/users/8').expect(200, 'user');
      await request(app).get('/users').expect(200, 'users');
      await request(app).get('/USERS/9/posts/3').expect(200, 'post');
      const text = await scrape(app);
      assert.equal(count(text, 'GET', '/users/:userId/posts/:postId', '200'), 3);
      assert.equal(count(text, 'GET', '/users/:userId', '200'), 1);
      assert.equal(count(text, 'GET', '/users', '200'), 1);
      assert.doesNotMatch(text, /route="\/users\/[0-9]/);
      assert.doesNotMatch(text, /\/metrics/, 'the metrics route is not recorded');
    });

    it('labels array routes, RegExp routes, array mounts and sub-apps', async () => {
      const registry = new Registry();
      const app = buildApp(express, registry);
      await request(app).get('/a').expect(200);
      await request(app).get('/b').expect(200);
      await request(app).get('/re/12').expect(200);
      await request(app).get('/re/13').expect(200);
      await request(app).get('/m1/x/1').expect(200);
      await request(app).get('/m2/x/2').expect(200);
      await request(app).get('/admin/stats/5').expect(200);
      const text = await scrape(app);
      assert.equal(count(text, 'GET', '/a|/b', '200'), 2);
      assert.equal(count(text, 'GET', String(/^\/re\/\d+$/), '200'), 2);
      assert.equal(count(text, 'GET', '/m1|/m2/x/:id', '200'), 2);
      assert.equal(count(text, 'GET', '/admin/stats/:id', '200'), 1);
    });

    it('keeps the template when an error bubbles up to an app-level handler', async () => {
      const registry = new Registry();
      const app = buildApp(express, registry);
      await request(app).get('/err/3/fail').expect(500);
      await request(app).get('/err/4/fail').expect(500);
      const text = await scrape(app);
      assert.equal(count(text, 'GET', '/err/:id/fail', '500'), 2);
    });

    it('counts unmatched and hostile requests under #unmatched and keeps serving', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = express();
      app.set('env', 'test'); // keep finalhandler from logging the expected 400
      app.use(metricsMiddleware({ registry, onError: (e) => errors.push(e) }));
      app.get('/users/:id', (_req, res) => {
        res.send('user');
      });
      const hostile = [
        '/nope',
        '//%5Cfoo.bar:80@example.com',
        '/%E0%A4%A',
        `/${'a'.repeat(10 * 1024)}`,
        '/..%2f..%2fetc/passwd',
        '/%00',
      ];
      for (const path of hostile) await request(app).get(path).expect(404);
      // A broken escape inside a parameter is rejected by Express (400) under its route.
      await request(app).get('/users/%E0%A4%A').expect(400);
      await request(app).get('/users/1').expect(200);
      const text = await scrape(app);
      assert.equal(count(text, 'GET', '#unmatched', '404'), hostile.length);
      assert.equal(count(text, 'GET', '/users/:id', '200'), 1);
      assert.deepEqual(errors, []);
      assert.match(text, /^promfork_instrumentation_errors_total 0$/m);
    });

    it('serves the metrics with negotiation, gzip, HEAD, 405 and authorize', async () => {
      const registry = new Registry();
      const app = express();
      app.use(
        metricsMiddleware({
          registry,
          authorize: (req) => req.headers.authorization === 'Bearer ok',
        }),
      );
      await request(app).get('/metrics').expect(403);
      const auth = { authorization: 'Bearer ok' };
      const text = await request(app).get('/metrics?x=1').set(auth).expect(200);
      assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const om = await request(app)
        .get('/metrics')
        .set({ ...auth, accept: 'application/openmetrics-text; version=1.0.0' })
        .expect(200);
      assert.match(String(om.headers['content-type']), /^application\/openmetrics-text/);
      assert.match(om.text, /# EOF\n$/);
      const zipped = await request(app)
        .get('/metrics')
        .set({ ...auth, 'accept-encoding': 'gzip' })
        .expect(200);
      // The client inflates the body itself; the header says it came compressed.
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.match(zipped.text, /# TYPE http_requests_total counter/);
      const head = await request(app).head('/metrics').set(auth).expect(200);
      assert.equal(head.text, undefined);
      await request(app).post('/metrics').set(auth).expect(405).expect('allow', 'GET, HEAD');
    });

    it('applies skip, excludeRoutes, extraLabels, status grouping and normalizeRoute', async () => {
      const registry = new Registry();
      const errors: Error[] = [];
      const app = express();
      app.use(
        metricsMiddleware({
          registry,
          metricsPath: '/internal/metrics',
          skip: (req) => req.headers['x-skip'] === '1',
          excludeRoutes: ['/health', /^\/private/],
          groupStatusCodes: true,
          normalizeRoute: (route) => route.replace(/^\/v\d+/, '/v*'),
          extraLabels: {
            tenant: (req) => {
              const tenant = req.headers['x-tenant'];
              if (tenant === 'bad') throw new Error('no tenant');
              return typeof tenant === 'string' ? tenant : 'none';
            },
          },
          onError: (e) => errors.push(e),
        }),
      );
      app.get('/health', (_req, res) => {
        res.send('ok');
      });
      app.get('/private/:x', (_req, res) => {
        res.send('secret');
      });
      app.get('/v1/items', (_req, res) => {
        res.send('v1');
      });
      app.get('/v2/items', (_req, res) => {
        res.status(201).send('v2');
      });
      await request(app).get('/health').expect(200);
      await request(app).get('/private/1').expect(200);
      await request(app).get('/v1/items').set('x-tenant', 'acme').expect(200);
      await request(app).get('/v2/items').set('x-tenant', 'acme').expect(201);
      await request(app).get('/v2/items').set('x-skip', '1').expect(201);
      await request(app).get('/v2/items').set('x-tenant', 'bad').expect(201);
      const res = await request(app).get('/internal/metrics').expect(200);
      const head = 'http_requests_total{method="GET",route="/v*/items",status_code="2xx"';
      assert.ok(res.text.includes(`${head},tenant="acme"} 2\n`), res.text);
      assert.ok(res.text.includes(`${head},tenant=""} 1\n`), res.text);
      assert.doesNotMatch(res.text, /route="\/(health|private)/);
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.message ?? '', /no tenant/);
      assert.match(res.text, /^promfork_instrumentation_errors_total 1$/m);
      await request(app).get('/metrics').expect(404);
    });

    it('metricsHandler serves the metrics on another app; metricsPath false serves none', async () => {
      const registry = new Registry();
      const app = express();
      app.use(metricsMiddleware({ registry, metricsPath: false }));
      app.get('/x', (_req, res) => {
        res.send('x');
      });
      const admin = express();
      admin.get('/prom', metricsHandler({ registry }));
      await request(app).get('/x').expect(200);
      await request(app).get('/metrics').expect(404);
      const res = await request(admin).get('/prom').expect(200);
      assert.equal(count(res.text, 'GET', '/x', '200'), 1);
      assert.equal(count(res.text, 'GET', '#unmatched', '404'), 1);
    });
  });
}

describe('@promfork/express options', () => {
  it('rejects unknown keys and wrong types at creation', () => {
    assert.throws(
      () => metricsMiddleware({ metricPath: '/m' } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_UNKNOWN_OPTION',
    );
    assert.throws(
      () => metricsMiddleware({ metricsPath: 'metrics' }),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.code === 'PROMFORK_INVALID_OPTION' &&
        e.message.includes('"metricsPath" "metrics"'),
    );
    assert.throws(
      () => metricsHandler({ registry: {} as Registry }),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'PROMFORK_INVALID_OPTION',
    );
  });
});
