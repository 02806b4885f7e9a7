/**
 * Naming presets of the HTTP metrics (`conventions` option): which metrics exist by default,
 * their names, label names, buckets and the few label values a convention fixes. A preset only
 * supplies defaults; every explicit option (`metricNames`, `labelNames`, `buckets`, `up`,
 * `inFlight`) still wins. Resolved once, when the instrumentation is created.
 */
import { DEFAULT_BUCKETS } from '../buckets.js';
import { UNMATCHED_ROUTE } from './route.js';

/** The naming presets. `'promfork'` is the default. */
export type HttpConventions = 'promfork' | 'opentelemetry' | 'express-prom-bundle';

/** Every preset name, for validation and docs. */
export const HTTP_CONVENTIONS: readonly HttpConventions[] = Object.freeze([
  'promfork',
  'opentelemetry',
  'express-prom-bundle',
]);

/**
 * Names of the HTTP metrics, before `metricPrefix`. `false` leaves a metric out (only the request
 * counter and the `both` summary can be left out this way; the others have their own switch).
 */
export interface HttpMetricNames {
  /** The request counter. `false`: none (the histogram's `_count` counts requests too). */
  readonly requestsTotal?: string | false;
  /** The latency histogram, and the summary when `latency` is `'summary'`. */
  readonly requestDuration?: string;
  /** The summary when `latency` is `'both'` (a histogram and a summary cannot share a name). */
  readonly requestDurationSummary?: string;
  /** The in-flight gauge (`inFlight: true`). */
  readonly requestsInFlight?: string;
  /** The request size histogram (`requestSize: true`). */
  readonly requestSize?: string;
  /** The response size histogram (`responseSize: true`). */
  readonly responseSize?: string;
  /** The `up` gauge (`up: true`). */
  readonly up?: string;
}

/** Names of the three labels every request carries. */
export interface HttpLabelNames {
  /** The request method label. */
  readonly method?: string;
  /** The route template label. */
  readonly route?: string;
  /** The status code label. */
  readonly statusCode?: string;
}

/** One preset, complete. */
export interface HttpConvention {
  readonly metricNames: {
    readonly [K in keyof HttpMetricNames]-?: K extends 'requestsTotal' ? string | false : string;
  };
  readonly labelNames: Required<HttpLabelNames>;
  readonly buckets: readonly number[];
  readonly up: boolean;
  readonly inFlight: boolean;
  /** The route label of requests that matched no route. */
  readonly unmatchedRoute: string;
  /**
   * OpenTelemetry's extra label rules: `url_scheme` and `error_type` labels, methods outside
   * {@link OTEL_METHODS} as `_OTHER`, an aborted request with no status and `error_type`
   * `aborted`.
   */
  readonly opentelemetry: boolean;
}

/** The methods OpenTelemetry's `http.request.method` keeps; any other becomes `_OTHER`. */
export const OTEL_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/** OpenTelemetry's `http.request.method` value of any other method. */
export const OTEL_OTHER_METHOD = '_OTHER';

/** The `error_type` value of a request whose client went away before the response ended. */
export const OTEL_ABORTED_ERROR = 'aborted';

/** Buckets the OpenTelemetry HTTP server duration histogram is specified with, in seconds. */
export const OTEL_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** express-prom-bundle's default buckets of `http_request_duration_seconds`. */
export const EXPRESS_PROM_BUNDLE_BUCKETS: readonly number[] = Object.freeze([
  0.003, 0.03, 0.1, 0.3, 1.5, 10,
]);

const PROMFORK: HttpConvention = {
  metricNames: {
    requestsTotal: 'http_requests_total',
    requestDuration: 'http_request_duration_seconds',
    requestDurationSummary: 'http_request_duration_quantiles_seconds',
    requestsInFlight: 'http_requests_in_flight',
    requestSize: 'http_request_size_bytes',
    responseSize: 'http_response_size_bytes',
    up: 'up',
  },
  labelNames: { method: 'method', route: 'route', statusCode: 'status_code' },
  buckets: DEFAULT_BUCKETS,
  // Prometheus records `up` for every target itself; an exposed `up` is opt-in (see docs).
  up: false,
  inFlight: false,
  unmatchedRoute: UNMATCHED_ROUTE,
  opentelemetry: false,
};

/** The presets by name. */
export const CONVENTIONS: Readonly<Record<HttpConventions, HttpConvention>> = Object.freeze({
  promfork: PROMFORK,
  opentelemetry: {
    metricNames: {
      // The convention has no counter: rate(http_server_request_duration_seconds_count).
      requestsTotal: false,
      requestDuration: 'http_server_request_duration_seconds',
      requestDurationSummary: 'http_server_request_duration_quantiles_seconds',
      requestsInFlight: 'http_server_active_requests',
      requestSize: 'http_server_request_body_size_bytes',
      responseSize: 'http_server_response_body_size_bytes',
      up: 'up',
    },
    labelNames: {
      method: 'http_request_method',
      route: 'http_route',
      statusCode: 'http_response_status_code',
    },
    buckets: OTEL_DURATION_BUCKETS,
    up: false,
    inFlight: true,
    // The convention leaves `http.route` unset when no route matched: an empty label.
    unmatchedRoute: '',
    opentelemetry: true,
  },
  'express-prom-bundle': {
    // express-prom-bundle counts requests with the histogram's `_count` only.
    metricNames: { ...PROMFORK.metricNames, requestsTotal: false },
    labelNames: { method: 'method', route: 'path', statusCode: 'status_code' },
    buckets: EXPRESS_PROM_BUNDLE_BUCKETS,
    up: true,
    inFlight: false,
    unmatchedRoute: UNMATCHED_ROUTE,
    opentelemetry: false,
  },
});

/** The label names OpenTelemetry adds after method, route and status. */
export const OTEL_EXTRA_LABELS: readonly string[] = Object.freeze(['url_scheme', 'error_type']);
