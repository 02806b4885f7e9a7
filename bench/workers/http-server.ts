/**
 * The server of the `http.*.added_cpu` scenarios: one small app on 127.0.0.1 (a free port),
 * in one of three variants — `bare` (no metrics), `ours` (the promfork adapter) or `peer` (the
 * plugin users would pick instead) — answering `GET /users/:id` with a small JSON body.
 * Reports `{ ready: true, port }` over IPC once listening; exits when the parent disconnects.
 * Answers `{ cpu: n }` with `{ cpu: n, micros }`: the CPU time (user + system, all threads,
 * microsecond resolution) this process has used so far, from `process.cpuUsage()`.
 *
 * Usage: http-server.js <express|koa|fastify> <bare|ours|peer>
 * `ours` uses the store chosen by PROMETHEUS_MULTIPROC_DIR (the runner sets it: FileStore).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';

type Framework = 'express' | 'koa' | 'fastify';
type Variant = 'bare' | 'ours' | 'peer';

const [framework, variant] = process.argv.slice(2) as [Framework, Variant];
const HOST = '127.0.0.1';

async function expressListener(): Promise<RequestListener> {
  const { default: express } = await import('express');
  const app = express();
  if (variant === 'ours') {
    const { metricsMiddleware } = await import('@promfork/express');
    app.use(metricsMiddleware());
  } else if (variant === 'peer') {
    const { default: promBundle } = await import('express-prom-bundle');
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  }
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'user' });
  });
  return app as unknown as RequestListener;
}

async function koaListener(): Promise<RequestListener> {
  const { default: Koa } = await import('koa');
  const { default: Router } = await import('@koa/router');
  const app = new Koa();
  if (variant === 'ours') {
    const { metricsMiddleware } = await import('@promfork/koa');
    app.use(metricsMiddleware());
  } else if (variant === 'peer') {
    // prometheus-api-metrics reads module.parent at load time, which only a CommonJS require sets.
    const require = createRequire(import.meta.url);
    const { koaMiddleware } = require('prometheus-api-metrics') as {
      koaMiddleware: () => Parameters<typeof app.use>[0];
    };
    app.use(koaMiddleware());
  }
  const router = new Router();
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, name: 'user' };
  });
  app.use(router.routes());
  return app.callback() as RequestListener;
}

async function listen(listener: RequestListener): Promise<number> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function fastifyPort(): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (variant === 'ours') {
    const { default: promfork } = await import('@promfork/fastify');
    await app.register(promfork);
  } else if (variant === 'peer') {
    // fastify-metrics is CommonJS with `exports.default`: under ESM the plugin is one level down.
    const loaded = (await import('fastify-metrics')).default as unknown as {
      default: FastifyPluginAsync<Record<string, unknown>>;
    };
    // Default process metrics off: the scenario measures per-request instrumentation.
    await app.register(loaded.default, {
      endpoint: '/metrics',
      defaultMetrics: { enabled: false },
    });
  }
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => ({
    id: request.params.id,
    name: 'user',
  }));
  await app.listen({ port: 0, host: HOST });
  return (app.server.address() as AddressInfo).port;
}

async function start(): Promise<number> {
  switch (framework) {
    case 'express':
      return listen(await expressListener());
    case 'koa':
      return listen(await koaListener());
    case 'fastify':
      return fastifyPort();
    default:
      throw new Error(`http-server: unknown framework ${JSON.stringify(framework)}`);
  }
}

if (!['bare', 'ours', 'peer'].includes(variant)) {
  throw new Error(`http-server: unknown variant ${JSON.stringify(variant)}`);
}
const port = await start();
process.on('disconnect', () => process.exit(0));
process.on('message', (message: unknown) => {
  const cpu = (message as { cpu?: unknown } | null)?.cpu;
  if (typeof cpu !== 'number') return;
  const usage = process.cpuUsage();
  process.send?.({ cpu, micros: usage.user + usage.system });
});
process.send?.({ ready: true, port });
