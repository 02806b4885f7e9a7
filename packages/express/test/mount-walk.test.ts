/**
 * Exact route templates in apps without sub-apps, where only the mount layers of routers are
 * wrapped (mount-hook.ts) and Express's Layer class is left as it is. This file mounts no
 * sub-app anywhere: a sub-app switches its Express copy to the Layer class wrapper for the
 * rest of the process (sub-app.test.ts covers that mode), and node --test runs each file in a
 * process of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import { metricsMiddleware } from '../src/index.js';

type Express = typeof express5;
type Res = { send(body: string): void; status(code: number): Res };

/** The `http_requests_total` samples of an exposition, as `route status` → count. */
function counts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^http_requests_total\{method="GET",route="(.*)",status_code="(\d+)"\} (\d+)$/.exec(
      line,
    );
    if (m) out.set(`${m[1]?.replaceAll('\\\\', '\\')} ${m[2]}`, Number(m[3]));
  }
  return out;
}

function buildApp(express: Express) {
  const app = express();
  app.set('env', 'test'); // keep finalhandler from logging the expected errors
  app.use(metricsMiddleware({ registry: new Registry() }));
  app.get('/users/:id', (_req, res) => {
    res.send('user');
  });
  const items = express.Router({ mergeParams: true });
  items.get('/items/:itemId', (_req, res) => {
    res.send('item');
  });
  items.get('/fail', (_req, _res, next) => {
    next(new Error('expected'));
  });
  items.get('/pass', (_req, _res, next) => {
    next(); // nothing else in this router matches: the request leaves the mount
  });
  const shops = express.Router({ mergeParams: true });
  shops.use('/:shopId', items);
  app.use('/shops', shops);
  const both = express.Router();
  both.get('/x/:id', (_req, res) => {
    res.send('x');
  });
  app.use(['/m1', '/m2'], both);
  app.get(['/a', '/b'], (_req, res) => {
    res.send('ab');
  });
  app.get(/^\/re\/\d+$/, (_req, res) => {
    res.send('re');
  });
  const atRoot = express.Router();
  atRoot.get('/root-mounted/:n', (_req, res) => {
    res.send('root');
  });
  app.use(atRoot);
  // Reached after /shops/:shopId/pass handed the request back: the last route entered wins.
  app.get('/shops/:shopId/pass', (_req, res) => {
    res.send('top');
  });
  app.use((err: Error, _req: unknown, res: Res, _next: unknown) => {
    res.status(500).send(err.message);
  });
  return app;
}

for (const [name, express] of [
  ['Express 4', express4 as unknown as Express],
  ['Express 5', express5],
] as const) {
  describe(`route templates through mounted routers (${name})`, () => {
    it('labels nested routers, params, array mounts and routes, RegExps and 404s exactly', async () => {
      const app = buildApp(express);
      const client = request(app);
      await client.get('/users/1').expect(200, 'user');
      await client.get('/shops/7/items/9').expect(200, 'item');
      await client.get('/shops/8/items/10').expect(200, 'item');
      await client.get('/m1/x/1').expect(200, 'x');
      await client.get('/m2/x/2').expect(200, 'x');
      await client.get('/a').expect(200);
      await client.get('/b').expect(200);
      await client.get('/re/12').expect(200);
      await client.get('/root-mounted/3').expect(200, 'root');
      await client.get('/shops/7/nothing').expect(404);
      await client.get('/nothing').expect(404);
      const text = (await client.get('/metrics').expect(200)).text;
      const seen = counts(text);
      assert.deepEqual(
        [...seen].sort(),
        [
          ['#unmatched 404', 2],
          ['/a|/b 200', 2],
          ['/m1|/m2/x/:id 200', 2],
          ['/root-mounted/:n 200', 1],
          ['/shops/:shopId/items/:itemId 200', 2],
          ['/users/:id 200', 1],
          [`${String(/^\/re\/\d+$/)} 200`, 1],
        ].sort(),
        text,
      );
    });

    it('keeps the nested template of a route whose error an app-level handler answers', async () => {
      const app = buildApp(express);
      await request(app).get('/shops/3/fail').expect(500, 'expected');
      const text = (await request(app).get('/metrics').expect(200)).text;
      assert.equal(counts(text).get('/shops/:shopId/fail 500'), 1, text);
    });

    it('labels the last route entered when a nested route hands the request back', async () => {
      const app = buildApp(express);
      await request(app).get('/shops/3/pass').expect(200, 'top');
      const text = (await request(app).get('/metrics').expect(200)).text;
      assert.equal(counts(text).get('/shops/:shopId/pass 200'), 1, text);
      assert.equal(counts(text).size, 1, text);
    });

    it('sees routers mounted after the first request', async () => {
      const app = buildApp(express);
      await request(app).get('/users/1').expect(200);
      const late = express.Router();
      late.get('/y/:id', (_req, res) => {
        res.send('late');
      });
      const outer = express.Router();
      outer.use('/:group', late);
      app.use('/late', outer);
      // Express 4 and 5 keep the error handler above before the late mount; it still matches.
      await request(app).get('/late/g/y/4').expect(200, 'late');
      const text = (await request(app).get('/metrics').expect(200)).text;
      assert.equal(counts(text).get('/late/:group/y/:id 200'), 1, text);
    });

    it("leaves Express's Layer class as it is, so apps without metrics are untouched", async () => {
      const app = buildApp(express);
      await request(app).get('/shops/7/items/9').expect(200);
      const router = app as unknown as {
        _router?: { stack: object[] };
        router: { stack: object[] };
      };
      const stack = (router._router ?? router.router).stack;
      const proto = Object.getPrototypeOf(stack[0]) as Record<string, unknown>;
      const method = (proto.handleRequest ?? proto.handle_request) as { name: string };
      assert.notEqual(method.name, 'promforkLayer');
      // What the walk adds (a `push` on walked stacks, a method on mount layers) is not
      // enumerable: tools that list or copy the stack see what Express put there.
      assert.deepEqual(
        Object.keys(stack),
        stack.map((_, i) => String(i)),
      );
      for (const layer of stack) {
        assert.ok(!Object.keys(layer).includes('handle_request'));
        assert.ok(!Object.keys(layer).includes('handleRequest'));
      }
    });
  });
}
