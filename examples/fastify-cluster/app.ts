/**
 * The Fastify app each worker serves. The routes live in nested, prefixed plugins
 * (`/users`, then `/:userId` inside it); the metrics are labelled with Fastify's full route
 * template (`/users/:userId/posts/:postId`), read by @promfork/fastify from the route options.
 */
import promfork from '@promfork/fastify';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
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

type Params = Record<string, string | undefined>;

function send(reply: FastifyReply, result: Reply): FastifyReply {
  return reply.code(result.status).send(result.body);
}

async function postsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/posts/:postId', async (req, reply) => {
    const params = req.params as Params;
    return send(reply, postReply(params.userId ?? '', params.postId ?? ''));
  });
  app.post('/posts', async (req, reply) =>
    send(reply, createPostReply((req.params as Params).userId ?? '')),
  );
}

async function usersRoutes(app: FastifyInstance): Promise<void> {
  app.get('/:userId', async (req, reply) =>
    send(reply, userReply((req.params as Params).userId ?? '')),
  );
  await app.register(postsRoutes, { prefix: '/:userId' });
}

/** Builds the app (not yet listening): HTTP metrics for every route, plus GET /metrics. */
export async function createApp(): Promise<FastifyInstance> {
  const app = Fastify();
  app.addHook('onRequest', async (_req, reply) => {
    reply.header(SERVED_BY_HEADER, String(process.pid));
  });
  // The options (in-flight gauge, native histograms, naming preset: shared/metrics-options.ts) are
  // shared by the three examples.
  await app.register(promfork, exampleMetricsOptions());
  app.get('/', async (_req, reply) => send(reply, indexReply()));
  app.get('/fail', async (_req, reply) => send(reply, failReply()));
  app.get('/delay', async (req, reply) => send(reply, await delayReply((req.query as Params).ms)));
  await app.register(usersRoutes, { prefix: '/users' });
  return app;
}
