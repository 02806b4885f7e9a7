/** The adapter conformance suite, run against @promfork/koa with Koa 2 and 3. */
import type { RequestListener } from 'node:http';
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
