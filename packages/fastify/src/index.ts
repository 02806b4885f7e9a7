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
import type { ServerResponse } from 'node:http';
import {
  createMetricsRoute,
  elapsedSeconds,
  HttpInstrumentation,
  type HttpMetricsOptions,
  isSecure,
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
    /** `true` leaves the route's requests out (fastify-metrics' spelling, for migration). */
    disableMetrics?: boolean;
    /** The route's label instead of its URL template (fastify-metrics' option, for migration). */
    statsId?: string;
  }
}

/** Options of the plugin: the shared HTTP metrics options, typed for Fastify. */
export type FastifyMetricsOptions = HttpMetricsOptions<FastifyRequest, FastifyReply>;

/** Options of {@link metricsHandler}. */
export type FastifyMetricsHandlerOptions = MetricsRouteOptions<FastifyRequest>;

// Per-request state lives in request decorations holding primitives (Fastify's advice:
// decorate with a value of the final type so every request object has the same shape).
const kStart = Symbol('promfork.start');
const kRoute = Symbol('promfork.route');
/** On the raw response of a request being recorded: its reply, until it is recorded. */
const kReply = Symbol('promfork.reply');

interface InstrumentedRequest {
  /** Start time (a value of `now()` from @promfork/core). */
  [kStart]: number;
  /** The route template read at the start, or undefined for unmatched requests. */
  [kRoute]: string | undefined;
}

/** The raw response of a request being recorded. */
interface InstrumentedResponse extends ServerResponse {
  [kReply]?: FastifyReply | null;
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
 * {@link routeOf} for a route that opted out with `config: { metrics: false }` or
 * fastify-metrics' `config: { disableMetrics: true }`.
 */
const OPTED_OUT = null;

type MetricsConfig = { metrics?: unknown; disableMetrics?: unknown; statsId?: unknown } | undefined;

/** The route's label: its `config.statsId` when that is a non-empty string, else `url`. */
function labelOf(config: MetricsConfig, url: string | undefined): string | undefined {
  const id = config?.statsId;
  return typeof id === 'string' && id !== '' ? id : url;
}

function optedOut(config: MetricsConfig): boolean {
  return config !== undefined && (config.metrics === false || config.disableMetrics === true);
}

/**
 * The route template of a request (undefined when no route matched), or {@link OPTED_OUT}.
 * `routeOptions` exists from Fastify 4.10 and builds a new object on every read, so it is
 * read once; older versions expose `routerPath` and `routeConfig`.
 */
function routeOf(request: FastifyRequest): string | undefined | typeof OPTED_OUT {
  if (request.is404) return undefined;
  const options = (request as { routeOptions?: { url?: string; config?: MetricsConfig } })
    .routeOptions;
  if (options !== undefined) {
    return optedOut(options.config) ? OPTED_OUT : labelOf(options.config, options.url);
  }
  const legacy = request as unknown as { routerPath?: string; routeConfig?: MetricsConfig };
  return optedOut(legacy.routeConfig) ? OPTED_OUT : labelOf(legacy.routeConfig, legacy.routerPath);
}

/**
 * True when the response was sent completely, false when the client went away first.
 * `writableFinished` says so on a real socket; a response of `fastify.inject` writes into a
 * stand-in socket that is never drained, so there a response ended on a socket that was not
 * destroyed counts as sent.
 */
function sentCompletely(res: ServerResponse): boolean {
  return res.writableFinished || (res.writableEnded && res.socket?.destroyed === false);
}

/**
 * The plugin watches the raw response's `close` event rather than Fastify's `onResponse` and
 * `onRequestAbort` hooks: one listener (a shared function, no closure per request) sees both
 * ends of a request, `close` after `finish` for a complete response and alone for one the
 * client abandoned, as in the Express and Koa adapters. The hooks would cost Fastify two
 * listeners, two closures and two clock readings per request of its own.
 */
async function promforkPlugin(fastify: FastifyInstance, options: Record<string, unknown>) {
  const instrumentation = new HttpInstrumentation<FastifyRequest, FastifyReply>(
    ownOptions(options),
    '@promfork/fastify',
  );
  const { measuresRequestSize, measuresResponseSize, measuresScheme } = instrumentation;
  fastify.decorateRequest(kStart as unknown as string, -1);
  fastify.decorateRequest(kRoute as unknown as string, undefined);

  function onClose(this: InstrumentedResponse): void {
    const reply = this[kReply];
    if (reply === undefined || reply === null) return;
    this[kReply] = null; // record once, whatever else the response emits
    const request = reply.request;
    const state = request as unknown as InstrumentedRequest;
    instrumentation.record(
      {
        method: request.method,
        route: state[kRoute],
        statusCode: reply.statusCode,
        aborted: !sentCompletely(this),
        durationSeconds: elapsedSeconds(state[kStart]),
        requestLength: measuresRequestSize ? request.headers['content-length'] : undefined,
        responseLength: measuresResponseSize ? reply.getHeader('content-length') : undefined,
        secure: measuresScheme ? isSecure(request.raw) : undefined,
        request: request.raw,
      },
      request,
      reply,
    );
  }

  fastify.addHook('onRequest', (request, reply, done) => {
    const route = routeOf(request);
    if (route !== OPTED_OUT && !instrumentation.skip(request)) {
      const state = request as unknown as InstrumentedRequest;
      state[kRoute] = route;
      state[kStart] = instrumentation.start(request.raw);
      const raw = reply.raw as InstrumentedResponse;
      raw[kReply] = reply;
      raw.on('close', onClose);
    }
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
