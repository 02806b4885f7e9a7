/**
 * Fastify plugin of promfork: `fastify.register(promfork, options)` records every request as
 * `http_requests_total` and `http_request_duration_seconds` labelled with the route's URL
 * template (`routeOptions.url`), and adds the metrics route as a normal Fastify route, so the
 * application's own hooks (authentication, rate limits) apply to it. Declared for Fastify 4
 * and 5 through fastify-plugin, so its hooks see every route of the instance it is registered on.
 *
 * A route opts out with `config: { metrics: false }`. Everything but timing and reading the
 * route lives in @promfork/core.
 */
import {
  createMetricsRoute,
  elapsedSeconds,
  HttpInstrumentation,
  type HttpMetricsOptions,
  type MetricsRoute,
  type MetricsRouteOptions,
} from '@promfork/core';
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
} from 'fastify';
import fastifyPlugin from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` leaves the route's requests out of the HTTP metrics. */
    metrics?: boolean;
  }
}

/** Options of the plugin: the shared HTTP metrics options, typed for Fastify. */
export type FastifyMetricsOptions = HttpMetricsOptions<FastifyRequest, FastifyReply>;

/** Options of {@link metricsHandler}. */
export type FastifyMetricsHandlerOptions = MetricsRouteOptions<FastifyRequest>;

// Per-request state lives in two request decorations holding primitives (Fastify's advice:
// decorate with a value of the final type so every request object has the same shape).
const kStart = Symbol('promfork.start');
const kRoute = Symbol('promfork.route');
const kReply = Symbol('promfork.reply');

interface InstrumentedRequest {
  /** Start time, or -1 when the request is not (or no longer) being recorded. */
  [kStart]: number;
  /** The route template read at the start, or undefined for unmatched requests. */
  [kRoute]: string | undefined;
  /** The request's reply, for `extraLabels` of aborted requests (the abort hook has none). */
  [kReply]: FastifyReply | null;
}

/** Keys Fastify itself reads from `register` options; they are not the plugin's. */
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

function ownOptions(options: Record<string, unknown>): FastifyMetricsOptions {
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!REGISTER_KEYS.has(key)) own[key] = options[key];
  }
  return own as FastifyMetricsOptions;
}

function handler(route: MetricsRoute<FastifyRequest>): RouteHandlerMethod {
  return async function promforkMetricsHandler(request, reply) {
    const headers = request.headers;
    const response = await route.handle({
      method: request.method,
      accept: headers.accept,
      acceptEncoding: headers['accept-encoding'],
      req: request,
    });
    reply.code(response.status).headers(response.headers);
    return response.body;
  };
}

/**
 * The route template and opt-out of a request. `routeOptions` exists from Fastify 4.10;
 * older versions expose `routerPath` and `routeConfig`.
 */
function routeOf(request: FastifyRequest): { url: string | undefined; off: boolean } {
  if (request.is404) return { url: undefined, off: false };
  const options = (request as { routeOptions?: { url?: string; config?: { metrics?: unknown } } })
    .routeOptions;
  if (options !== undefined) {
    return { url: options.url, off: options.config?.metrics === false };
  }
  const legacy = request as unknown as { routerPath?: string; routeConfig?: { metrics?: unknown } };
  return { url: legacy.routerPath, off: legacy.routeConfig?.metrics === false };
}

async function promforkPlugin(fastify: FastifyInstance, options: Record<string, unknown>) {
  const instrumentation = new HttpInstrumentation<FastifyRequest, FastifyReply>(
    ownOptions(options),
    '@promfork/fastify',
  );
  const { measuresRequestSize, measuresResponseSize } = instrumentation;
  fastify.decorateRequest(kStart as unknown as string, -1);
  fastify.decorateRequest(kRoute as unknown as string, undefined);
  fastify.decorateRequest(kReply as unknown as string, null);

  fastify.addHook('onRequest', (request, reply, done) => {
    const state = request as unknown as InstrumentedRequest;
    const { url, off } = routeOf(request);
    if (off || instrumentation.skip(request)) {
      state[kStart] = -1;
    } else {
      state[kRoute] = url;
      state[kReply] = reply;
      state[kStart] = instrumentation.start();
    }
    done();
  });

  function finish(request: FastifyRequest, aborted: boolean): void {
    const state = request as unknown as InstrumentedRequest;
    const start = state[kStart];
    const reply = state[kReply];
    if (start < 0 || reply === null) return;
    state[kStart] = -1; // an aborted request may still finish: record it once
    state[kReply] = null;
    instrumentation.record(
      {
        method: request.method,
        route: state[kRoute],
        statusCode: reply.statusCode,
        aborted,
        durationSeconds: elapsedSeconds(start),
        requestLength: measuresRequestSize ? request.headers['content-length'] : undefined,
        responseLength: measuresResponseSize ? reply.getHeader('content-length') : undefined,
      },
      request,
      reply,
    );
  }

  fastify.addHook('onResponse', (request, _reply, done) => {
    finish(request, false);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    finish(request, true);
    done();
  });

  const path = instrumentation.metricsPath;
  if (path !== false) {
    fastify.route({
      method: 'GET',
      url: path,
      config: { metrics: false },
      handler: handler(instrumentation.metricsRoute),
    });
  }
}

/**
 * The plugin: `await fastify.register(promfork, { ...options })`. Register it before your
 * routes. Throws InvalidOptionError (through `register`) for bad options; never throws into a
 * request.
 */
const promfork: FastifyPluginAsync<FastifyMetricsOptions> = fastifyPlugin(
  promforkPlugin as unknown as FastifyPluginAsync<FastifyMetricsOptions>,
  { fastify: '4.x || 5.x', name: '@promfork/fastify' },
);
export default promfork;

/**
 * A route handler answering `GET`/`HEAD` with the metrics of every process, for a route of
 * your own (another prefix, another instance): `admin.get('/prom', metricsHandler())`.
 * Throws InvalidOptionError for bad options.
 */
export function metricsHandler(options?: FastifyMetricsHandlerOptions): RouteHandlerMethod {
  return handler(createMetricsRoute<FastifyRequest>(options, 'metricsHandler'));
}

export { ABORTED_STATUS, OTHER_METHOD, UNMATCHED_ROUTE } from '@promfork/core';
