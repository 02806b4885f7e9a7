/**
 * What only Express does. The behaviour every adapter shares (templates of nested routers,
 * unmatched and hostile paths, the metrics route, options, sizes, aborts) is asserted by the
 * adapter conformance suite in the root test/ folder (`test/express-adapter.test.ts`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '@promfork/core';
import express5 from 'express';
import express4 from 'express4';
import request from 'supertest';
import { metricsMiddleware } from '../src/index.js';

type Express = typeof express5;

/** Asserts the exposition counts `n` GET requests with this route label and status. */
function assertCount(text: string, route: string, status: string, n: number): void {
  const escaped = route.replaceAll('\\', '\\\\');
  const line = `http_requests_total{method="GET",route="${escaped}",status_code="${status}"} ${n}`;
  assert.ok(text.split('\n').includes(line), `no line ${line} in:\n${text}`);
}

/** Express's own routing shapes: nested routers, arrays, RegExps, array mounts, a sub-app. */
function buildApp(express: Express) {
  const app = express();
  app.set('env', 'test'); // keep finalhandler from logging the expected 400
  app.use(metricsMiddleware({ registry: new Registry() }));
  const users = express.Router();
  const posts = express.Router();
  posts.get('/posts/:postId', (_req, res) => {
    res.send('post');
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
  return app;
}

for (const [name, express] of [
  ['Express 4', express4],
  ['Express 5', express5],
] as const) {
  describe(`@promfork/express with ${name}`, () => {
    it('labels a case-insensitive match with the template it matched', async () => {
      const app = buildApp(express);
      await request(app).get('/users/1/posts/2').expect(200, 'post');
      await request(app).get('/USERS/9/posts/3').expect(200, 'post');
      const text = (await request(app).get('/metrics').expect(200)).text;
      assertCount(text, '/users/:userId/posts/:postId', '200', 2);
    });

    it('labels array routes, RegExp routes, array mounts and sub-apps', async () => {
      const app = buildApp(express);
      await request(app).get('/a').expect(200);
      await request(app).get('/b').expect(200);
      await request(app).get('/re/12').expect(200);
      await request(app).get('/re/13').expect(200);
      await request(app).get('/m1/x/1').expect(200);
      await request(app).get('/m2/x/2').expect(200);
      await request(app).get('/admin/stats/5').expect(200);
      const text = (await request(app).get('/metrics').expect(200)).text;
      assertCount(text, '/a|/b', '200', 2);
      assertCount(text, String(/^\/re\/\d+$/), '200', 2);
      assertCount(text, '/m1|/m2/x/:id', '200', 2);
      assertCount(text, '/admin/stats/:id', '200', 1);
    });

    it('counts a broken escape in a parameter, which Express answers 400, and keeps serving', async () => {
      const app = buildApp(express);
      await request(app).get('/users/%E0%A4%A').expect(400);
      await request(app).get('/users/1').expect(200);
      const text = (await request(app).get('/metrics').expect(200)).text;
      assert.match(
        text,
        /^http_requests_total\{method="GET",route="[^"]*",status_code="400"\} 1$/m,
      );
      assertCount(text, '/users/:userId', '200', 1);
      assert.match(text, /^promfork_instrumentation_errors_total 0$/m);
    });
  });
}
