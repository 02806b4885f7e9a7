/**
 * The Koa app each worker serves, with @koa/router routers nested two deep: a `/users` router
 * mounts the posts router under `/:userId`. The metrics are labelled with the matched template
 * (`/users/:userId/posts/:postId`) that @promfork/koa reads from the router.
 */
import { Router } from '@koa/router';
import { metricsMiddleware } from '@promfork/koa';
import Koa, { type Context } from 'koa';
import { exampleMetricsOptions } from '../shared/metrics-options.js';
import {
  createPostReply,
  delayReply,
  failReply,
  indexReply,
  postReply,
  type Reply,
  SERVED_BY_HEADER,
  userReply,
} from '../shared/routes.js';

function send(ctx: Context, reply: Reply): void {
  ctx.status = reply.status;
  ctx.body = reply.body;
}

/** Builds the app: HTTP metrics for every route, plus GET /metrics merged over all workers. */
export function createApp(): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    ctx.set(SERVED_BY_HEADER, String(process.pid));
    await next();
  });
  // Before the routers, so it times every request and serves GET /metrics. The options
  // (in-flight gauge, native histograms, naming preset: shared/metrics-options.ts) are shared.
  app.use(metricsMiddleware(exampleMetricsOptions()));

  const posts = new Router();
  posts.get('/posts/:postId', (ctx) =>
    send(ctx, postReply(ctx.params.userId ?? '', ctx.params.postId ?? '')),
  );
  posts.post('/posts', (ctx) => send(ctx, createPostReply(ctx.params.userId ?? '')));

  const users = new Router({ prefix: '/users' });
  users.get('/:userId', (ctx) => send(ctx, userReply(ctx.params.userId ?? '')));
  users.use('/:userId', posts.routes(), posts.allowedMethods());

  const root = new Router();
  root.get('/', (ctx) => send(ctx, indexReply()));
  root.get('/fail', (ctx) => send(ctx, failReply()));
  root.get('/delay', async (ctx) => send(ctx, await delayReply(ctx.query.ms)));

  app.use(root.routes());
  app.use(root.allowedMethods());
  app.use(users.routes());
  app.use(users.allowedMethods());
  return app;
}
