/**
 * Express adapter of promfork: `app.use(metricsMiddleware())` records every request as
 * `http_requests_total` and `http_request_duration_seconds` labelled with the route template
 * (`/users/:userId/posts/:postId`, exact through nested routers), and serves the merged
 * metrics at `/metrics`. Everything but timing and reading the route lives in @promfork/core.
 */
import {
  createMetricsRoute,
  elapsedSeconds,
  HttpInstrumentation,
  type HttpMetricsOptions,
  isSecure,
  type MetricsRouteOptions,
  serveNodeRequest,
} from '@promfork/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hookLayerClass } from './layer-hook.js';
import {
  hookRouter,
  kRouting,
  ROOT_FRAME,
  type RoutingState,
  templateAtEnd,
} from './mount-hook.js';

/** Options of {@link metricsMiddleware}: the shared HTTP metrics options, typed for Express. */
export type ExpressMetricsOptions = HttpMetricsOptions<Request, Response>;

/** Options of {@link metricsHandler}. */
export type ExpressMetricsHandlerOptions = MetricsRouteOptions<Request>;

interface InstrumentedRequest {
  [kRouting]?: RoutingState & { readonly start: number };
}

/** The router of an app, in Express 5 (`app.router`) or Express 4 (`app._router`). */
function routerOf(req: Request): unknown {
  const app = req.app as unknown as { router?: unknown; _router?: unknown };
  // Express 4's `app.router` is a getter that throws; read `_router` first.
  return app._router ?? app.router;
}

/**
 * Middleware that records every request passing through it and answers `GET`/`HEAD` on
 * `metricsPath` (default `/metrics`) with the metrics of every process. Register it before any
 * route or router (`app.use(metricsMiddleware())` first), so it sees every mount on the way in.
 * Throws InvalidOptionError for bad options; never throws into a request.
 */
export function metricsMiddleware(options?: ExpressMetricsOptions): RequestHandler {
  const instrumentation = new HttpInstrumentation<Request, Response>(options, 'metricsMiddleware');
  const { metricsRoute, onError, measuresRequestSize, measuresResponseSize, measuresScheme } =
    instrumentation;
  let hookedApp: unknown;

  function onClose(this: Response): void {
    const req = this.req as Request & InstrumentedRequest;
    const state = req[kRouting];
    if (state === undefined) return;
    let route: string | undefined;
    try {
      route = templateAtEnd(state, req);
    } catch (error) {
      onError(error as Error);
    }
    instrumentation.record(
      {
        method: req.method,
        route,
        statusCode: this.statusCode,
        aborted: !this.writableFinished,
        durationSeconds: elapsedSeconds(state.start),
        requestLength: measuresRequestSize ? req.headers['content-length'] : undefined,
        responseLength: measuresResponseSize ? this.getHeader('content-length') : undefined,
        secure: measuresScheme ? isSecure(req) : undefined,
        request: req,
      },
      req,
      this,
    );
  }

  return function promforkMetrics(req: Request, res: Response, next: NextFunction): void {
    if (instrumentation.isMetricsPath(req.url)) {
      serveNodeRequest(metricsRoute, req, res);
      return;
    }
    if (instrumentation.skip(req)) {
      next();
      return;
    }
    if (req.app !== hookedApp) {
      hookedApp = req.app;
      try {
        hookRouter(routerOf(req), hookLayerClass, onError);
      } catch (error) {
        onError(error as Error);
      }
    }
    (req as InstrumentedRequest)[kRouting] = {
      frame: ROOT_FRAME,
      route: undefined,
      fixedFor: undefined,
      report: onError,
      start: instrumentation.start(req),
    };
    res.on('close', onClose);
    next();
  };
}

/**
 * A handler answering `GET`/`HEAD` with the metrics of every process, to mount at any path
 * or on another app or port: `adminApp.get('/metrics', metricsHandler())`. Other methods get
 * 405, a denied `authorize` 403. Throws InvalidOptionError for bad options.
 */
export function metricsHandler(options?: ExpressMetricsHandlerOptions): RequestHandler {
  const route = createMetricsRoute<Request>(options, 'metricsHandler');
  return function promforkMetricsHandler(req: Request, res: Response): void {
    serveNodeRequest(route, req, res);
  };
}

export { ABORTED_STATUS, OTHER_METHOD, UNMATCHED_ROUTE } from '@promfork/core';
