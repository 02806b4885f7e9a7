/** The adapter conformance suite, run against @promfork/koa with Koa 2 and 3. */
import assert from 'node:assert/strict';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Router from '@koa/router';
import { metricsHandler, metricsMiddleware } from '@promfork/koa';
import Koa3, { type Context } from 'koa';
import Koa2 from 'koa2';
import { type AdapterDriver, runAdapterConformance, serve } from './adapter-conformance.js';

const never = () => new Promise<never>(() => {});

function driver(name: string, Koa: typeof Koa3): AdapterDriver<Context, Context> {
  return {
    name,
    headers: (ctx) => ctx.headers,
    start: async (options, hooks = {}) => {
      const app = new Koa();
      app.silent = true;
      app.use(async (ctx, next) => {
        hooks.before?.(ctx.req.headers, ctx.res);
        await next();
      });
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
      root.post('/echo', (ctx) => {
        ctx.body = 'echo';
      });
      root.get('/slow/:id', async () => {
        hooks.entered?.();
        await never();
      });
      app.use(users.routes());
      app.use(root.routes());
      return serve(app.callback() as RequestListener);
    },
    startAdmin: async (options) => {
      const admin = new Koa();
      const router = new Router();
      router.get('/prom', metricsHandler(options));
      admin.use(router.routes());
      return serve(admin.callback() as RequestListener);
    },
  };
}

runAdapterConformance(driver('Koa 2', Koa2));
runAdapterConformance(driver('Koa 3', Koa3));

// The Koa README's separate admin port: metricsHandler() mounted with @koa/router answers its
// path only (unmounted, a handler answers every request, as any Koa handler does).
test('metricsHandler on an admin app, mounted as the README shows, answers /metrics only', async () => {
  const admin = new Koa3();
  const adminRoutes = new Router();
  adminRoutes.get('/metrics', metricsHandler());
  admin.use(adminRoutes.routes());
  const app = await serve(admin.callback() as RequestListener);
  try {
    const { port } = app.server.address() as AddressInfo;
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# TYPE /m);
    const other = await fetch(`http://127.0.0.1:${port}/anything`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  } finally {
    await app.close();
  }
});
