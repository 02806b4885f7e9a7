/**
 * Koa adapter of promfork: `app.use(metricsMiddleware())` records every request as
 * `http_requests_total` and `http_request_duration_seconds` labelled with @koa/router's
 * matched template (prefixes and nested routers included), and serves the merged metrics at
 * `/metrics`. Everything but timing and reading the route lives in @promfork/core.
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
  patternTemplate,
} from '@promfork/core';
import type { Context, Middleware, Next } from 'koa';

/** Options of {@link metricsMiddleware}; hooks receive the Koa context (`req` and `res` alike). */
export type KoaMetricsOptions = HttpMetricsOptions<Context, Context>;

/** Options of {@link metricsHandler}. */
export type KoaMetricsHandlerOptions = MetricsRouteOptions<Context>;

/** The fields @koa/router sets on the context of a matched request. */
interface RoutedContext {
  /** Template of the last matched route layer, prefixes included (`/users/:id`). */
  _matchedRoute?: unknown;
}

const kContext = Symbol('promfork.koa.context');
const kStart = Symbol('promfork.koa.start');

/** The per-request state the middleware keeps on the raw response for {@link onClose}. */
interface InstrumentedResponse extends ServerResponse {
  [kContext]?: Context | null;
  [kStart]?: number;
}

async function serve(route: MetricsRoute<Context>, ctx: Context): Promise<void> {
  const headers = ctx.request.headers;
  const response = await route.handle({
    method: ctx.method,
    accept: headers.accept,
    acceptEncoding: headers['accept-encoding'],
    req: ctx,
  });
  ctx.status = response.status;
  ctx.set(response.headers as Record<string, string>);
  ctx.body = response.body;
}

/**
 * Middleware that records every request passing through it and answers `GET`/`HEAD` on
 * `metricsPath` (default `/metrics`) with the metrics of every process. Register it first
 * (`app.use(metricsMiddleware())` before the router), so it times the whole request.
 * Throws InvalidOptionError for bad options; never throws into a request.
 */
export function metricsMiddleware(options?: KoaMetricsOptions): Middleware {
  const instrumentation = new HttpInstrumentation<Context, Context>(options, 'metricsMiddleware');
  const { metricsRoute, measuresRequestSize, measuresResponseSize, measuresScheme } =
    instrumentation;

  /** One listener for every response (no closure per request): the state is on `res`. */
  function onClose(this: InstrumentedResponse): void {
    const ctx = this[kContext];
    if (ctx === undefined || ctx === null) return;
    this[kContext] = null; // record once, whatever else the response emits
    instrumentation.record(
      {
        method: ctx.method,
        route: patternTemplate((ctx as RoutedContext)._matchedRoute),
        statusCode: this.statusCode,
        aborted: !this.writableFinished,
        durationSeconds: elapsedSeconds(this[kStart] ?? 0),
        requestLength: measuresRequestSize ? ctx.request.headers['content-length'] : undefined,
        responseLength: measuresResponseSize ? this.getHeader('content-length') : undefined,
        secure: measuresScheme ? isSecure(ctx.req) : undefined,
        request: ctx.req,
      },
      ctx,
      ctx,
    );
  }

  return function promforkMetrics(ctx: Context, next: Next): Promise<void> {
    if (instrumentation.isMetricsPath(ctx.url)) return serve(metricsRoute, ctx);
    if (instrumentation.skip(ctx)) return next();
    const res = ctx.res as InstrumentedResponse;
    res[kContext] = ctx;
    res[kStart] = instrumentation.start(ctx.req);
    // Recorded when the response is over (after Koa wrote it, errors included) or the client
    // went away: 'close' follows 'finish' for complete responses and comes alone for aborted.
    res.on('close', onClose);
    return next();
  };
}

/**
 * Middleware answering `GET`/`HEAD` with the metrics of every process, to mount at any path
 * or on another app: `router.get('/metrics', metricsHandler())`. Other methods get 405, a
 * denied `authorize` 403. Throws InvalidOptionError for bad options.
 */
export function metricsHandler(options?: KoaMetricsHandlerOptions): Middleware {
  const route = createMetricsRoute<Context>(options, 'metricsHandler');
  return function promforkMetricsHandler(ctx: Context): Promise<void> {
    return serve(route, ctx);
  };
}

export { ABORTED_STATUS, OTHER_METHOD, UNMATCHED_ROUTE } from '@promfork/core';
