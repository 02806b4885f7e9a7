/** The adapter conformance suite, run against @promfork/fastify with Fastify 4 and 5. */
import promfork, { metricsHandler } from '@promfork/fastify';
import fastify5, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastify4 from 'fastify4';
import {
  type AdapterDriver,
  type RunningApp,
  runAdapterConformance,
} from './adapter-conformance.js';

const never = () => new Promise<never>(() => {});

async function listen(app: FastifyInstance): Promise<RunningApp> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { server: app.server, close: () => app.close() };
}

function driver(
  name: string,
  factory: typeof fastify5,
): AdapterDriver<FastifyRequest, FastifyReply> {
  return {
    name,
    headers: (request) => request.headers,
    answersItself: { brokenEscape: 400, postMetrics: 404 },
    start: async (options, hooks = {}) => {
      const app = factory();
      app.addHook('onRequest', (request, reply, done) => {
        hooks.before?.(request.raw.headers, reply);
        done();
      });
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
      app.get('/health', async () => 'ok');
      app.get('/items/:id', async (_request, reply) => {
        reply.code(201);
        return 'item';
      });
      app.post('/echo', async () => 'echo');
      app.get('/slow/:id', async () => {
        hooks.entered?.();
        await never();
      });
      return listen(app);
    },
    startAdmin: async (options) => listen(factory().get('/prom', metricsHandler(options))),
  };
}

runAdapterConformance(driver('Fastify 4', fastify4));
runAdapterConformance(driver('Fastify 5', fastify5));
