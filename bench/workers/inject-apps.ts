/**
 * The worker of the `http.*.inject` scenarios: builds, in this one process, the same small app
 * once per variant and answers requests injected in-process (light-my-request for Express and
 * Koa, `fastify.inject` for Fastify), so no socket, kernel or load generator is in the figure.
 *
 * Variants: `bare` (no metrics), `floor` (the least any metrics middleware does: one shared
 * `close` listener per response, then next), `memory` and `file` (our adapter on a MemoryStore
 * and on a FileStore, each with its own registry), `interval` (our adapter on a FileStore with
 * the opt-in `flushIntervalMs: 100`), `peer` (the plugin users would pick instead). The app has three routes, one of them in a nested router, and the requests
 * alternate between a top-level route and the nested one.
 *
 * Protocol (IPC): sends `{ ready: true }` once every app is built; answers
 * `{ run, cycles, block }` with `{ run, perCycle }` (see {@link round}; every answer is checked
 * to be a 200), and `{ check: n }` with `{ check: n, error? }` after comparing our registries'
 * request counters with the requests sent.
 *
 * Each request is followed by a turn of the event loop (`setImmediate`) in every variant, so
 * the FileStore writes its changes once per request, as on a server taking one request per
 * turn; the cost of that turn falls on every variant alike and cancels in the differences.
 *
 * Usage: inject-apps.js <express|koa|fastify> <variant,variant,...>
 * PROMFORK_BENCH_MODULES, when set, is a node_modules directory to load @promfork/* from
 * (a copy of an earlier build, to measure a change against the code before it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Framework = 'express' | 'koa' | 'fastify';
type Variant = 'bare' | 'floor' | 'memory' | 'file' | 'interval' | 'peer';

/** The variants running our adapter. */
const OURS: ReadonlySet<Variant> = new Set(['memory', 'file', 'interval']);
/** The `flushIntervalMs` of the `interval` variant's FileStore. */
const FLUSH_INTERVAL_MS = 100;

/** One app as the harness drives it. */
interface App {
  /** Answers one request and resolves with its status code. */
  inject(url: string): Promise<number>;
  /** Our request counter's total for the app (undefined for apps without our metrics). */
  counted?(): Promise<number>;
}

const [framework, variantList] = process.argv.slice(2) as [Framework, string];
const variants = variantList.split(',') as Variant[];
const require = createRequire(import.meta.url);
const URLS = ['/users/42', '/shops/7/items/9'] as const;

/** The listener every floor variant adds: shared, so no closure per request. */
function noop(): void {}

type Core = typeof import('@promfork/core');

async function ourModule<T>(name: string): Promise<T> {
  const root = process.env.PROMFORK_BENCH_MODULES;
  if (root === undefined || root === '') return (await import(name)) as T;
  const entry = require.resolve(name, { paths: [root] });
  return (await import(pathToFileURL(entry).href)) as T;
}

const dirs: string[] = [];
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A registry whose metrics live on a fresh store of the variant's kind. */
async function ourRegistry(variant: Variant): Promise<InstanceType<Core['Registry']>> {
  const core = await ourModule<Core>('@promfork/core');
  if (variant === 'file' || variant === 'interval') {
    const base = process.env.PROMFORK_BENCH_SCRATCH || tmpdir();
    const dir = mkdtempSync(join(base, `promfork-bench-inject-${framework}-`));
    dirs.push(dir);
    const interval = variant === 'interval' ? { flushIntervalMs: FLUSH_INTERVAL_MS } : {};
    core.setDefaultStore(new core.FileStore({ dir, ...interval }));
  } else {
    core.setDefaultStore(new core.MemoryStore());
  }
  return new core.Registry();
}

async function countOf(registry: InstanceType<Core['Registry']>): Promise<number> {
  const text = await registry.metrics();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('http_requests_total{')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

type LightInject = (
  dispatch: unknown,
  options: { method: string; url: string },
) => Promise<{ statusCode: number }>;

async function expressApp(variant: Variant): Promise<App> {
  const { default: express } = await import('express');
  const { default: inject } = (await import('light-my-request')) as unknown as {
    default: LightInject;
  };
  const app = express();
  let registry: InstanceType<Core['Registry']> | undefined;
  if (variant === 'floor') {
    app.use((_req, res, next) => {
      res.on('close', noop);
      next();
    });
  } else if (OURS.has(variant)) {
    registry = await ourRegistry(variant);
    const { metricsMiddleware } =
      await ourModule<typeof import('@promfork/express')>('@promfork/express');
    app.use(metricsMiddleware({ registry }));
  } else if (variant === 'peer') {
    const { default: promBundle } = await import('express-prom-bundle');
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  }
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'user' });
  });
  const shop = express.Router({ mergeParams: true });
  shop.get('/items/:itemId', (req, res) => {
    res.json({ id: req.params.itemId, name: 'item' });
  });
  app.use('/shops/:shopId', shop);
  return {
    inject: async (url) => (await inject(app, { method: 'GET', url })).statusCode,
    counted: registry === undefined ? undefined : () => countOf(registry),
  };
}

async function koaApp(variant: Variant): Promise<App> {
  const { default: Koa } = await import('koa');
  const { default: Router } = await import('@koa/router');
  const { default: inject } = (await import('light-my-request')) as unknown as {
    default: LightInject;
  };
  const app = new Koa();
  let registry: InstanceType<Core['Registry']> | undefined;
  if (variant === 'floor') {
    app.use((ctx, next) => {
      ctx.res.on('close', noop);
      return next();
    });
  } else if (OURS.has(variant)) {
    registry = await ourRegistry(variant);
    const { metricsMiddleware } = await ourModule<typeof import('@promfork/koa')>('@promfork/koa');
    app.use(metricsMiddleware({ registry }));
  } else if (variant === 'peer') {
    // prometheus-api-metrics reads module.parent at load time, which only a CommonJS require sets.
    const { koaMiddleware } = require('prometheus-api-metrics') as {
      koaMiddleware: () => Parameters<typeof app.use>[0];
    };
    app.use(koaMiddleware());
  }
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = 'ok';
  });
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, name: 'user' };
  });
  const shop = new Router();
  shop.get('/items/:itemId', (ctx) => {
    ctx.body = { id: ctx.params.itemId, name: 'item' };
  });
  router.use('/shops/:shopId', shop.routes());
  app.use(router.routes());
  const callback = app.callback();
  return {
    inject: async (url) => (await inject(callback, { method: 'GET', url })).statusCode,
    counted: registry === undefined ? undefined : () => countOf(registry),
  };
}

async function fastifyApp(variant: Variant): Promise<App> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  let registry: InstanceType<Core['Registry']> | undefined;
  if (variant === 'floor') {
    app.addHook('onRequest', (_request, reply, done) => {
      (reply.raw as ServerResponse).on('close', noop);
      done();
    });
  } else if (OURS.has(variant)) {
    registry = await ourRegistry(variant);
    const { default: promfork } =
      await ourModule<typeof import('@promfork/fastify')>('@promfork/fastify');
    await app.register(promfork, { registry });
  } else if (variant === 'peer') {
    // fastify-metrics is CommonJS with `exports.default`: under ESM the plugin is one level down.
    const loaded = (await import('fastify-metrics')).default as unknown as {
      default: import('fastify').FastifyPluginAsync<Record<string, unknown>>;
    };
    await app.register(loaded.default, {
      endpoint: '/metrics',
      defaultMetrics: { enabled: false },
    });
  }
  app.get('/health', async () => 'ok');
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => ({
    id: request.params.id,
    name: 'user',
  }));
  await app.register(
    async (shop) => {
      shop.get<{ Params: { itemId: string } }>('/items/:itemId', async (request) => ({
        id: request.params.itemId,
        name: 'item',
      }));
    },
    { prefix: '/shops/:shopId' },
  );
  await app.ready();
  return {
    inject: async (url) => (await app.inject({ method: 'GET', url })).statusCode,
    counted: registry === undefined ? undefined : () => countOf(registry),
  };
}

function build(variant: Variant): Promise<App> {
  switch (framework) {
    case 'express':
      return expressApp(variant);
    case 'koa':
      return koaApp(variant);
    case 'fastify':
      return fastifyApp(variant);
    default:
      throw new Error(`inject-apps: unknown framework ${JSON.stringify(framework)}`);
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Injects `requests` requests into `app`, one per event-loop turn; throws on a non-200. */
async function drive(variant: Variant, app: App, requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) {
    const status = await app.inject(URLS[i & 1] as string);
    if (status !== 200) throw new Error(`inject-apps: ${variant} answered ${status}`);
    await turn();
  }
}

const apps = new Map<Variant, App>();
const sent = new Map<Variant, number>();
for (const variant of variants) apps.set(variant, await build(variant));

process.on('disconnect', () => process.exit(0));
/**
 * One round: `cycles` times, every variant answers `block` requests in turn (the order rotating
 * from cycle to cycle). Returns, per variant, the CPU time (µs per request) of each cycle.
 */
async function round(cycles: number, block: number, first: number): Promise<number[][]> {
  const perCycle: number[][] = variants.map(() => []);
  for (let c = 0; c < cycles; c++) {
    for (let k = 0; k < variants.length; k++) {
      const at = (first + c + k) % variants.length;
      const variant = variants[at] as Variant;
      const before = process.cpuUsage();
      await drive(variant, apps.get(variant) as App, block);
      const used = process.cpuUsage(before);
      perCycle[at]?.push((used.user + used.system) / block);
      sent.set(variant, (sent.get(variant) ?? 0) + block);
    }
  }
  return perCycle;
}

process.on('message', (message: unknown) => {
  const m = message as { run?: number; cycles?: number; block?: number; check?: number };
  if (typeof m.run === 'number') {
    round(m.cycles ?? 1, m.block ?? 1, m.run).then(
      (perCycle) => process.send?.({ run: m.run, perCycle }),
      (error: Error) => process.send?.({ run: m.run, error: error.message }),
    );
  } else if (typeof m.check === 'number') {
    void (async () => {
      for (const [variant, app] of apps) {
        if (app.counted === undefined) continue;
        const counted = await app.counted();
        if (counted !== (sent.get(variant) ?? 0)) {
          return `our ${variant} registry counted ${counted} requests, ${sent.get(variant) ?? 0} were sent`;
        }
      }
      return undefined;
    })().then((error) => process.send?.({ check: m.check, error }));
  }
});
process.send?.({ ready: true });
